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
from geo_service.services.geojson import feature, feature_collection
from geo_service.services.lru import LRU

_HAN = re.compile(r"[\u3400-\u9fff]")

PROPERTIES = (
    "json_build_object('name', t.name, 'pinyin', t.pinyin, 'category', t.category, 'specific', t.specific, "
    "'generic', t.generic, 'status', t.status, 'division_code', t.division_code, "
    "'district_code', t.district_code, 'origin', t.origin, 'note', t.note, 'protected', t.protected, "
    "'rename_of', t.rename_of, 'approved_on', t.approved_on, 'version', t.version, "
    "'geometry_source', t.geometry_source, 'warnings', t.warnings, 'justification', t.justification, "
    "'proposed_by', t.proposed_by, 'reviewed_by', t.reviewed_by{extra})::text"
)

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
) -> dict[str, Any]:
    """FeatureCollection of place names matching ``q`` (best first), or all in id order without ``q``.

    Answers are kept per query and place-name data version (every write bumps it), in each process.
    """
    version = await versions.version_of(conn, "place_names")
    key = (conn.engine.url, version, q, division, category, status, limit, offset, crs)
    answer = _answers.get(key)
    if answer is None:
        answer = await _search(conn, q, division, category, status, limit, offset, crs)
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
) -> dict[str, Any]:
    if category is not None and category not in PLACE_NAME_CATEGORIES:
        raise InvalidInput(f"unknown category {category!r}: use one of {', '.join(PLACE_NAME_CATEGORIES)}")
    if status not in PLACE_NAME_STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(PLACE_NAME_STATUSES)}")
    where = ["t.status = :status"]
    if status == "approved":
        where.append("t.rename_of IS NULL")  # an applied rename lives on in the renamed place itself
    params: dict[str, Any] = {"status": status, "limit": limit, "offset": offset}
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
        sql = _SEARCH.format(props=PROPERTIES.format(extra=", 'score', round(CAST(s.score AS numeric), 3)"),
                             where=" AND ".join(where))  # fmt: skip
    else:
        sql = _LIST.format(props=PROPERTIES.format(extra=""), where=" AND ".join(where))
    rows = await raw.fetch_named(conn, sql, params)
    return feature_collection(rows, crs, {"numberReturned": len(rows)})


async def get(conn: AsyncConnection, place_name_id: int, crs: str) -> dict[str, Any]:
    """One place name with its history (earlier names and the dates they were valid)."""
    row = (
        await conn.execute(
            text(
                f"SELECT t.id, ST_AsGeoJSON(t.geom, 7), {PROPERTIES.format(extra='')} FROM place_names t "
                "WHERE t.id = :id"
            ),
            {"id": place_name_id},
        )
    ).first()
    if row is None:
        raise NotFound(f"no place name {place_name_id}")
    history = (
        await conn.execute(
            text(
                "SELECT name, pinyin, valid_from, valid_to, reason FROM place_name_history "
                "WHERE place_name_id = :id ORDER BY valid_to NULLS LAST, id"
            ),
            {"id": place_name_id},
        )
    ).all()
    props = orjson.loads(row[2])
    props["history"] = [
        {"name": h[0], "pinyin": h[1], "valid_from": h[2], "valid_to": h[3], "reason": h[4]} for h in history
    ]
    return feature(row[0], row[1], orjson.dumps(props).decode(), crs)
