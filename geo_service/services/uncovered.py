"""Uncovered areas: the parts of divisions outside every service area, with the people living there.

For siting by eye. The figures are the coverage rows' own (uncovered area = area − covered area, uncovered
people = people − covered people, each village's people spread evenly over it), so that they add up with
``GET /v1/coverage``; the geometry is each division minus the service area (radius mode), or the whole
division where no facility lies (presence mode).
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import orjson
import shapely
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw
from geo_service.services import coverage, service_areas
from geo_service.services.disc_union import reproject, uncovered_parts
from geo_service.services.geojson import feature

#: Properties of each uncovered part.
PROPERTIES = (
    "code",
    "name",
    "level",
    "parent_code",
    "parent_name",
    "uncovered_area_km2",
    "uncovered_population",
)


def _geojson(geoms: np.ndarray, srid: int) -> list[str | None]:
    """Metric geometries as WGS84 GeoJSON with 7 decimals (about 1 cm); None for empty ones."""
    wgs84 = reproject(geoms, srid, 4326)
    wgs84 = shapely.set_precision(wgs84, 1e-7)
    return [None if g is None or g.is_empty else str(shapely.to_geojson(g)) for g in wgs84]


async def _outside(
    conn: AsyncConnection, q: coverage.CoverageQuery, codes: list[str], shown: coverage.DataVersions
) -> dict[str, str | None]:
    """Each division (by code) minus today's service area, as WGS84 GeoJSON."""
    leaves = await service_areas.leaves(conn, shown.divisions)
    area = await service_areas.of_type(conn, q.ftype, q.radius_m, shown.facilities, leaves.srid)
    rows = await raw.fetch(
        conn,
        "SELECT code, ST_AsBinary(geom) FROM divisions WHERE code = ANY($1::text[]) ORDER BY code",
        codes,
    )
    found = [r[0] for r in rows]

    def work() -> list[str | None]:
        metric = reproject(shapely.from_wkb([r[1] for r in rows]), 4326, leaves.srid)
        return _geojson(uncovered_parts(metric, area.pieces), leaves.srid)

    return dict(zip(found, await asyncio.to_thread(work), strict=True))


async def uncovered(
    conn: AsyncConnection, params: coverage.CoverageParams, crs: str = "wgs84"
) -> dict[str, Any]:
    """FeatureCollection of the uncovered parts of the divisions at ``level`` (default village), the most
    uncovered people first."""
    q = await coverage.resolve_query(conn, params.at_level("village"))
    answer = (await coverage.answer_for(conn, q)).data
    rows = [r for r in answer["divisions"] if r["covered_area_ratio"] < 1.0]
    if q.mode == "presence":
        rows = [r for r in rows if r["facilities"] == 0]
    codes = [r["code"] for r in rows]
    if q.mode == "radius":
        geoms = await _outside(conn, q, codes, await coverage.data_versions(conn, q))
    else:
        found = await raw.fetch(
            conn, "SELECT code, ST_AsGeoJSON(geom, 7) FROM divisions WHERE code = ANY($1::text[])", codes
        )
        geoms = {r[0]: r[1] for r in found}
    parts = []
    for r in rows:
        props = {k: r[k] for k in PROPERTIES[:5]}
        props["uncovered_area_km2"] = round(r["area_km2"] - r["covered_area_km2"], 6)
        props["uncovered_population"] = r["population"] - r["covered_population"]
        if geoms.get(r["code"]) is not None and props["uncovered_area_km2"] > 0:
            parts.append(props)
    parts.sort(key=lambda p: (-p["uncovered_population"], -p["uncovered_area_km2"], p["code"]))
    features = [feature(p["code"], geoms[p["code"]], orjson.dumps(p).decode(), crs) for p in parts]
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": len(features),
        "parameters": {("facility_type" if k == "type" else k): v for k, v in q.parameters().items()},
        "summary": {
            "uncovered_area_km2": round(sum(p["uncovered_area_km2"] for p in parts), 6),
            "uncovered_population": sum(p["uncovered_population"] for p in parts),
        },
    }
