"""The k nearest active facilities of a type to a point, by true geodesic distance.

KNN on geometry(4326) (``<->``) is planar in degrees: at 23°N a degree of longitude is ~8% shorter than one
of latitude, so its order is not the geodesic order. The index gives k candidates; the k-th candidate's
geodesic distance D bounds the answer (k facilities lie within D), so every facility within D is fetched
through a degree box that surely contains the D-disc and ranked by spheroidal distance (ties by id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.services import facility_types
from geo_service.services.geojson import feature_collection

# Metres per degree of latitude is at least 110,574 (at the equator); a degree of longitude at latitude φ
# spans at least 111,320·cos φ metres on the ellipsoid. The box adds 1% and 1 m of slack.
_NEAREST_SQL = text(
    """
WITH q AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt),
cand AS (
    SELECT ST_Distance(f.geom::geography, q.pt::geography) AS d
    FROM facilities f, q
    WHERE f.type = :type AND f.status = 'active'
    ORDER BY f.geom <-> q.pt
    LIMIT :k
),
bound AS (
    SELECT least(coalesce(max(d), 0), coalesce(CAST(:max_d AS float8), 'infinity')) * 1.01 + 1 AS r,
           count(*) AS n
    FROM cand
),
box AS (
    SELECT r, r / 110574.0 AS dlat,
           r / (111320.0 * greatest(cos(radians(least(abs(:lat) + r / 110574.0, 89.9))), 1e-6)) AS dlon
    FROM bound WHERE n > 0
)
SELECT f.id, ST_AsGeoJSON(f.geom, 7) AS geometry,
       json_build_object(
           'type', f.type, 'name', f.name, 'address', f.address, 'phone', f.phone,
           'opening_hours', f.opening_hours, 'district_code', f.district_code,
           'township_code', f.township_code, 'village_code', f.village_code,
           'distance_m', round(CAST(dist.d AS numeric), 2)
       )::text AS properties
FROM facilities f, q, box,
     LATERAL (SELECT ST_Distance(f.geom::geography, q.pt::geography) AS d) dist
WHERE f.type = :type AND f.status = 'active'
  AND f.geom && ST_Expand(q.pt, box.dlon, box.dlat)
  AND dist.d <= coalesce(CAST(:max_d AS float8), 'infinity')
ORDER BY dist.d, f.id
LIMIT :k
"""
)


async def nearest(
    conn: AsyncConnection, lon: float, lat: float, ftype: str, k: int, max_distance_m: float | None, crs: str
) -> dict[str, Any]:
    """FeatureCollection of the k nearest active facilities of ``ftype`` to a WGS84 point."""
    rows = (
        await conn.execute(
            _NEAREST_SQL, {"lon": lon, "lat": lat, "type": ftype, "k": k, "max_d": max_distance_m}
        )
    ).all()
    if not rows:
        await facility_types.get_type(conn, ftype)  # unknown type → 400; known → simply nothing near
    return feature_collection(rows, crs, {"numberReturned": len(rows)})
