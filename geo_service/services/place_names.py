"""Reading place names: search by Chinese text, pinyin and near spellings; one name with its history."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import i18n
from geo_service.db import raw, versions
from geo_service.db.models import PLACE_NAME_CATEGORIES, PLACE_NAME_STATUSES
from geo_service.db.sql import Sql, compose, join, json_object
from geo_service.domain import naming_warnings
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.domain.naming_rules import unknown_category
from geo_service.domain.romanize import normalise_query, pinyin_key
from geo_service.i18n import t
from geo_service.services import feature_properties
from geo_service.services.geojson import feature, feature_collection
from geo_service.services.keys import Caller
from geo_service.services.lru import LRU

_HAN = re.compile(r"[\u3400-\u9fff]")

APPROVED_PLACES = feature_properties.APPROVED_PLACES
PROTECTED = feature_properties.PROTECTED
_MINIMAL = feature_properties.PLACE_NAME_MINIMAL
_PUBLIC = feature_properties.PLACE_NAME_PUBLIC
_STAFF = feature_properties.PLACE_NAME_STAFF


def properties_sql(caller: Caller | None, extra: Sql = Sql("")) -> Sql:
    """The properties (JSON text) ``caller`` may read; a surveyor's view of a row depends on who proposed it
    (the bound parameter ``viewer``)."""
    if caller is None:
        return compose("{json}::text", json=json_object(_PUBLIC, extra))
    if caller.has("reviewer"):
        return compose("{json}::text", json=json_object(_STAFF, extra))
    return compose(
        "(CASE WHEN t.proposed_by = :viewer THEN {staff} WHEN {approved} THEN {public} ELSE {minimal} END)::text",
        staff=json_object(_STAFF, extra),
        approved=APPROVED_PLACES,
        public=json_object(_PUBLIC, extra),
        minimal=json_object(_MINIMAL, extra),
    )


def _view_key(caller: Caller | None) -> Any:
    if caller is None:
        return "public"
    return "staff" if caller.has("reviewer") else ("surveyor", caller.name)


# Score: exact > prefix > substring, in characters or in pinyin (homophones included), then trigram similarity.
_SEARCH = """
SELECT t.id, ST_AsGeoJSON(t.geom, 7), {props}
FROM place_names t,
LATERAL (SELECT greatest(
    CASE WHEN t.name = :q THEN 1.0 WHEN t.name LIKE :q_prefix THEN 0.9 WHEN t.name LIKE :q_like THEN 0.8 ELSE 0 END,
    CASE WHEN :qk = '' THEN 0 WHEN t.pinyin_key = :qk THEN 0.95 WHEN t.pinyin_key LIKE :qk_prefix THEN 0.85
         WHEN t.pinyin_key LIKE :qk_like THEN 0.75 ELSE 0 END,
    similarity(t.name, :q) * 0.7,
    CASE WHEN :qk = '' THEN 0 ELSE similarity(t.pinyin_key, :qk) * 0.7 END) AS score) s
WHERE {where}
  AND (t.name LIKE :q_like OR t.name % :q OR (:qk <> '' AND (t.pinyin_key LIKE :qk_like OR t.pinyin_key % :qk)))
ORDER BY s.score DESC, t.id
LIMIT :limit OFFSET :offset
"""
_LIST = """
SELECT t.id, ST_AsGeoJSON(t.geom, 7), {props} FROM place_names t WHERE {where} ORDER BY {order}
LIMIT :limit OFFSET :offset
"""
#: Orders of a list (a search without ``sort`` is best match first).
SORTS = {
    "created": "t.created_at, t.id",
    "-created": "t.created_at DESC, t.id DESC",
    "distance": "ST_Distance(t.geom::geography, {point}::geography), t.id",
}
_POINT = Sql("ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), 4326)")
#: The filters on one column's value (the bound parameter of the same name).
_EQUALS = {
    "district": Sql("t.district_code = :district"),
    "category": Sql("t.category = :category"),
    "proposed_by": Sql("t.proposed_by = :proposed_by"),
}
#: Metres in a degree of latitude, at least (a degree of longitude is this times cos(latitude) at most).
_METRES_PER_DEGREE = 110_000


@dataclass(frozen=True)
class PlaceNameQuery:
    """What a list of place names asks for: a search, the review queue's filters, a page."""

    q: str | None = None
    division: str | None = None  # any division code: the names in it
    district: str | None = None  # a district code
    category: str | None = None
    statuses: tuple[str, ...] | None = None  # None: approved places (every status with ``mine``)
    proposed_by: str | None = None
    since: dt.date | None = None  # created on or after
    sort: str | None = None  # None: best match first with ``q``, else oldest first
    mine: str | None = None  # the caller's name: its own proposals only
    near: tuple[float, float] | None = None  # WGS84 lon, lat
    radius_m: float = 1000.0
    limit: int = 50
    offset: int = 0


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    conn: AsyncConnection, query: PlaceNameQuery, crs: str, caller: Caller | None = None
) -> dict[str, Any]:
    """FeatureCollection of place names matching ``query``: best match first with ``q``, else in ``sort`` order.

    Without a caller (the public), approved names only, public properties only. Answers are kept per query,
    view, language and place-name data version (every write bumps it), in each process.
    """
    version = await versions.version_of(conn, "place_names")
    # The language is in the key: warnings are worded in the reader's.
    key = (conn.engine.url, version, query, crs, _view_key(caller), i18n.language())
    answer = _answers.get(key)
    if answer is None:
        answer = await _search(conn, query, crs, caller)
        _answers.put(key, answer)
    return answer


_answers: LRU[tuple[Any, ...], dict[str, Any]] = LRU(1024)


def _status_filter(query: PlaceNameQuery, params: dict[str, Any]) -> Sql | None:
    """Approved places (an approved rename lives on in its place) and proposals in the other statuses asked for;
    with ``mine``, one's own proposals as they are."""
    if query.statuses is None:
        return None if query.mine else APPROVED_PLACES
    for status in query.statuses:
        if status not in PLACE_NAME_STATUSES:
            raise InvalidInput(
                t(
                    "unknown status {status!r}: use one of {known}",
                    status=status,
                    known=", ".join(PLACE_NAME_STATUSES),
                )
            )
    params["statuses"] = list(query.statuses)
    if query.mine or "approved" not in query.statuses:
        return Sql("t.status = ANY(:statuses)")
    return compose("(({approved}) OR t.status = ANY(:statuses))", approved=APPROVED_PLACES)


def _near(query: PlaceNameQuery, params: dict[str, Any]) -> Sql:
    """Within ``radius_m`` (geodesic) of the point: a box first (the spatial index), then the exact distance."""
    lon, lat = query.near or (0.0, 0.0)
    params.update(
        near_lon=lon,
        near_lat=lat,
        near_r=query.radius_m,
        near_deg=query.radius_m / (_METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01)),
    )
    return compose(
        "t.geom && ST_Expand({point}, :near_deg) AND ST_DWithin(t.geom::geography, {point}::geography, :near_r)",
        point=_POINT,
    )


async def _search(
    conn: AsyncConnection, query: PlaceNameQuery, crs: str, caller: Caller | None
) -> dict[str, Any]:
    if query.category is not None and query.category not in PLACE_NAME_CATEGORIES:
        why = unknown_category(query.category)
        raise InvalidInput(why)
    if query.sort is not None and query.sort not in SORTS:
        raise InvalidInput(
            t("unknown sort {sort!r}: use one of {known}", sort=query.sort, known=", ".join(SORTS))
        )
    if query.sort == "distance" and query.near is None:
        raise InvalidInput(t("sort=distance needs near=lon,lat"))
    params: dict[str, Any] = {
        "limit": query.limit,
        "offset": query.offset,
        "viewer": caller.name if caller else None,
    }
    where = [w for w in [_status_filter(query, params)] if w]
    if caller is None:
        where = [APPROVED_PLACES]  # the API refuses other statuses without credentials; this is the backstop
    if query.mine:
        where.append(Sql("t.proposed_by = :mine"))
        params["mine"] = query.mine
    if query.division:
        where.append(Sql("t.division_code LIKE :division"))
        params["division"] = _escape_like(query.division) + "%"
    for column, condition in _EQUALS.items():
        value = getattr(query, column)
        if value:
            where.append(condition)
            params[column] = value
    if query.since:
        where.append(Sql("t.created_at >= CAST(:since AS date)"))
        params["since"] = query.since
    extra = Sql("")
    if query.near:
        where.append(_near(query, params))
        extra = compose(
            ", 'distance_m', round(CAST(ST_Distance(t.geom::geography, {point}::geography) AS numeric), 1)",
            point=_POINT,
        )
    if not where:
        where = [Sql("true")]
    text_query = (query.q or "").strip()
    if text_query and query.sort is None:
        key = pinyin_key(text_query) if _HAN.search(text_query) else normalise_query(text_query)
        params.update(
            q=text_query,
            q_like=f"%{_escape_like(text_query)}%",
            q_prefix=f"{_escape_like(text_query)}%",
            qk=key,
            qk_like=f"%{_escape_like(key)}%" if key else "",
            qk_prefix=f"{_escape_like(key)}%",
        )
        score = compose("{extra}, 'score', round(CAST(s.score AS numeric), 3)", extra=extra)
        sql = compose(_SEARCH, props=properties_sql(caller, score), where=join(" AND ", where))
    else:
        if text_query:  # a sorted search: every name matching the text in characters or pinyin, in that order
            key = pinyin_key(text_query) if _HAN.search(text_query) else normalise_query(text_query)
            params.update(
                q_like=f"%{_escape_like(text_query)}%", qk_like=f"%{_escape_like(key)}%" if key else ""
            )
            where.append(Sql("(t.name LIKE :q_like OR (:qk_like <> '' AND t.pinyin_key LIKE :qk_like))"))
        order = compose(SORTS[query.sort or "created"], point=_POINT)
        sql = compose(_LIST, props=properties_sql(caller, extra), where=join(" AND ", where), order=order)
    rows = [
        (r[0], r[1], naming_warnings.shown_in_properties(r[2]))
        for r in await raw.fetch_named(conn, sql, params)
    ]
    return feature_collection(rows, crs, {"numberReturned": len(rows)})


async def get(
    conn: AsyncConnection, place_name_id: int, crs: str, caller: Caller | None = None
) -> dict[str, Any]:
    """One place name with its history (earlier names and the dates they were valid).

    The public reads approved names only (404 otherwise), without staff fields; the reasons typed for renames
    are for reviewers and up."""
    visible = Sql("true") if caller is not None else APPROVED_PLACES
    row = (
        await conn.execute(
            text(
                compose(
                    "SELECT t.id, ST_AsGeoJSON(t.geom, 7), {props} FROM place_names t WHERE t.id = :id AND {visible}",
                    props=properties_sql(caller),
                    visible=visible,
                )
            ),
            {"id": place_name_id, "viewer": caller.name if caller else None},
        )
    ).first()
    if row is None:
        raise NotFound(t("no place name {id}", id=place_name_id))
    props = orjson.loads(row[2])
    if props.keys() == _MINIMAL.keys():  # another's proposal, seen by a surveyor: nothing more
        return feature(row[0], row[1], row[2], crs)
    history = (
        await conn.execute(
            text(
                "SELECT name, pinyin, valid_from, valid_to, reason FROM place_name_history "
                "WHERE place_name_id = :id ORDER BY valid_to NULLS LAST, id"
            ),
            {"id": place_name_id},
        )
    ).all()
    if "warnings" in props:
        props["warnings"] = naming_warnings.shown(props["warnings"])
    staff = caller is not None and caller.has("reviewer")
    props["history"] = [
        {
            "name": h[0],
            "pinyin": h[1],
            "valid_from": h[2],
            "valid_to": h[3],
            **({"reason": h[4]} if staff else {}),
        }
        for h in history
    ]
    return feature(row[0], row[1], orjson.dumps(props).decode(), crs)
