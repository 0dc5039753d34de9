"""Coverage: which share of each division, and of its people, lies within reach of a facility type.

``radius`` mode: the covered part of a division is its intersection with the union of geodesic discs of the
radius around every active facility of the type (facilities just outside the division count too).
``presence`` mode: a division is covered when an active facility of the type lies inside it.
Covered population = each village's population × its covered area ratio (uniform density), summed upwards.

Discs are buffered in the region's local Gauss–Krüger zone (scale error well under 0.1 ‰ near its central
meridian), as 64-gons whose radius is stretched so that each has the exact area of its circle; their union is
cached per type, radius and facilities version. Ratios are taken in degrees within each village (small
enough for the distortion to cancel) and applied to stored geodesic areas.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import versions
from geo_service.db.models import DIVISION_LEVELS
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.services import facility_types
from geo_service.services.geojson import feature

MODES = ("radius", "presence")
CODE_LENGTH = {"district": 6, "township": 9, "village": 12}
QUAD_SEGS = 16  # 64-gon discs
_N = 4 * QUAD_SEGS
#: Stretch of the polygon radius that gives each 64-gon the area of its circle (+0.08 %).
AREA_STRETCH = math.sqrt(2 * math.pi / (_N * math.sin(2 * math.pi / _N)))
MAX_RADIUS_M = 100_000.0


def local_srid(lon: float, lat: float) -> int:
    """A conformal metric CRS for a region: its CGCS2000 3-degree Gauss–Krüger zone in China, else UTM."""
    if 73.5 <= lon <= 136.5 and 0.8 <= lat <= 55.9:
        return 4534 + min(20, max(0, round((lon - 75.0) / 3.0)))
    zone = min(60, max(1, int((lon + 180.0) // 6) + 1))
    return (32600 if lat >= 0 else 32700) + zone


@dataclass(frozen=True)
class CoverageQuery:
    """A validated coverage request."""

    ftype: str
    mode: str
    radius_m: float
    level: str
    within: str | None


async def resolve_query(
    conn: AsyncConnection,
    ftype: str,
    radius_m: float | None,
    level: str | None,
    within: str | None,
    mode: str | None,
) -> CoverageQuery:
    """Validate parameters and fill defaults from the facility type."""
    info = await facility_types.get_type(conn, ftype)
    mode = mode or info.default_mode
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}: use radius or presence")
    if level is not None and level not in DIVISION_LEVELS:
        raise InvalidInput(f"unknown level {level!r}: use one of {', '.join(DIVISION_LEVELS)}")
    radius = info.default_radius_m if radius_m is None else float(radius_m)
    if not (math.isfinite(radius) and 0 < radius <= MAX_RADIUS_M):
        raise InvalidInput(f"radius_m must be a number above 0 and at most {MAX_RADIUS_M:.0f}")
    if within is not None:
        found = (await conn.execute(text("SELECT 1 FROM divisions WHERE code = :c"), {"c": within})).first()
        if not found:
            raise NotFound(f"unknown division code {within!r}")
    default_level = info.presence_level if mode == "presence" else "township"
    return CoverageQuery(ftype, mode, radius, level or default_level, within)


_PIECES_SQL = """
WITH gone AS (DELETE FROM coverage_pieces WHERE key LIKE :prefix)
INSERT INTO coverage_pieces (key, geom)
SELECT :k, piece FROM (
    SELECT (ST_Dump(ST_Subdivide(ST_Transform(ST_UnaryUnion(ST_Collect(
        ST_Buffer(ST_Transform(geom, {srid}), :r, 'quad_segs={quad_segs}'))), 4326), 128))).geom AS piece
    FROM facilities WHERE type = :t AND status = 'active'
) s WHERE piece IS NOT NULL AND NOT ST_IsEmpty(piece)
"""


async def _has_pieces(conn: AsyncConnection, key: str) -> bool:
    found = await conn.execute(text("SELECT 1 FROM coverage_pieces WHERE key = :k LIMIT 1"), {"k": key})
    return found.first() is not None


async def _disc_key(conn: AsyncConnection, q: CoverageQuery, facilities_version: int) -> str | None:
    """Make sure the union of discs for the query is cached; returns its key (None: no facilities)."""
    centre = (
        await conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) AS c FROM divisions) s"
            )
        )
    ).one()
    srid = local_srid(centre[0] or 113.3, centre[1] or 23.1)
    prefix = f"{q.ftype}|{q.radius_m:g}|"
    key = f"{prefix}{facilities_version}|{srid}"
    if await _has_pieces(conn, key):
        return key
    # One computation per key across workers: the others wait on the (session) lock, then find the pieces.
    await conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})
    try:
        if not await _has_pieces(conn, key):
            sql = _PIECES_SQL.format(srid=srid, quad_segs=QUAD_SEGS)
            params = {"k": key, "prefix": prefix + "%", "r": q.radius_m * AREA_STRETCH, "t": q.ftype}
            await conn.execute(text(sql), params)
            if conn.in_transaction():
                await conn.commit()
    finally:
        await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
    return key if await _has_pieces(conn, key) else None


async def service_area(conn: AsyncConnection, q: CoverageQuery, tolerance: float) -> str | None:
    """GeoJSON of the union of service discs (near ``q.within`` when given), simplified; None without any."""
    key = await _disc_key(conn, q, await versions.version_of(conn, versions.facility_type(q.ftype)))
    if key is None:
        return None
    if q.within:  # the discs around the division only, clipped to a margin of ~2 km
        sql = (
            "WITH w AS (SELECT ST_Expand(ST_Envelope(geom), 0.02) AS box FROM divisions WHERE code = :w) "
            "SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(ST_Intersection(ST_Union(p.geom), "
            "(SELECT box FROM w)), :tol), 5) FROM coverage_pieces p WHERE p.key = :k AND p.geom && (SELECT box FROM w)"
        )
    else:
        sql = "SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(ST_Union(p.geom), :tol), 5) FROM coverage_pieces p WHERE p.key = :k"
    row = (await conn.execute(text(sql), {"tol": tolerance, "k": key, "w": q.within})).first()
    return row[0] if row else None


_LEAVES_SQL = """
WITH leaves AS (
    SELECT d.code, d.geom, d.area_m2, coalesce(d.population, 0) AS pop
    FROM divisions d
    WHERE d.code LIKE :prefix AND NOT EXISTS (SELECT 1 FROM divisions c WHERE c.parent_code = d.code)
),
covered AS (
    SELECT l.code,
           least(sum(ST_Area(ST_Intersection(l.geom, p.geom))) / nullif(ST_Area(l.geom), 0), 1.0) AS ratio
    FROM leaves l JOIN coverage_pieces p ON p.key = :key AND p.geom && l.geom
    GROUP BY l.code, l.geom
)
SELECT left(l.code, :n) AS code, sum(l.area_m2 * coalesce(c.ratio, 0)) AS covered_m2,
       sum(l.pop * coalesce(c.ratio, 0)) AS covered_pop
FROM leaves l LEFT JOIN covered c USING (code)
GROUP BY 1
"""


async def _rows(conn: AsyncConnection, q: CoverageQuery, facilities_version: int) -> list[dict[str, Any]]:
    prefix = (q.within or "") + "%"
    code_col = f"{q.level}_code"  # level is validated against DIVISION_LEVELS
    divisions = (
        await conn.execute(
            text(
                "SELECT code, name, level, parent_code, area_m2, coalesce(population, 0) FROM divisions "
                "WHERE level = :level AND code LIKE :prefix ORDER BY code"
            ),
            {"level": q.level, "prefix": prefix},
        )
    ).all()
    counts: dict[str, int] = dict(
        (
            await conn.execute(
                text(
                    f"SELECT {code_col}, count(*) FROM facilities WHERE type = :t AND status = 'active' "
                    f"AND {code_col} LIKE :prefix GROUP BY 1"
                ),
                {"t": q.ftype, "prefix": prefix},
            )
        ).all()
    )
    covered: dict[str, tuple[float, float]] = {}
    if q.mode == "radius":
        key = await _disc_key(conn, q, facilities_version)
        if key:
            result = await conn.execute(
                text(_LEAVES_SQL), {"prefix": prefix, "key": key, "n": CODE_LENGTH[q.level]}
            )
            covered = {code: (m2, pop) for code, m2, pop in result.all()}
    rows = []
    for code, name, level, parent, area_m2, population in divisions:
        n_fac = int(counts.get(code, 0))
        if q.mode == "presence":
            cov_m2, cov_pop = (area_m2, population) if n_fac else (0.0, 0.0)
        else:
            cov_m2, cov_pop = covered.get(code, (0.0, 0.0))
        ratio = min(cov_m2 / area_m2, 1.0) if area_m2 else 0.0
        rows.append(
            {
                "code": code,
                "name": name,
                "level": level,
                "parent_code": parent,
                "facilities": n_fac,
                "area_km2": round(area_m2 / 1e6, 6),
                "covered_area_km2": round(min(cov_m2, area_m2) / 1e6, 6),
                "covered_area_ratio": round(ratio, 6),
                "population": int(population),
                "covered_population": min(round(cov_pop), int(population)),
            }
        )
    return rows


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    area = sum(r["area_km2"] for r in rows)
    covered = sum(r["covered_area_km2"] for r in rows)
    pop = sum(r["population"] for r in rows)
    cov_pop = sum(r["covered_population"] for r in rows)
    return {
        "divisions": len(rows),
        "covered_divisions": sum(1 for r in rows if r["covered_area_ratio"] > 0),
        "area_km2": round(area, 6),
        "covered_area_km2": round(covered, 6),
        "covered_area_ratio": round(covered / area, 6) if area else 0.0,
        "population": pop,
        "covered_population": cov_pop,
        "covered_population_ratio": round(cov_pop / pop, 6) if pop else 0.0,
    }


class _Cache:
    """Answers per query and data versions; any write changes the versions and so the key."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self.items: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], bytes]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> tuple[dict[str, Any], bytes] | None:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        return None

    def put(self, key: tuple[Any, ...], value: tuple[dict[str, Any], bytes]) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


_cache = _Cache()


async def coverage(
    conn: AsyncConnection,
    ftype: str,
    radius_m: float | None = None,
    level: str | None = None,
    within: str | None = None,
    mode: str | None = None,
) -> dict[str, Any]:
    """The coverage answer of API.md: parameters, summary and one row per division."""
    return (await _answer(conn, ftype, radius_m, level, within, mode))[0]


async def coverage_json(
    conn: AsyncConnection,
    ftype: str,
    radius_m: float | None = None,
    level: str | None = None,
    within: str | None = None,
    mode: str | None = None,
) -> bytes:
    """The coverage answer serialised (kept with the answer: a village-level table is ~0.5 MB of JSON)."""
    return (await _answer(conn, ftype, radius_m, level, within, mode))[1]


async def _answer(
    conn: AsyncConnection,
    ftype: str,
    radius_m: float | None,
    level: str | None,
    within: str | None,
    mode: str | None,
) -> tuple[dict[str, Any], bytes]:
    q = await resolve_query(conn, ftype, radius_m, level, within, mode)
    data = await versions.current(conn)
    # A type's answers change only with its own facilities (and the divisions).
    type_version = await versions.version_of(conn, versions.facility_type(q.ftype))
    key = (q, type_version, data["divisions"], conn.engine.url.render_as_string())
    cached = _cache.get(key)
    if cached is not None:
        return cached
    rows = await _rows(conn, q, type_version)
    answer = {
        "type": q.ftype,
        "mode": q.mode,
        "radius_m": q.radius_m if q.mode == "radius" else None,
        "level": q.level,
        "within": q.within,
        "summary": _summary(rows),
        "divisions": rows,
    }
    entry = (answer, orjson.dumps(answer))
    _cache.put(key, entry)
    return entry


async def gaps(
    conn: AsyncConnection,
    ftype: str,
    radius_m: float | None = None,
    level: str | None = None,
    within: str | None = None,
    mode: str | None = None,
    crs: str = "wgs84",
) -> dict[str, Any]:
    """FeatureCollection of the divisions at ``level`` (default village) with no coverage, most people first."""
    answer = await coverage(conn, ftype, radius_m, level or "village", within, mode)
    uncovered = [r for r in answer["divisions"] if r["covered_area_ratio"] == 0]
    uncovered.sort(key=lambda r: (-r["population"], r["code"]))
    geoms: dict[str, str] = dict(
        (
            await conn.execute(
                text("SELECT code, ST_AsGeoJSON(geom, 7) FROM divisions WHERE code = ANY(:codes)"),
                {"codes": [r["code"] for r in uncovered]},
            )
        ).all()
    )
    features = [feature(r["code"], geoms.get(r["code"]), orjson.dumps(r).decode(), crs) for r in uncovered]
    params = {
        ("facility_type" if k == "type" else k): answer[k]
        for k in ("type", "mode", "radius_m", "level", "within")
    }
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": len(features),
        "parameters": params,
    }
