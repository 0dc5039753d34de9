"""Reading place names: search by Chinese text, pinyin and near spellings; one name with its history."""

from __future__ import annotations

import re
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw, versions
from geo_service.db.models import PLACE_NAME_CATEGORIES, PLACE_NAME_STATUSES
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.domain.romanize import normalise_query, pinyin_key
from geo_service.services import attachments
from geo_service.services.geojson import feature, feature_collection
from geo_service.services.keys import Caller
from geo_service.services.lru import LRU

_HAN = re.compile(r"[\u3400-\u9fff]")

#: The place names the public sees: approved ones. An approved rename proposal is not one: it lives on in the
#: place it renamed.
APPROVED_PLACES = "t.status = 'approved' AND t.rename_of IS NULL"
#: Protection belongs to the place: kept across renames (the flag), or its current name is on the list.
PROTECTED = "(t.protected OR EXISTS (SELECT 1 FROM protected_names pn WHERE pn.name = t.name))"

#: What anyone may read of another's proposal: enough to see a conflict (id and geometry besides).
_MINIMAL = {"name": "t.name", "status": "t.status", "category": "t.category"}
#: What the public reads of an approved name.
_PUBLIC = {
    "name": "t.name", "pinyin": "t.pinyin", "category": "t.category", "specific": "t.specific",
    "generic": "t.generic", "status": "t.status", "division_code": "t.division_code",
    "district_code": "t.district_code", "origin": "t.origin", "protected": PROTECTED,
    "approved_on": "t.approved_on", "version": "t.version", "geometry_source": "t.geometry_source",
}  # fmt: skip
#: What staff read (reviewers and up; a surveyor on its own proposals): who, notes, reasons, comments.
_STAFF = {
    **_PUBLIC, "note": "t.note", "rename_of": "t.rename_of", "warnings": "t.warnings",
    "justification": "t.justification", "proposed_by": "t.proposed_by", "reviewed_by": "t.reviewed_by",
    "review_comment": "t.review_comment", "attachment_ids": attachments.ids_sql("place_name", "t.id"),
}  # fmt: skip


def _json(fields: dict[str, str], extra: str) -> str:
    pairs = ", ".join(f"'{name}', {expr}" for name, expr in fields.items())
    return f"json_build_object({pairs}{extra})"


def properties_sql(caller: Caller | None, extra: str = "") -> str:
    """The properties (JSON text) ``caller`` may read; a surveyor's view of a row depends on who proposed it
    (the bound parameter ``viewer``)."""
    if caller is None:
        return _json(_PUBLIC, extra) + "::text"
    if caller.has("reviewer"):
        return _json(_STAFF, extra) + "::text"
    return (f"(CASE WHEN t.proposed_by = :viewer THEN {_json(_STAFF, extra)} WHEN {APPROVED_PLACES} "
            f"THEN {_json(_PUBLIC, extra)} ELSE {_json(_MINIMAL, extra)} END)::text")  # fmt: skip


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
SELECT t.id, ST_AsGeoJSON(t.geom, 7), {props} FROM place_names t WHERE {where} ORDER BY t.id
LIMIT :limit OFFSET :offset
"""


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    conn: AsyncConnection,
    q: str | None,
    division: str | None,
    category: str | None,
    status: str,
    limit: int,
    offset: int,
    crs: str,
    caller: Caller | None = None,
) -> dict[str, Any]:
    """FeatureCollection of place names matching ``q`` (best first), or all in id order without ``q``.

    Without a caller (the public), approved names only, public properties only. Answers are kept per query,
    view and place-name data version (every write bumps it), in each process.
    """
    version = await versions.version_of(conn, "place_names")
    key = (conn.engine.url, version, q, division, category, status, limit, offset, crs, _view_key(caller))
    answer = _answers.get(key)
    if answer is None:
        answer = await _search(conn, q, division, category, status, limit, offset, crs, caller)
        _answers.put(key, answer)
    return answer


_answers: LRU[tuple[Any, ...], dict[str, Any]] = LRU(1024)


async def _search(
    conn: AsyncConnection,
    q: str | None,
    division: str | None,
    category: str | None,
    status: str,
    limit: int,
    offset: int,
    crs: str,
    caller: Caller | None,
) -> dict[str, Any]:
    if category is not None and category not in PLACE_NAME_CATEGORIES:
        raise InvalidInput(f"unknown category {category!r}: use one of {', '.join(PLACE_NAME_CATEGORIES)}")
    if status not in PLACE_NAME_STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(PLACE_NAME_STATUSES)}")
    where = ["t.status = :status"]
    if status == "approved" or caller is None:
        where = [APPROVED_PLACES]
    params: dict[str, Any] = {"status": status, "limit": limit, "offset": offset,
                              "viewer": caller.name if caller else None}  # fmt: skip
    if division:
        where.append("t.division_code LIKE :division")
        params["division"] = _escape_like(division) + "%"
    if category:
        where.append("t.category = :category")
        params["category"] = category
    query = (q or "").strip()
    if query:
        key = pinyin_key(query) if _HAN.search(query) else normalise_query(query)
        params.update(
            q=query, q_like=f"%{_escape_like(query)}%", q_prefix=f"{_escape_like(query)}%",
            qk=key, qk_like=f"%{_escape_like(key)}%" if key else "", qk_prefix=f"{_escape_like(key)}%",
        )  # fmt: skip
        sql = _SEARCH.format(props=properties_sql(caller, ", 'score', round(CAST(s.score AS numeric), 3)"),
                             where=" AND ".join(where))  # fmt: skip
    else:
        sql = _LIST.format(props=properties_sql(caller), where=" AND ".join(where))
    rows = await raw.fetch_named(conn, sql, params)
    return feature_collection(rows, crs, {"numberReturned": len(rows)})


async def get(
    conn: AsyncConnection, place_name_id: int, crs: str, caller: Caller | None = None
) -> dict[str, Any]:
    """One place name with its history (earlier names and the dates they were valid).

    The public reads approved names only (404 otherwise), without staff fields; the reasons typed for renames
    are for reviewers and up."""
    visible = "" if caller is not None else f" AND {APPROVED_PLACES}"
    row = (
        await conn.execute(
            text(f"SELECT t.id, ST_AsGeoJSON(t.geom, 7), {properties_sql(caller)} FROM place_names t "
                 f"WHERE t.id = :id{visible}"),
            {"id": place_name_id, "viewer": caller.name if caller else None},
        )
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"no place name {place_name_id}")
    props = orjson.loads(row[2])
    if props.keys() == _MINIMAL.keys():  # another's proposal, seen by a surveyor: nothing more
        return feature(row[0], row[1], row[2], crs)
    history = (
        await conn.execute(
            text("SELECT name, pinyin, valid_from, valid_to, reason FROM place_name_history "
                 "WHERE place_name_id = :id ORDER BY valid_to NULLS LAST, id"),
            {"id": place_name_id},
        )
    ).all()  # fmt: skip
    staff = caller is not None and caller.has("reviewer")
    props["history"] = [
        {"name": h[0], "pinyin": h[1], "valid_from": h[2], "valid_to": h[3], **({"reason": h[4]} if staff else {})}
        for h in history
    ]  # fmt: skip
    return feature(row[0], row[1], orjson.dumps(props).decode(), crs)
