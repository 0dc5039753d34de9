"""``numberMatched`` where it is cheap: exact counts on tables of modest size, kept per data version.

GIS clients (GDAL's OAPIF driver, QGIS) read ``numberMatched`` from the first page; without it they walk every
page just to count. A count is computed once per query and data version (the database's triggers move the
version on every write, db/versions.py), so repeating a query costs one version lookup.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw, versions
from geo_service.db.sql import Sql, compose, ident
from geo_service.services.collections import Collection
from geo_service.services.lru import LRU

#: Tables with more rows than this (by the planner's estimate) get no count: it would cost a scan.
COUNT_MAX_ROWS = 200_000
#: The data set whose version a table's rows follow (facilities: one per type, below).
_DATA_SETS = {
    "divisions": "divisions",
    "boundary_lines": "boundaries",
    "boundary_markers": "boundaries",
    "place_names": "place_names",
    "place_name_signs": "signs",
}
_SIZE_TTL_S = 60.0

_counts: LRU[tuple[Any, ...], int] = LRU(1024)
_sizes: dict[tuple[str, str], tuple[float, float]] = {}


def data_set(coll: Collection) -> str | None:
    """The data set whose version changes when the collection's features do (None: not known)."""
    if coll.table == "facilities":
        code = coll.params.get("ftype")
        return versions.facility_type(code) if code else "facilities"
    return _DATA_SETS.get(coll.table)


async def _modest(conn: AsyncConnection, table: str) -> bool:
    key = (str(conn.engine.url), table)
    cached = _sizes.get(key)
    if cached is None or time.monotonic() - cached[0] > _SIZE_TTL_S:
        rows = await raw.fetch(conn, "SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)", table)
        cached = _sizes[key] = (time.monotonic(), float(rows[0][0]) if rows else float("inf"))
    return cached[1] <= COUNT_MAX_ROWS


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


async def matched(conn: AsyncConnection, coll: Collection, where: str, params: dict[str, Any]) -> int | None:
    """How many of the collection's features meet ``where`` (an SQL condition on ``t``), or None if not cheap."""
    name = data_set(coll)
    if name is None or not await _modest(conn, coll.table):  # the size is kept a minute: no query mostly
        return None
    version = await versions.version_of(conn, name)
    count_sql = compose(
        "SELECT count(*) FROM {table} t WHERE {where}", table=ident(coll.table), where=Sql(where)
    )
    sql, args = raw.positional(count_sql, params)
    key = (conn.engine.url, version, sql, tuple(_frozen(a) for a in args))
    count = _counts.get(key)
    if count is None:
        count = int((await raw.fetch(conn, sql, *args))[0][0])
        _counts.put(key, count)
    return count
