"""Reading features of a collection: bbox, property equality filters, keyset or offset pages, one feature.

GeoJSON is built in the database (``ST_AsGeoJSON``, ``json_build_object``); pages after the first follow
the last one's cursor (keyset), so a deep page costs what the first does. No COUNT(*) per request (counts are
kept per data version: feature_counts.py). Pages are in id order, except for small boxes on point tables with a
grid (facilities), which are in (grid cell, id) order: the order their index keeps (``db/point_grid.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import point_grid, raw
from geo_service.domain.digits import ascii_digits, ascii_int
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.i18n import t
from geo_service.services import feature_counts
from geo_service.services.collections import Collection
from geo_service.services.geojson import feature, features

#: The geometry as GeoJSON (WGS84, lon/lat, 7 decimals: about a centimetre).
GEOMETRY_SQL = "ST_AsGeoJSON(t.geom, 7)"
#: Boxes on grid tables touching at most this many cells (0.08° square) are paged through the grid index.
GRID_MOST_CELLS = 1024


@dataclass
class Page:
    """One page of features."""

    features: list[dict[str, Any]]
    next_after: str | None  # keyset cursor of the next page; None on the last page (or when paged by offset)
    number_matched: int | None  # known only when cheap: see services/feature_counts.py
    next_offset: int | None = None  # the next page's offset, for sorted pages (their order has no keyset)


def _filters(coll: Collection, filters: dict[str, str], params: dict[str, Any]) -> list[str]:
    clauses = []
    for i, (name, value) in enumerate(sorted(filters.items())):
        if name not in coll.properties:
            known = ", ".join(coll.properties)
            raise InvalidInput(
                t(
                    "unknown parameter {name!r} for collection {collection}: filter on one of {known}",
                    name=name,
                    collection=coll.id,
                    known=known,
                )
            )
        params[f"f{i}"] = value
        clauses.append(f"CAST({coll.properties[name]} AS text) = :f{i}")
    return clauses


def parse_sortby(coll: Collection, value: str | None) -> list[tuple[str, bool]]:
    """``sortby=+name,-population`` as (property, descending) pairs; InvalidInput for a name not queryable."""
    if not value:
        return []
    keys = []
    for part in value.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        name, _, direction = name.partition(" ")  # "name DESC" as some clients write it
        if direction.strip().upper() in ("DESC", "D"):
            descending = True
        if name not in coll.properties:
            raise InvalidInput(
                t(
                    "sortby names {name!r}, not a property of {collection}: one of {known}",
                    name=name,
                    collection=coll.id,
                    known=", ".join(coll.properties),
                )
            )
        keys.append((name, descending))
    return keys


def parse_id(coll: Collection, value: str) -> int | str | None:
    """A feature id as the collection stores it, or None when it cannot be one."""
    if coll.numeric_id:
        return ascii_int(value, 18)
    return value


async def page(
    conn: AsyncConnection,
    coll: Collection,
    crs: str,
    limit: int,
    offset: int = 0,
    after: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    filters: dict[str, str] | None = None,
    extra_where: str | None = None,
    extra_params: dict[str, Any] | None = None,
    sortby: list[tuple[str, bool]] | None = None,
    geometry_sql: str = GEOMETRY_SQL,
) -> Page:
    """A page of the collection's features in id order, or (cell, id) order for a small box on a grid table.

    ``extra_where``: a further SQL condition (a CQL2 filter); ``sortby``: properties to order by (then id),
    paged by offset; ``geometry_sql``: the geometry's GeoJSON as SQL (another CRS or axis order).
    """
    params: dict[str, Any] = {**coll.params, **(extra_params or {}), "limit": limit + 1}
    where = [coll.where, *_filters(coll, filters or {}, params)]
    if extra_where:
        where.append(extra_where)
    cells = point_grid.cells_covering(bbox, GRID_MOST_CELLS) if bbox and coll.grid and not sortby else None
    if bbox:
        # Parameters, so that one prepared statement serves every box; how small the box is decides the SQL
        # (below), not the planner.
        params.update(zip(("minx", "miny", "maxx", "maxy"), (float(v) for v in bbox), strict=True))
        if coll.grid:  # exact on the stored coordinates (&& alone compares float4-rounded boxes)
            where.append("t.lon BETWEEN :minx AND :maxx AND t.lat BETWEEN :miny AND :maxy")
    if cells is not None:
        result = await _grid_page(
            conn, coll, crs, limit, offset, after, cells, list(where), params, geometry_sql
        )
        return await _with_count(conn, coll, result, after, where, params)
    if bbox:
        envelope = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"
        where.append(f"t.geom && {envelope}" if coll.grid else f"ST_Intersects(t.geom, {envelope})")
    select = f"SELECT {coll.id_sql}, {geometry_sql}, {coll.properties_json_sql}"
    if sortby:
        if after is not None:
            raise InvalidInput(t("a sorted page is paged by offset: follow its next link (no 'after')"))
        order = ", ".join(
            f"{coll.properties[name]} {'DESC NULLS LAST' if desc else 'ASC NULLS FIRST'}"
            for name, desc in sortby
        )
        sql = (
            f"{select} FROM {coll.table} t WHERE {' AND '.join(where)} "
            f"ORDER BY {order}, {coll.id_sql} LIMIT :limit{_skip(offset, params)}"
        )
        rows = await raw.fetch_named(conn, sql, params)
        result = _page_of(rows, limit, offset, None, crs, lambda last: "")
        if result.next_after is not None:
            result.next_after, result.next_offset = None, offset + limit
        return await _with_count(conn, coll, result, after, where, params)
    counted = list(where)
    if after is not None:
        cursor = parse_id(coll, after)
        if cursor is None:
            raise InvalidInput(t("'after' must be a feature id of {collection}", collection=coll.id))
        where.append(f"{coll.id_sql} > :after")
        params["after"] = cursor
    if bbox and await _small_box(conn, coll, bbox):
        # A small box holds few features: find them through the spatial index, then order and page them.
        # Ordering by an expression of the id keeps the planner from walking the id index instead and testing
        # every feature against the box; the columns are read for the page's features only.
        id_col = coll.id_sql.removeprefix("t.")
        unindexed = f"{coll.id_sql} + 0" if coll.numeric_id else f"{coll.id_sql} || ''"
        sql = (
            f"WITH page AS (SELECT {coll.id_sql} AS fid FROM {coll.table} t WHERE {' AND '.join(where)} "
            f"ORDER BY {unindexed} LIMIT :limit{_skip(offset, params)}) "
            f"{select} FROM page JOIN {coll.table} t ON t.{id_col} = page.fid ORDER BY {coll.id_sql}"
        )
    else:
        sql = (
            f"{select} FROM {coll.table} t WHERE {' AND '.join(where)} "
            f"ORDER BY {coll.id_sql} LIMIT :limit{_skip(offset, params)}"
        )
    rows = await raw.fetch_named(conn, sql, params)
    result = _page_of(rows, limit, offset, after, crs, lambda last: str(last[0]))
    return await _with_count(conn, coll, result, after, counted, params)


async def _with_count(
    conn: AsyncConnection,
    coll: Collection,
    result: Page,
    after: str | None,
    where: list[str],
    params: dict[str, Any],
) -> Page:
    """The page with ``numberMatched`` on a first page (or an offset page) that has more after it, when cheap."""
    more = result.next_after is not None or result.next_offset is not None
    if result.number_matched is None and more and after is None:
        result.number_matched = await feature_counts.matched(conn, coll, " AND ".join(where), params)
    return result


def _page_of(
    rows: list[Any], limit: int, offset: int, after: str | None, crs: str, cursor: Callable[[Any], str]
) -> Page:
    """The page from up to ``limit + 1`` rows (one more means a next page, whose cursor the last row gives)."""
    more = len(rows) > limit
    rows = rows[:limit]
    matched = offset + len(rows) if not more and after is None else None
    return Page(features(rows, crs), cursor(rows[-1]) if more and rows else None, matched)


def _skip(offset: int, params: dict[str, Any]) -> str:
    """The OFFSET clause, only when there is one: with ``OFFSET $n`` the planner's generic plan assumes a
    tenth of the rows skipped, prefers planning every execution anew, and that costs more than the query."""
    if not offset:
        return ""
    params["offset"] = offset
    return " OFFSET :offset"


async def _grid_page(
    conn: AsyncConnection,
    coll: Collection,
    crs: str,
    limit: int,
    offset: int,
    after: str | None,
    cells: list[int],
    where: list[str],
    params: dict[str, Any],
    geometry_sql: str,
) -> Page:
    """A page of a small box on a grid table, in (cell, id) order: a few btree entries per cell, no sort.

    The keyset cursor is ``<cell>-<id>`` of the page's last feature.
    """
    params["cells"] = cells
    if after is not None:
        cell, _, fid = after.partition("-")
        if not (ascii_digits(cell, 18) and ascii_digits(fid, 18)):
            raise InvalidInput(
                t("'after' must be the cursor of a next link of this box ({collection})", collection=coll.id)
            )
        where.append(f"(t.grid_cell, {coll.id_sql}) > (:after_cell, :after_id)")
        params.update(after_cell=int(cell), after_id=int(fid))
    id_col = coll.id_sql.removeprefix("t.")
    sql = (
        f"WITH page AS (SELECT t.grid_cell AS cell, {coll.id_sql} AS fid FROM {coll.table} t "
        f"WHERE t.grid_cell = ANY(:cells) AND {' AND '.join(where)} "
        f"ORDER BY t.grid_cell, {coll.id_sql} LIMIT :limit{_skip(offset, params)}) "
        f"SELECT {coll.id_sql}, {geometry_sql}, {coll.properties_json_sql}, page.cell "
        f"FROM page JOIN {coll.table} t ON t.{id_col} = page.fid ORDER BY page.cell, page.fid"
    )
    rows = await raw.fetch_named(conn, sql, params)
    return _page_of(rows, limit, offset, after, crs, lambda last: f"{last[3]}-{last[0]}")


async def _small_box(
    conn: AsyncConnection, coll: Collection, bbox: tuple[float, float, float, float]
) -> bool:
    """Whether a box covers under 5 % of the collection's extent."""
    full = await cached_extent(conn, coll)
    if not full:
        return True
    full_area = max((full[2] - full[0]) * (full[3] - full[1]), 1e-12)
    return (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]) < 0.05 * full_area


async def one(
    conn: AsyncConnection, coll: Collection, feature_id: str, crs: str, geometry_sql: str = GEOMETRY_SQL
) -> dict[str, Any]:
    """One feature by id; NotFound when the collection has no such feature."""
    fid = parse_id(coll, feature_id)
    row = None
    if fid is not None:
        sql = (
            f"SELECT {coll.id_sql}, {geometry_sql}, {coll.properties_json_sql} FROM {coll.table} t "
            f"WHERE {coll.where} AND {coll.id_sql} = :fid"
        )
        found = await raw.fetch_named(conn, sql, {**coll.params, "fid": fid})
        row = found[0] if found else None
    if row is None:
        raise NotFound(t("no feature {id!r} in collection {collection}", id=feature_id, collection=coll.id))
    return feature(row[0], row[1], row[2], crs)


_extents: dict[tuple[int, URL, str], tuple[float, list[float] | None]] = {}
_refreshing: dict[tuple[int, URL, str], asyncio.Future[None]] = {}
EXTENT_TTL_S = 60.0


async def cached_extent(conn: AsyncConnection, coll: Collection) -> list[float] | None:
    """The collection's extent, at most a minute old; one query at a time computes it.

    Over a million features the aggregate takes a second: while it runs, other requests wait for it (the
    first time) or take the previous extent (afterwards), instead of each starting the same aggregate.
    """
    key = (id(asyncio.get_running_loop()), conn.engine.url, coll.id)
    while True:
        cached = _extents.get(key)
        if cached is not None and time.monotonic() - cached[0] < EXTENT_TTL_S:
            return cached[1]
        running = _refreshing.get(key)
        if running is None:
            break
        if cached is not None:
            return cached[1]
        await asyncio.wait([running])  # then read the cache again (or compute, if that query failed)
    done = _refreshing[key] = asyncio.get_running_loop().create_future()
    try:
        value = await extent(conn, coll)
        _extents[key] = (time.monotonic(), value)
    finally:
        del _refreshing[key]
        done.set_result(None)
    return value


async def extent(conn: AsyncConnection, coll: Collection) -> list[float] | None:
    """The collection's bounding box in WGS84, or None when it is empty."""
    row = (
        await conn.execute(
            text(
                f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                f"(SELECT ST_Extent(t.geom) AS e FROM {coll.table} t WHERE {coll.where}) s"
            ),
            coll.params,
        )
    ).one()
    return [round(float(v), 7) for v in row] if row[0] is not None else None
