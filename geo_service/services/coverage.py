"""Coverage: which share of each division, and of its people, lies within reach of a facility type.

``radius`` mode: the covered part of a division is its intersection with the union of geodesic discs of the
radius around every active facility of the type (facilities just outside the division count too).
``presence`` mode: a division is covered when an active facility of the type lies inside it.
Covered population = each village's population × its covered area ratio (uniform density), summed upwards.

Discs are buffered in the region's local Gauss–Krüger zone (scale error well under 0.1 ‰ near its central
meridian), as 64-gons whose radius is stretched so that each has the exact area of its circle (``disc_union``);
their union is kept per type, radius and facilities version in each process (the few last used; nothing is
stored in the database, so replicas answer coverage too). Covered shares are taken in that zone for each
division without children (its conformal scale cancels in a ratio) and applied to the stored geodesic areas.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.db import raw, versions
from geo_service.db.models import DIVISION_LEVELS
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.services import facility_types
from geo_service.services.disc_union import Geometries, covered_ratios, local_srid, reproject, union_pieces
from geo_service.services.etags import etag_of
from geo_service.services.geojson import feature
from geo_service.services.lru import LRU

log = logging.getLogger("geo_service")

MODES = ("radius", "presence")
CODE_LENGTH = {"district": 6, "township": 9, "village": 12}
MAX_RADIUS_M = 100_000.0


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
    if within is not None and not await raw.fetch(conn, "SELECT 1 FROM divisions WHERE code = $1", within):
        raise NotFound(f"unknown division code {within!r}")
    default_level = info.presence_level if mode == "presence" else "township"
    return CoverageQuery(info.code, mode, radius, level or default_level, within)


_LEAVES_SQL = (
    "SELECT d.code, ST_AsBinary(d.geom), d.area_m2, coalesce(d.population, 0) FROM divisions d "
    "WHERE NOT EXISTS (SELECT 1 FROM divisions c WHERE c.parent_code = d.code) ORDER BY d.code"
)
_CENTRE_SQL = (
    "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) AS c FROM divisions) s"
)


@dataclass(frozen=True)
class _Leaves:
    """The divisions without children (villages, mostly) in the region's metric CRS."""

    srid: int
    codes: list[str]
    geoms: Geometries
    area_m2: NDArray[np.float64]
    population: NDArray[np.float64]


_leaves_cache: LRU[tuple[URL, int], _Leaves] = LRU(4)
_pieces_cache: LRU[tuple[URL, str, float, int, int], Geometries] = LRU(8)


async def _leaves(conn: AsyncConnection, divisions_version: int) -> _Leaves:
    key = (conn.engine.url, divisions_version)
    cached = _leaves_cache.get(key)
    if cached is not None:
        return cached
    rows = await raw.fetch(conn, _LEAVES_SQL)
    centre = (await raw.fetch(conn, _CENTRE_SQL))[0]
    srid = local_srid(centre[0] or 113.3, centre[1] or 23.1)
    wkb = [r[1] for r in rows]
    geoms = await asyncio.to_thread(lambda: reproject(shapely.from_wkb(wkb), 4326, srid))
    leaves = _Leaves(
        srid,
        [r[0] for r in rows],
        geoms,
        np.array([float(r[2] or 0.0) for r in rows]),
        np.array([float(r[3]) for r in rows]),
    )
    _leaves_cache.put(key, leaves)
    return leaves


async def warm(engine: AsyncEngine) -> None:
    """Load what the first coverage answer of a process needs: the leaf divisions in the local zone (and so a
    worker thread with its projection). Run in the background at start-up; a failure is only logged."""
    try:
        async with engine.connect() as conn:
            await _leaves(conn, (await versions.current(conn))["divisions"])
    except Exception as exc:  # the database may be down at start-up; the first answer loads them then
        log.warning("coverage warm-up skipped: %s", exc.__class__.__name__)


async def _disc_pieces(
    conn: AsyncConnection, q: CoverageQuery, facilities_version: int, srid: int
) -> Geometries:
    """The union of discs for the query in ``srid``, cut in pieces.

    Kept per type, radius and facilities version in this process only: nothing is written to the database, so
    any radius costs no disk and replicas (read-only) answer coverage like the primary.
    """
    key = (conn.engine.url, q.ftype, q.radius_m, facilities_version, srid)
    pieces = _pieces_cache.get(key)
    if pieces is not None:
        return pieces
    points = await raw.fetch(
        conn, "SELECT ST_X(geom), ST_Y(geom) FROM facilities WHERE type = $1 AND status = 'active'", q.ftype
    )
    lon = np.array([p[0] for p in points], dtype=float)
    lat = np.array([p[1] for p in points], dtype=float)
    pieces = np.array([], dtype=object)
    if len(points):
        pieces = await asyncio.to_thread(union_pieces, lon, lat, q.radius_m, srid)
    _pieces_cache.put(key, pieces)
    return pieces


async def service_area(conn: AsyncConnection, q: CoverageQuery, tolerance: float) -> str | None:
    """GeoJSON of the union of service discs (near ``q.within`` when given), simplified; None without any."""
    shown = await versions.versions_of(conn, "divisions", versions.facility_type(q.ftype))
    leaves = await _leaves(conn, shown["divisions"])
    pieces = await _disc_pieces(conn, q, shown[versions.facility_type(q.ftype)], leaves.srid)
    box = None
    if q.within:  # the discs around the division only, clipped to a margin of ~2 km
        sql = (
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) "
            "FROM (SELECT ST_Expand(ST_Envelope(geom), 0.02) AS b FROM divisions WHERE code = $1) s"
        )
        box = tuple((await raw.fetch(conn, sql, q.within))[0])
    return await asyncio.to_thread(_outline, pieces, leaves.srid, box, tolerance)


def _outline(pieces: Geometries, srid: int, box: tuple[float, ...] | None, tolerance: float) -> str | None:
    """The pieces as one WGS84 GeoJSON geometry, clipped to ``box``, simplified by ``tolerance`` degrees."""
    wgs84 = reproject(pieces, srid, 4326)
    if box is not None:
        frame = shapely.box(*box)
        wgs84 = wgs84[shapely.intersects(wgs84, frame)]
    if not len(wgs84):
        return None
    area = shapely.union_all(wgs84)
    if box is not None:
        area = shapely.intersection(area, frame)
    area = shapely.simplify(area, tolerance, preserve_topology=True)
    if area.is_empty:
        return None
    # 5 decimals (~1 m) are all a map shows: a smaller page.
    return str(shapely.to_geojson(shapely.transform(area, lambda xy: np.round(xy, 5))))


async def _rows(
    conn: AsyncConnection, q: CoverageQuery, facilities_version: int, divisions_version: int
) -> list[dict[str, Any]]:
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
        covered = await _covered(conn, q, facilities_version, divisions_version)
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


async def _covered(
    conn: AsyncConnection, q: CoverageQuery, facilities_version: int, divisions_version: int
) -> dict[str, tuple[float, float]]:
    """Covered area (m²) and population per division of the query's level, from the leaves below it."""
    leaves = await _leaves(conn, divisions_version)
    pieces = await _disc_pieces(conn, q, facilities_version, leaves.srid)
    chosen = [i for i, code in enumerate(leaves.codes) if code.startswith(q.within or "")]
    ratios = await asyncio.to_thread(covered_ratios, leaves.geoms[chosen], pieces)
    n = CODE_LENGTH[q.level]
    covered: dict[str, tuple[float, float]] = {}
    area_m2, population = leaves.area_m2.tolist(), leaves.population.tolist()
    for i, ratio in zip(chosen, ratios.tolist(), strict=True):
        code = leaves.codes[i][:n]
        m2, pop = covered.get(code, (0.0, 0.0))
        covered[code] = (m2 + area_m2[i] * ratio, pop + population[i] * ratio)
    return covered


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


@dataclass(frozen=True)
class Answer:
    """A coverage answer, kept serialised with its ETag (a village-level table is ~0.65 MB of JSON, which takes
    longer to hash than the kept answer takes to find)."""

    data: dict[str, Any]
    body: bytes
    etag: str


_cache: LRU[tuple[Any, ...], Answer] = LRU(128)


async def coverage(
    conn: AsyncConnection,
    ftype: str,
    radius_m: float | None = None,
    level: str | None = None,
    within: str | None = None,
    mode: str | None = None,
) -> dict[str, Any]:
    """The coverage answer of API.md: parameters, summary and one row per division."""
    return (await answer(conn, ftype, radius_m, level, within, mode)).data


async def answer(
    conn: AsyncConnection,
    ftype: str,
    radius_m: float | None = None,
    level: str | None = None,
    within: str | None = None,
    mode: str | None = None,
) -> Answer:
    """The coverage answer with its JSON and ETag."""
    q = await resolve_query(conn, ftype, radius_m, level, within, mode)
    # A type's answers change only with its own facilities (and the divisions).
    shown = await versions.versions_of(conn, "divisions", versions.facility_type(q.ftype))
    type_version, divisions_version = shown[versions.facility_type(q.ftype)], shown["divisions"]
    key = (q, type_version, divisions_version, conn.engine.url.render_as_string())
    cached = _cache.get(key)
    if cached is not None:
        return cached
    rows = await _rows(conn, q, type_version, divisions_version)
    data = {
        "type": q.ftype,
        "mode": q.mode,
        "radius_m": q.radius_m if q.mode == "radius" else None,
        "level": q.level,
        "within": q.within,
        "summary": _summary(rows),
        "divisions": rows,
    }
    body = orjson.dumps(data)
    entry = Answer(data, body, etag_of(body))
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
