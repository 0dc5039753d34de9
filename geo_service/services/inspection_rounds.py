"""What is due for inspection: boundary markers and standing signs whose last inspection is older than a setting
(12 months by default) or that were never inspected, and every sign to replace; nearest first from where the
inspector stands. The inspector's workbench page lists these."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.sql import Sql, compose
from geo_service.services.collections import SIGN_TO_REPLACE
from geo_service.services.geojson import geometry_fragment

_OLD = Sql("t.last_inspected_on <= current_date - make_interval(months => :months)")
_DUE = compose(
    """
WITH due AS (
  SELECT 'marker' AS kind, t.id, t.geom, t.status, t.last_inspected_on,
         CASE WHEN t.last_inspected_on IS NULL THEN 'never_inspected' ELSE 'overdue' END AS due_because,
         t.line_code || ' ' || t.number AS label, NULL::text AS district_code
  FROM boundary_markers t JOIN boundary_lines l ON l.code = t.line_code
  WHERE (t.last_inspected_on IS NULL OR {old})
    AND (CAST(:district AS text) IS NULL OR left(l.left_code, 6) = :district OR left(l.right_code, 6) = :district)
  UNION ALL
  SELECT 'sign', t.id, t.geom, t.status, t.last_inspected_on,
         CASE WHEN {to_replace} THEN 'to_replace' WHEN t.last_inspected_on IS NULL THEN 'never_inspected'
              ELSE 'overdue' END,
         t.text, t.district_code
  FROM place_name_signs t
  WHERE t.retired_on IS NULL AND ({to_replace} OR t.last_inspected_on IS NULL OR {old})
    AND (CAST(:district AS text) IS NULL OR t.district_code = :district)
)
SELECT kind, id, ST_AsGeoJSON(geom, 7), status, last_inspected_on, due_because, label, district_code,
       current_date - last_inspected_on,
       CASE WHEN CAST(:x AS float8) IS NULL THEN NULL
            ELSE ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) END AS distance_m
FROM due
ORDER BY distance_m NULLS LAST, last_inspected_on NULLS FIRST, kind, id
LIMIT :limit
""",
    old=_OLD,
    to_replace=SIGN_TO_REPLACE,
)
_PATHS = {"marker": "/v1/boundary-markers/{id}/inspections", "sign": "/v1/place-name-signs/{id}/inspections"}


async def due(
    conn: AsyncConnection,
    months: int,
    district: str | None,
    near: tuple[float, float] | None,
    limit: int,
    crs: str,
) -> dict[str, Any]:
    """A FeatureCollection of what is due (ids ``marker-<id>``, ``sign-<id>``): nearest first from ``near``
    (WGS84), else never inspected first, then the longest since."""
    x, y = near if near else (None, None)
    rows = await conn.execute(
        text(_DUE), {"months": months, "district": district, "x": x, "y": y, "limit": limit}
    )
    features = []
    for kind, rid, geometry, status, last, because, label, district_code, days, distance in rows.all():
        properties = {
            "kind": kind,
            "record_id": rid,
            "label": label,
            "status": status,
            "last_inspected_on": last.isoformat() if last else None,
            "days_since_inspection": days,
            "due_because": because,
            "district_code": district_code,
            "distance_m": round(distance, 1) if distance is not None else None,
            "inspections_url": _PATHS[kind].format(id=rid),
        }
        features.append(
            {
                "type": "Feature",
                "id": f"{kind}-{rid}",
                "geometry": geometry_fragment(geometry, crs),
                "properties": properties,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": len(features),
        "due_after_months": months,
    }
