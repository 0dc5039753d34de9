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
from geo_service.db.sql import Sql, compose, ident, join
from geo_service.domain.digits import ascii_digits, ascii_int
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.i18n import t
from geo_service.services import feature_counts
from geo_service.services.collections import Collection
from geo_service.services.geojson import feature, features

#: The geometry as GeoJSON (WGS84, lon/lat, 7 decimals: about a centimetre).
GEOMETRY_SQL = Sql("ST_AsGeoJSON(t.geom, 7)")
#: Boxes on grid tables touching at most this many cells (0.08° square) are paged through the grid index.
GRID_MOST_CELLS = 1024
_ENVELOPE = Sql("ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
_IN_BOX = Sql("ST_Intersects(t.geom, {box})")
_IN_GRID_BOX = Sql("t.geom && {box}")
_IN_GRID_COORDINATES = Sql("t.lon BETWEEN :minx AND :maxx AND t.lat BETWEEN :miny AND :maxy")
_DIRECTIONS = {True: Sql("DESC NULLS LAST"), False: Sql("ASC NULLS FIRST")}
_UNINDEXED_NUMBER = Sql("{id} + 0")
_UNINDEXED_TEXT = Sql("{id} || ''")


@dataclass
class Page:
    """One page of features."""

    features: list[dict[str, Any]]
    next_after: str | None  # keyset cursor of the next page; None on the last page (or when paged by offset)
    number_matched: int | None  # known only when cheap: see services/feature_counts.py
    next_offset: int | None = None  # the next page's offset, for sorted pages (their order has no keyset)


def _filters(coll: Collection, filters: dict[str, str], params: dict[str, Any]) -> list[Sql]:
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
        clauses.append(compose("CAST({expr} AS text) = :f{i}", expr=coll.properties[name], i=i))
    return clauses


def parse_sortby(coll: Collection, value: str | None) -> list[tuple[str, bool]]:
    """``sortby=+name,-population`` as (property, descending) pairs; InvalidInput for a name not queryable."""
    if not value:
        return []
    keys = []
    for part in value.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = (part[1:] if part[:1] in ("+", "-") else part).strip()  # one sign: "++name" names no property
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
    if coll.table == "divisions":  # a division's id is its code: 6, 9 or 12 digits
        return value if ascii_digits(value, 12) else None
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
    extra_where: Sql | None = None,
    extra_params: dict[str, Any] | None = None,
    sortby: list[tuple[str, bool]] | None = None,
    geometry_sql: Sql = GEOMETRY_SQL,
) -> Page:
    """A page of the collection's features in id order, or (cell, id) order for a small box on a grid table.

    ``extra_where``: a further SQL condition (a CQL2 filter); ``sortby``: properties to order by (then id),
    paged by offset; ``geometry_sql``: the geometry's GeoJSON as SQL (another CRS or axis order).
    """
    params: dict[str, Any] = {**coll.params, **(extra_params or {}), "limit": limit + 1}
    where = _conditions(coll, filters or {}, extra_where, bbox, params)
    cells = point_grid.cells_covering(bbox, GRID_MOST_CELLS) if bbox and coll.grid and not sortby else None
    if cells is not None:
        result = await _grid_page(
            conn, coll, crs, limit, offset, after, cells, list(where), params, geometry_sql
        )
        return await _with_count(conn, coll, result, after, where, params)
    if bbox:
        where.append(compose(_IN_GRID_BOX if coll.grid else _IN_BOX, box=_ENVELOPE))
    select = _select(coll, geometry_sql)
    if sortby:
        result = await _sorted_page(conn, coll, crs, limit, offset, after, sortby, select, where, params)
        return await _with_count(conn, coll, result, after, where, params)
    counted = list(where)
    if after is not None:
        cursor = parse_id(coll, after)
        if cursor is None:
            raise InvalidInput(t("'after' must be a feature id of {collection}", collection=coll.id))
        where.append(compose("{id} > :after", id=_id(coll)))
        params["after"] = cursor
    small = bbox is not None and await _small_box(conn, coll, bbox)
    plan = _small_box_sql if small else _id_order_sql
    rows = await raw.fetch_named(conn, plan(coll, select, where, _skip(offset, params)), params)
    result = _page_of(rows, limit, offset, after, crs, lambda last: str(last[0]))
    return await _with_count(conn, coll, result, after, counted, params)


def _conditions(
    coll: Collection,
    filters: dict[str, str],
    extra_where: Sql | None,
    bbox: tuple[float, float, float, float] | None,
    params: dict[str, Any],
) -> list[Sql]:
    """The conditions every plan shares: the collection's own, property filters, the request's, and the box
    on a grid table's stored coordinates (the box's values are bound here)."""
    where = [Sql(coll.where), *_filters(coll, filters, params)]
    if extra_where:
        where.append(extra_where)
    if bbox:
        # Parameters, so that one prepared statement serves every box; how small the box is decides the SQL
        # (in page), not the planner.
        params.update(zip(("minx", "miny", "maxx", "maxy"), (float(v) for v in bbox), strict=True))
        if coll.grid:  # exact on the stored coordinates (&& alone compares float4-rounded boxes)
            where.append(_IN_GRID_COORDINATES)
    return where


def _id(coll: Collection) -> Sql:
    """The collection's id expression (``t.id``, ``t.code``)."""
    return Sql(coll.id_sql)


def _select(coll: Collection, geometry_sql: Sql) -> Sql:
    """``SELECT`` of a feature's id, GeoJSON geometry and properties (JSON text)."""
    return compose(
        "SELECT {id}, {geometry}, {props}",
        id=_id(coll),
        geometry=geometry_sql,
        props=Sql(coll.properties_json_sql),
    )


async def _sorted_page(
    conn: AsyncConnection,
    coll: Collection,
    crs: str,
    limit: int,
    offset: int,
    after: str | None,
    sortby: list[tuple[str, bool]],
    select: Sql,
    where: list[Sql],
    params: dict[str, Any],
) -> Page:
    """A page ordered by properties (then id), paged by offset: its order has no keyset."""
    if after is not None:
        raise InvalidInput(t("a sorted page is paged by offset: follow its next link (no 'after')"))
    order = join(
        ", ",
        (
            compose("{expr} {direction}", expr=coll.properties[name], direction=_DIRECTIONS[desc])
            for name, desc in sortby
        ),
    )
    sql = compose(
        "{select} FROM {table} t WHERE {where} ORDER BY {order}, {id} LIMIT :limit{skip}",
        select=select,
        table=ident(coll.table),
        where=join(" AND ", where),
        order=order,
        id=_id(coll),
        skip=_skip(offset, params),
    )
    rows = await raw.fetch_named(conn, sql, params)
    result = _page_of(rows, limit, offset, None, crs, lambda last: "")
    if result.next_after is not None:
        result.next_after, result.next_offset = None, offset + limit
    return result


def _id_order_sql(coll: Collection, select: Sql, where: list[Sql], skip: Sql) -> Sql:
    """A page in id order through the id index."""
    return compose(
        "{select} FROM {table} t WHERE {where} ORDER BY {id} LIMIT :limit{skip}",
        select=select,
        table=ident(coll.table),
        where=join(" AND ", where),
        id=_id(coll),
        skip=skip,
    )


def _small_box_sql(coll: Collection, select: Sql, where: list[Sql], skip: Sql) -> Sql:
    """A page of a small box: its few features found through the spatial index, then ordered and paged.

    Ordering by an expression of the id keeps the planner from walking the id index instead and testing every
    feature against the box; the columns are read for the page's features only.
    """
    unindexed = _UNINDEXED_NUMBER if coll.numeric_id else _UNINDEXED_TEXT
    return compose(
        "WITH page AS (SELECT {id} AS fid FROM {table} t WHERE {where} ORDER BY {unindexed} "
        "LIMIT :limit{skip}) {select} FROM page JOIN {table} t ON t.{id_col} = page.fid ORDER BY {id}",
        id=_id(coll),
        table=ident(coll.table),
        where=join(" AND ", where),
        unindexed=compose(unindexed, id=_id(coll)),
        skip=skip,
        select=select,
        id_col=ident(coll.id_sql.removeprefix("t.")),
    )


async def _with_count(
    conn: AsyncConnection,
    coll: Collection,
    result: Page,
    after: str | None,
    where: list[Sql],
    params: dict[str, Any],
) -> Page:
    """The page with ``numberMatched`` on a first page (or an offset page) that has more after it, when cheap."""
    more = result.next_after is not None or result.next_offset is not None
    if result.number_matched is None and more and after is None:
        result.number_matched = await feature_counts.matched(conn, coll, join(" AND ", where), params)
    return result


def _page_of(
    rows: list[Any], limit: int, offset: int, after: str | None, crs: str, cursor: Callable[[Any], str]
) -> Page:
    """The page from up to ``limit + 1`` rows (one more means a next page, whose cursor the last row gives)."""
    more = len(rows) > limit
    rows = rows[:limit]
    matched = offset + len(rows) if not more and after is None else None
    return Page(features(rows, crs), cursor(rows[-1]) if more and rows else None, matched)


def _skip(offset: int, params: dict[str, Any]) -> Sql:
    """The OFFSET clause, only when there is one: with ``OFFSET $n`` the planner's generic plan assumes a
    tenth of the rows skipped, prefers planning every execution anew, and that costs more than the query."""
    if not offset:
        return Sql("")
    params["offset"] = offset
    return Sql(" OFFSET :offset")


async def _grid_page(
    conn: AsyncConnection,
    coll: Collection,
    crs: str,
    limit: int,
    offset: int,
    after: str | None,
    cells: list[int],
    where: list[Sql],
    params: dict[str, Any],
    geometry_sql: Sql,
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
        where.append(compose("(t.grid_cell, {id}) > (:after_cell, :after_id)", id=_id(coll)))
        params.update(after_cell=int(cell), after_id=int(fid))
    sql = compose(
        "WITH page AS (SELECT t.grid_cell AS cell, {id} AS fid FROM {table} t "
        "WHERE t.grid_cell = ANY(:cells) AND {where} ORDER BY t.grid_cell, {id} LIMIT :limit{skip}) "
        "{select}, page.cell FROM page JOIN {table} t ON t.{id_col} = page.fid ORDER BY page.cell, page.fid",
        id=_id(coll),
        table=ident(coll.table),
        where=join(" AND ", where),
        skip=_skip(offset, params),
        select=_select(coll, geometry_sql),
        id_col=ident(coll.id_sql.removeprefix("t.")),
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
    conn: AsyncConnection, coll: Collection, feature_id: str, crs: str, geometry_sql: Sql = GEOMETRY_SQL
) -> dict[str, Any]:
    """One feature by id; NotFound when the collection has no such feature."""
    fid = parse_id(coll, feature_id)
    row = None
    if fid is not None:
        sql = compose(
            "{select} FROM {table} t WHERE {where} AND {id} = :fid",
            select=_select(coll, geometry_sql),
            table=ident(coll.table),
            where=Sql(coll.where),
            id=_id(coll),
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
                compose(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_Extent(t.geom) AS e FROM {table} t WHERE {where}) s",
                    table=ident(coll.table),
                    where=Sql(coll.where),
                )
            ),
            coll.params,
        )
    ).one()
    return [round(float(v), 7) for v in row] if row[0] is not None else None
