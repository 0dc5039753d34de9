"""The k nearest active facilities of a type to a point, by true geodesic distance.

KNN on geometry(4326) (``<->``) is planar in degrees: at 23°N a degree of longitude is ~8% shorter than one
of latitude, so its order is not the geodesic order. The index gives 2k+10 candidates; the k-th smallest of
their geodesic distances, D, bounds the answer (k facilities lie within D), so every facility within D is fetched
through a circle in degrees that surely contains the D-disc, and ranked by spheroidal distance (ties by id).

The circle: a degree of latitude spans at least 110,574 m, a degree of longitude at least 110,574·cos φ m
(111,320·cos φ on the ellipse) for every φ up to the disc's farthest latitude, so a point within D metres lies
within D / (110,574·cos φmax) degrees. (A box would also take in its corners, which near a dense area can
hold thousands of facilities when the query point is far from any.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw
from geo_service.services import facility_types
from geo_service.services.geojson import feature_collection

# Filters from cheap to dear: the degree circle (index, with 1 % slack for the flat approximation), great-circle
# distance on the sphere (within 0.6 % of the ellipsoid's), then the geodesic distance on WGS84 itself.
# OFFSET 0 fences the subquery so the geodesic distance is computed only for the rows the cheap tests let through.
# The point is written out (not a CTE column) so that the KNN ORDER BY can walk the GiST index.
_POINT = "ST_SetSRID(ST_MakePoint($1, $2), 4326)"
NEAREST_SQL = f"""
WITH cand AS (
    SELECT ST_Distance(f.geom::geography, {_POINT}::geography) AS d
    FROM facilities f
    WHERE f.type = $3 AND f.status = 'active'
    ORDER BY f.geom <-> {_POINT}
    LIMIT 2 * $4 + 10
),
kth AS (
    SELECT d FROM cand ORDER BY d LIMIT $4
),
bound AS (
    SELECT least(coalesce(max(d), 0), coalesce(CAST($5 AS float8), 'infinity')) + 0.001 AS r,
           count(*) AS n
    FROM kth
),
circle AS (
    SELECT r,
           1.01 * r / (110574.0 * least(1.0, greatest(cos(radians(least(abs($2) + r / 110574.0, 89.9))), 1e-6)))
           AS rdeg
    FROM bound WHERE n > 0
)
SELECT f.id, ST_AsGeoJSON(f.geom, 7) AS geometry,
       json_build_object(
           'type', f.type, 'name', f.name, 'address', f.address, 'phone', f.phone,
           'opening_hours', f.opening_hours, 'district_code', f.district_code,
           'township_code', f.township_code, 'village_code', f.village_code,
           'distance_m', round(CAST(f.d AS numeric), 2)
       )::text AS properties
FROM (
    SELECT f.*, ST_Distance(f.geom::geography, {_POINT}::geography) AS d, circle.r
    FROM circle, facilities f
    WHERE f.type = $3 AND f.status = 'active'
      AND ST_DWithin(f.geom, {_POINT}, circle.rdeg)
      AND ST_DWithin(f.geom::geography, {_POINT}::geography, circle.r * 1.006 + 1, false)
    OFFSET 0
) f
WHERE f.d <= f.r
ORDER BY f.d, f.id
LIMIT $4
"""


async def nearest(
    conn: AsyncConnection, lon: float, lat: float, ftype: str, k: int, max_distance_m: float | None, crs: str
) -> dict[str, Any]:
    """FeatureCollection of the k nearest active facilities of ``ftype`` to a WGS84 point."""
    rows = await raw.fetch(conn, NEAREST_SQL, lon, lat, ftype, k, max_distance_m)
    if not rows:
        await facility_types.get_type(conn, ftype)  # unknown type → 400; known → simply nothing near
    return feature_collection(rows, crs, {"numberReturned": len(rows)})
