"""Vector tiles (OGC API – Tiles, Mapbox Vector Tile) of the collections, made by PostGIS (``ST_AsMVT``).

Tiles are in WebMercatorQuad (EPSG:3857; zoom z, row y from the north, column x). A tile is kept per data
version (the database's triggers move it on every write, db/versions.py), so a map panning over unchanged data
is served from memory. Below ``POINT_DETAIL_ZOOM`` (15) a point layer with a grid (facilities) is drawn one
feature per grid cell (about 250 m) with a ``count``: a tile of a million facilities stays a few hundred KB.
Lines and polygons are simplified to a tenth of the tile's pixel before they are clipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw, versions
from geo_service.db.sql import Sql, alias, compose, ident, join
from geo_service.domain.errors import NotFound
from geo_service.i18n import t
from geo_service.services import feature_counts
from geo_service.services.collections import Collection
from geo_service.services.lru import LRU

TILE_MATRIX_SET = "WebMercatorQuad"
TILE_MATRIX_SET_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 20
#: From this zoom on, point layers carry every point with its properties; below, one per grid cell.
POINT_DETAIL_ZOOM = 15
EXTENT = 4096  # MVT coordinate units per tile side
_WORLD_M = 2 * math.pi * 6378137.0

_tiles: LRU[tuple[Any, ...], bytes] = LRU(4096)


def check_tile(z: int, y: int, x: int) -> None:
    """NotFound for a tile outside WebMercatorQuad's matrices (zoom 0–MAX_ZOOM, rows and columns within)."""
    if not 0 <= z <= MAX_ZOOM:
        raise NotFound(
            t(
                "no tile matrix {z} in {matrix_set}: zoom levels are 0 to {max_zoom}",
                z=z,
                matrix_set=TILE_MATRIX_SET,
                max_zoom=MAX_ZOOM,
            )
        )
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(
            t(
                "tile matrix {z} has rows and columns 0 to {last}, not row {y}, column {x}",
                z=z,
                last=2**z - 1,
                y=y,
                x=x,
            )
        )


_ENVELOPE = Sql("ST_TileEnvelope(:z, :x, :y)")
_IN_TILE = compose("t.geom && ST_Transform({envelope}, 4326)", envelope=_ENVELOPE)
#: A layer from its rows (``mvt_geom`` and attributes); ``feature_id`` names the column of numeric ids.
_LAYER = Sql(
    "SELECT ST_AsMVT(m.*, :layer, {extent}, 'mvt_geom'{feature_id}) FROM ({rows}) m WHERE m.mvt_geom IS NOT NULL"
)


def _layer_sql(coll: Collection, z: int) -> Sql:
    """The statement making one layer of a tile (parameters :z, :x, :y and the collection's own)."""
    if coll.grid and z < POINT_DETAIL_ZOOM:
        return compose(_LAYER, extent=EXTENT, feature_id=Sql(""), rows=_cell_rows(coll))
    feature_id = Sql(", 'mvt_id'" if coll.numeric_id else "")
    return compose(_LAYER, extent=EXTENT, feature_id=feature_id, rows=_feature_rows(coll, z))


def _cell_rows(coll: Collection) -> Sql:
    """One feature per grid cell: its points' mean position and how many there are."""
    return compose(
        "SELECT ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(avg(t.lon), avg(t.lat)), 4326), 3857), "
        "{envelope}, {extent}, 64, true) AS mvt_geom, count(*) AS count "
        "FROM {table} t WHERE {where} AND {in_tile} GROUP BY t.grid_cell",
        envelope=_ENVELOPE,
        extent=EXTENT,
        table=ident(coll.table),
        where=Sql(coll.where),
        in_tile=_IN_TILE,
    )


def _feature_rows(coll: Collection, z: int) -> Sql:
    """Every feature in the tile with its id and properties (attributes named as the properties)."""
    columns = join(
        ", ",
        (compose("{expr} AS {name}", expr=expr, name=alias(name)) for name, expr in coll.properties.items()),
    )
    fid = compose("{id} AS mvt_id" if coll.numeric_id else "{id} AS id", id=Sql(coll.id_sql))
    geom = Sql("ST_Transform(t.geom, 3857)")
    if not coll.grid:  # lines and polygons: a tenth of a pixel is detail no one sees
        geom = compose("ST_Simplify({geom}, {tolerance})", geom=geom, tolerance=_WORLD_M / 2**z / EXTENT / 10)
    return compose(
        "SELECT ST_AsMVTGeom({geom}, {envelope}, {extent}, 64, true) AS mvt_geom, {fid}, {columns} "
        "FROM {table} t WHERE {where} AND {in_tile}",
        geom=geom,
        envelope=_ENVELOPE,
        extent=EXTENT,
        fid=fid,
        columns=columns,
        table=ident(coll.table),
        where=Sql(coll.where),
        in_tile=_IN_TILE,
    )


async def _versions(conn: AsyncConnection, colls: Sequence[Collection]) -> tuple[int, ...]:
    names = [feature_counts.data_set(c) or "" for c in colls]
    found = await versions.versions_of(conn, *{n for n in names if n})
    return tuple(found.get(n, -1) for n in names)


async def tile(conn: AsyncConnection, colls: Sequence[Collection], z: int, y: int, x: int) -> bytes:
    """The MVT tile z/y/x with one layer per collection (named by its id); empty bytes when nothing is there."""
    check_tile(z, y, x)
    # What a layer shows (its rows and properties) is in the key: two callers may see one collection differently.
    shown = tuple((c.id, c.where, c.properties_json_sql, tuple(c.params.items())) for c in colls)
    key = (str(conn.engine.url), shown, z, y, x, await _versions(conn, colls))
    found = _tiles.get(key)
    if found is not None:
        return found
    layers = []
    for coll in colls:
        params = {**coll.params, "z": z, "x": x, "y": y, "layer": coll.id}
        rows = await raw.fetch_named(conn, _layer_sql(coll, z), params)
        layers.append(bytes(rows[0][0] or b""))
    made = b"".join(layers)
    _tiles.put(key, made)
    return made


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (row, column) of the tile holding a point at zoom z."""
    n = 2**z
    col = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    row = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(row, 0), n - 1), min(max(col, 0), n - 1)
