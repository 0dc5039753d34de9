"""Coverage: which share of each division, and of its people, lies within reach of a facility type.

``radius`` mode: the covered part of a division is its intersection with the union of geodesic discs of the
radius around every active facility of the type (facilities just outside the division count too).
``presence`` mode: a division is covered when an active facility of the type lies inside it.
Covered population = each village's population × its covered area ratio (uniform density), summed upwards.

Discs are buffered in the region's local Gauss–Krüger zone (scale error well under 0.1 ‰ near its central
meridian), as 64-gons whose radius is stretched so that each has the exact area of its circle (``disc_union``);
their union is kept per type, radius and facilities version in each process (``service_areas``). Covered
shares are taken in that zone for each division without children (its conformal scale cancels in a ratio) and
applied to the stored geodesic areas. The rows and the summary are built here from counts and covered shares
that the caller supplies, so that a what-if (``scenario``) is the same computation on other facilities.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace
from typing import Any

import orjson
import shapely
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.db import raw, versions
from geo_service.db.models import DIVISION_LEVELS
from geo_service.db.sql import Sql, compose, ident
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services import division_names, facility_types, service_areas
from geo_service.services.disc_union import covered_ratios
from geo_service.services.etags import etag_of
from geo_service.services.geojson import feature
from geo_service.services.lru import LRU

MODES = ("radius", "presence")
CODE_LENGTH = {"district": 6, "township": 9, "village": 12}
MAX_RADIUS_M = 100_000.0
#: Ratios are given to 6 decimals; a division counts as fully covered when its ratio rounds to 1.
RATIO_DIGITS = 6


@dataclass(frozen=True)
class CoverageParams:
    """A coverage request as the client gave it (``within`` a code or a name; None: the type's default), built
    once from the request and passed down to every coverage service; ``resolve_query`` validates it."""

    ftype: str
    radius_m: float | None = None
    level: str | None = None
    within: str | None = None
    mode: str | None = None

    def at_level(self, default: str) -> CoverageParams:
        """The same request with ``default`` as its level when it names none (gaps and uncovered areas)."""
        return self if self.level is not None else replace(self, level=default)


@dataclass(frozen=True)
class CoverageQuery:
    """A validated coverage request (``within`` a division code)."""

    ftype: str
    mode: str
    radius_m: float
    level: str
    within: str | None

    @property
    def under(self) -> str:
        """The LIKE pattern of the codes of the divisions it covers (codes nest: those under ``within``)."""
        return (self.within or "") + "%"

    def parameters(self) -> dict[str, Any]:
        """The parameters an answer echoes (radius only in radius mode)."""
        return {
            "type": self.ftype,
            "mode": self.mode,
            "radius_m": self.radius_m if self.mode == "radius" else None,
            "level": self.level,
            "within": self.within,
        }


async def resolve_query(conn: AsyncConnection, params: CoverageParams) -> CoverageQuery:
    """Validate parameters and fill defaults from the facility type; ``within`` by code or by name."""
    info = await facility_types.get_type(conn, params.ftype)
    mode = params.mode or info.default_mode
    if mode not in MODES:
        raise InvalidInput(t("unknown mode {mode!r}: use radius or presence", mode=mode))
    level = params.level
    if level is not None and level not in DIVISION_LEVELS:
        raise InvalidInput(
            t("unknown level {level!r}: use one of {levels}", level=level, levels=", ".join(DIVISION_LEVELS))
        )
    radius = info.default_radius_m if params.radius_m is None else float(params.radius_m)
    if not (math.isfinite(radius) and 0 < radius <= MAX_RADIUS_M):
        raise InvalidInput(t("radius_m must be a number above 0 and at most {limit:.0f}", limit=MAX_RADIUS_M))
    within = params.within
    if within is not None:
        within = await division_names.division_code(conn, within)
    default_level = info.presence_level if mode == "presence" else "township"
    return CoverageQuery(info.code, mode, radius, level or default_level, within)


@dataclass(frozen=True)
class DataVersions:
    """The versions of the data a coverage answer holds for: the type's facilities and the divisions."""

    facilities: int
    divisions: int


async def data_versions(conn: AsyncConnection, q: CoverageQuery) -> DataVersions:
    """The current versions of the type's facilities and of the divisions (a type's answers change only with
    its own facilities)."""
    name = versions.facility_type(q.ftype)
    shown = await versions.versions_of(conn, "divisions", name)
    return DataVersions(shown[name], shown["divisions"])


async def warm(engine: AsyncEngine) -> None:
    """Load the divisions coverage needs in the background at start-up (see ``service_areas.warm``)."""
    await service_areas.warm(engine)


@dataclass(frozen=True)
class DivisionRow:
    """A division at the query's level, as the rows show it."""

    code: str
    name: str
    level: str
    parent_code: str | None
    parent_name: str | None
    area_m2: float
    population: int


async def division_rows(conn: AsyncConnection, q: CoverageQuery) -> list[DivisionRow]:
    """The divisions at the query's level under ``within``, by code."""
    rows = await raw.fetch(
        conn,
        "SELECT d.code, d.name, d.level, d.parent_code, p.name, d.area_m2, coalesce(d.population, 0) "
        "FROM divisions d LEFT JOIN divisions p ON p.code = d.parent_code "
        "WHERE d.level = $1 AND d.code LIKE $2 ORDER BY d.code",
        q.level,
        q.under,
    )
    return [DivisionRow(r[0], r[1], r[2], r[3], r[4], float(r[5] or 0.0), int(r[6])) for r in rows]


def level_code(level: str) -> Sql:
    """The facilities' column of their division's code at ``level`` (one of DIVISION_LEVELS, checked with the query)."""
    return ident(f"{level}_code")


async def facility_counts(conn: AsyncConnection, q: CoverageQuery) -> dict[str, int]:
    """Active facilities of the type in each division at the query's level."""
    rows = await raw.fetch(
        conn,
        compose(
            "SELECT {code}, count(*) FROM facilities WHERE type = $1 AND status = 'active' "
            "AND {code} LIKE $2 GROUP BY 1",
            code=level_code(q.level),
        ),
        q.ftype,
        q.under,
    )
    return {r[0]: int(r[1]) for r in rows}


async def covered_by(
    conn: AsyncConnection, q: CoverageQuery, area: service_areas.ServiceArea, divisions_version: int
) -> dict[str, tuple[float, float]]:
    """Covered area (m²) and population per division of the query's level, from the leaves below it, unrounded."""
    leaves = await service_areas.leaves(conn, divisions_version)
    chosen = leaves.under(q.within)
    ratios = await asyncio.to_thread(covered_ratios, leaves.geoms[chosen], area.pieces)
    n = CODE_LENGTH[q.level]
    covered: dict[str, tuple[float, float]] = {}
    area_m2, population = leaves.area_m2.tolist(), leaves.population.tolist()
    for i, ratio in zip(chosen.tolist(), ratios.tolist(), strict=True):
        code = leaves.codes[i][:n]
        m2, pop = covered.get(code, (0.0, 0.0))
        covered[code] = (m2 + area_m2[i] * ratio, pop + population[i] * ratio)
    return covered


def covered_people(covered_population: float, population: int) -> int:
    """The covered people of a row: rounded to whole people, never more than live there."""
    return min(round(covered_population), population)


def rows_of(
    q: CoverageQuery,
    divisions: list[DivisionRow],
    counts: dict[str, int],
    covered: dict[str, tuple[float, float]],
) -> list[dict[str, Any]]:
    """One coverage row per division from its facility count and (radius mode) covered area and people."""
    rows = []
    for d in divisions:
        n_fac = int(counts.get(d.code, 0))
        if q.mode == "presence":
            cov_m2, cov_pop = (d.area_m2, float(d.population)) if n_fac > 0 else (0.0, 0.0)
        else:
            cov_m2, cov_pop = covered.get(d.code, (0.0, 0.0))
        ratio = min(cov_m2 / d.area_m2, 1.0) if d.area_m2 else 0.0
        people = covered_people(cov_pop, d.population)
        rows.append(
            {
                "code": d.code,
                "name": d.name,
                "level": d.level,
                "parent_code": d.parent_code,
                "parent_name": d.parent_name,
                "facilities": n_fac,
                "area_km2": round(d.area_m2 / 1e6, 6),
                "covered_area_km2": round(min(cov_m2, d.area_m2) / 1e6, 6),
                "covered_area_ratio": round(ratio, RATIO_DIGITS),
                "population": d.population,
                "covered_population": people,
                "covered_population_ratio": round(people / d.population, RATIO_DIGITS)
                if d.population
                else 0.0,
            }
        )
    return rows


def _classes(ratios: list[float]) -> tuple[int, int, int]:
    """How many of the ratios are 1 (fully covered), between 0 and 1 (partly), 0 (not at all)."""
    full = sum(1 for r in ratios if r >= 1.0)
    none = sum(1 for r in ratios if r <= 0.0)
    return full, len(ratios) - full - none, none


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary over the rows: totals, shares, and how many divisions are fully, partly or not covered
    by area and by people (a division without people is classed by its area)."""
    area = sum(r["area_km2"] for r in rows)
    covered = sum(r["covered_area_km2"] for r in rows)
    pop = sum(r["population"] for r in rows)
    cov_pop = sum(r["covered_population"] for r in rows)
    by_area = _classes([r["covered_area_ratio"] for r in rows])
    by_people = _classes(
        [
            r["covered_population"] / r["population"] if r["population"] else r["covered_area_ratio"]
            for r in rows
        ]
    )
    return {
        "divisions": len(rows),
        "covered_divisions": sum(1 for r in rows if r["covered_area_ratio"] > 0),
        "fully_covered_divisions": by_area[0],
        "partly_covered_divisions": by_area[1],
        "uncovered_divisions": by_area[2],
        "fully_covered_divisions_by_population": by_people[0],
        "partly_covered_divisions_by_population": by_people[1],
        "uncovered_divisions_by_population": by_people[2],
        "area_km2": round(area, 6),
        "covered_area_km2": round(covered, 6),
        "uncovered_area_km2": round(area - covered, 6),
        "covered_area_ratio": round(covered / area, RATIO_DIGITS) if area else 0.0,
        "population": pop,
        "covered_population": cov_pop,
        "uncovered_population": pop - cov_pop,
        "covered_population_ratio": round(cov_pop / pop, RATIO_DIGITS) if pop else 0.0,
    }


def answer_data(q: CoverageQuery, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The coverage answer of API.md: parameters, summary and the rows."""
    return {**q.parameters(), "summary": summarize(rows), "divisions": rows}


async def covered_today(
    conn: AsyncConnection, q: CoverageQuery, shown: DataVersions
) -> dict[str, tuple[float, float]]:
    """``covered_by`` today's service area (radius mode), kept per query and data versions (computed once for
    the requests that ask at the same time): siting starts from these unrounded figures."""

    async def compute() -> dict[str, tuple[float, float]]:
        leaves = await service_areas.leaves(conn, shown.divisions)
        area = await service_areas.of_type(conn, q.ftype, q.radius_m, shown.facilities, leaves.srid)
        return await covered_by(conn, q, area, shown.divisions)

    return await _covered_cache.get_or_compute((conn.engine.url, q, shown), compute)


_covered_cache: LRU[tuple[Any, ...], dict[str, tuple[float, float]]] = LRU(16)


async def today_rows(conn: AsyncConnection, q: CoverageQuery, shown: DataVersions) -> list[dict[str, Any]]:
    """The rows for today's active facilities."""
    covered: dict[str, tuple[float, float]] = {}
    if q.mode == "radius":
        covered = await covered_today(conn, q, shown)
    return rows_of(q, await division_rows(conn, q), await facility_counts(conn, q), covered)


async def _outlines(
    conn: AsyncConnection, q: CoverageQuery
) -> tuple[service_areas.ServiceArea, shapely.Geometry, int]:
    shown = await data_versions(conn, q)
    leaves = await service_areas.leaves(conn, shown.divisions)
    area = await service_areas.of_type(conn, q.ftype, q.radius_m, shown.facilities, leaves.srid)
    return area, await service_areas.shown_area(conn, q.within, shown.divisions, leaves.srid), leaves.srid


async def service_area(conn: AsyncConnection, q: CoverageQuery, tolerance: float) -> str | None:
    """GeoJSON of the service area, dissolved, clipped to the area shown (``q.within`` or the region) and
    simplified by ``tolerance`` degrees; None without any."""
    area, shown, srid = await _outlines(conn, q)
    return await asyncio.to_thread(
        lambda: service_areas.to_geojson(shapely.intersection(area.union, shown), srid, tolerance)
    )


async def uncovered_area(conn: AsyncConnection, q: CoverageQuery, tolerance: float) -> str | None:
    """GeoJSON of the area shown outside the service area, dissolved and simplified; None when all covered."""
    area, shown, srid = await _outlines(conn, q)
    return await asyncio.to_thread(
        lambda: service_areas.to_geojson(shapely.difference(shown, area.union), srid, tolerance)
    )


@dataclass(frozen=True)
class Answer:
    """A coverage answer, kept serialised with its ETag (a village-level table is ~0.65 MB of JSON, which takes
    longer to hash than the kept answer takes to find)."""

    data: dict[str, Any]
    body: bytes
    etag: str


_cache: LRU[tuple[Any, ...], Answer] = LRU(128)


async def coverage(conn: AsyncConnection, params: CoverageParams) -> dict[str, Any]:
    """The coverage answer of API.md: parameters, summary and one row per division."""
    return (await answer(conn, params)).data


async def answer(conn: AsyncConnection, params: CoverageParams) -> Answer:
    """The coverage answer with its JSON and ETag."""
    return await answer_for(conn, await resolve_query(conn, params))


async def answer_for(conn: AsyncConnection, q: CoverageQuery) -> Answer:
    """The coverage answer of a resolved query (kept per query and data versions; computed once for the
    requests that ask for it at the same time, as they all do after a write)."""
    shown = await data_versions(conn, q)

    async def compute() -> Answer:
        data = answer_data(q, await today_rows(conn, q, shown))
        body = orjson.dumps(data)
        return Answer(data, body, etag_of(body))

    return await _cache.get_or_compute((q, shown, conn.engine.url.render_as_string()), compute)


async def gaps(conn: AsyncConnection, params: CoverageParams, crs: str = "wgs84") -> dict[str, Any]:
    """FeatureCollection of the divisions at ``level`` (default village) with no coverage, most people first."""
    answer = await coverage(conn, params.at_level("village"))
    uncovered = [r for r in answer["divisions"] if r["covered_area_ratio"] == 0]
    uncovered.sort(key=lambda r: (-r["population"], r["code"]))
    shapes = await raw.fetch(
        conn,
        "SELECT code, ST_AsGeoJSON(geom, 7) FROM divisions WHERE code = ANY($1::text[])",
        [r["code"] for r in uncovered],
    )
    geoms: dict[str, str] = {r[0]: r[1] for r in shapes}
    features = [feature(r["code"], geoms.get(r["code"]), orjson.dumps(r).decode(), crs) for r in uncovered]
    params_shown = {
        ("facility_type" if k == "type" else k): answer[k]
        for k in ("type", "mode", "radius_m", "level", "within")
    }
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": len(features),
        "parameters": params_shown,
    }
