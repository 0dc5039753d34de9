"""The k nearest active facilities of a type to a point, by true geodesic distance.

KNN on geometry(4326) (``<->``) is planar in degrees: at 23°N a degree of longitude is ~8% shorter than one
of latitude, so its order is not the geodesic order. So the index only proposes candidates: the n = 2k+10
planar-nearest. Their geodesic distances (pyproj ``Geod``, Karney's algorithm on WGS84) give D, the k-th
smallest, which bounds the answer: k facilities lie within D. Every facility within D metres lies within
r° = D / (110,574·cos φmax) degrees (a degree of latitude spans at least 110,574 m, one of longitude at least
110,574·cos φ m for every φ up to the disc's farthest latitude). When r° is below the planar distance of the
n-th candidate, every facility within D is a candidate already: the answer is among them. Otherwise (sparse
data, near-ties across a wide ring) a second query fetches every facility within r° and ranks those.

Both statements are simple enough to plan in microseconds. The type is written into them as a literal (codes
are ``[a-z][a-z0-9_]*``, put in by ``db/sql.code_literal``), so each type has its own prepared statement and
plan: a rare type among many facilities walks the (type, geom) index, a common one the plain geometry index.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import asyncpg
from pyproj import Geod
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw
from geo_service.db.sql import Sql, code_literal, compose, ident, is_code, join
from geo_service.domain.crs import convert_geojson
from geo_service.services import facility_types, feature_properties
from geo_service.services.feature_properties import pick

GEOD = Geod(ellps="WGS84")
#: The properties of a facility in the answer, as OGC items have them.
_PROPERTIES = pick(
    feature_properties.FACILITY,
    "type",
    "name",
    "address",
    "phone",
    "opening_hours",
    "district_code",
    "township_code",
    "village_code",
)
_COLUMNS = compose(
    "t.id, ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat, {properties}",
    properties=join(
        ", ", (compose("{expr} AS {name}", expr=expr, name=ident(name)) for name, expr in _PROPERTIES.items())
    ),
)
_POINT = Sql("ST_SetSRID(ST_MakePoint($1, $2), 4326)")
_CANDIDATES = Sql(
    "SELECT {columns} FROM facilities t WHERE t.type = {type} AND t.status = 'active' "
    "ORDER BY t.geom <-> {point} LIMIT $3"
)
_WITHIN = Sql(
    "SELECT {columns} FROM facilities t WHERE t.type = {type} AND t.status = 'active' "
    "AND ST_DWithin(t.geom, {point}, $3)"
)


@functools.lru_cache(maxsize=256)
def candidates_sql(ftype: str) -> Sql:
    """The n planar-nearest active facilities of a type ($1 lon, $2 lat, $3 n); ValueError for a malformed code."""
    return compose(_CANDIDATES, columns=_COLUMNS, type=code_literal(ftype), point=_POINT)


@functools.lru_cache(maxsize=256)
def within_sql(ftype: str) -> Sql:
    """The active facilities of a type within $3 degrees of ($1, $2)."""
    return compose(_WITHIN, columns=_COLUMNS, type=code_literal(ftype), point=_POINT)


def degree_radius(lat: float, metres: float) -> float:
    """A radius in degrees holding every point within ``metres`` of a point at ``lat`` (1 % slack)."""
    lat_max = min(abs(lat) + metres / 110_574.0, 89.9)
    return 1.01 * metres / (110_574.0 * max(math.cos(math.radians(lat_max)), 1e-6))


def _distances(lon: float, lat: float, rows: Sequence[asyncpg.Record]) -> list[float]:
    n = len(rows)
    _, _, dist = GEOD.inv([lon] * n, [lat] * n, [r["lon"] for r in rows], [r["lat"] for r in rows])
    return list(dist)


async def nearest(
    conn: AsyncConnection, lon: float, lat: float, ftype: str, k: int, max_distance_m: float | None, crs: str
) -> dict[str, Any]:
    """FeatureCollection of the k nearest active facilities of ``ftype`` to a WGS84 point."""
    n = 2 * k + 10
    rows = []
    if is_code(ftype):
        rows = await raw.fetch(conn, candidates_sql(ftype), lon, lat, n)
    if not rows:
        code = (await facility_types.get_type(conn, ftype)).code  # unknown type → 400
        if code != ftype:  # named by its collection id (elderly-canteens)
            return await nearest(conn, lon, lat, code, k, max_distance_m, crs)
        return _collection([])  # a known type with none active
    dist = _distances(lon, lat, rows)
    bound = sorted(dist)[min(k, len(dist)) - 1]
    if max_distance_m is not None:
        bound = min(bound, max_distance_m)
    if len(rows) == n:
        last = rows[-1]
        radius = degree_radius(lat, bound + 0.001)
        if radius >= math.hypot(last["lon"] - lon, last["lat"] - lat):  # the candidates may miss some
            rows = await raw.fetch(conn, within_sql(ftype), lon, lat, radius)
            dist = _distances(lon, lat, rows)
    ranked = sorted((d, r["id"], r) for d, r in zip(dist, rows, strict=True) if d <= bound)[:k]
    return _collection([_feature(r, d, crs) for d, _, r in ranked])


def _feature(row: asyncpg.Record, distance: float, crs: str) -> dict[str, Any]:
    geometry = {"type": "Point", "coordinates": [round(row["lon"], 7), round(row["lat"], 7)]}
    properties = {name: row[name] for name in _PROPERTIES}
    properties["distance_m"] = round(distance, 2)
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": convert_geojson(geometry, crs),
        "properties": properties,
    }


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, "numberReturned": len(features)}
