"""Siting: where the next n facilities of a type would reach the most people not reached today.

Radius mode: the maximal covering location problem (``mclp``) over candidate sites (each village's
representative point, a regular grid, or an uploaded file), with the people outside today's service area in
units that candidate discs cover whole (``siting_demand``). Gains are counted as coverage counts people (per
row, rounded), and the people covered after are those of the what-if with the sites added (``scenario``), so
that the gains add up exactly to that what-if's delta. Presence mode: the uncovered divisions with the most
people, one site each at its representative point.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw
from geo_service.domain.crs import from_wgs84
from geo_service.domain.errors import Busy, InvalidInput
from geo_service.i18n import t
from geo_service.services import coverage, mclp, scenario, service_areas, siting_candidates
from geo_service.services.disc_union import discs, reproject
from geo_service.services.division_index import division_index
from geo_service.services.lru import LRU
from geo_service.services.siting_demand import Demand, demand_units

CANDIDATE_KINDS = ("villages", "grid")
MAX_SITES = 50
MAX_CANDIDATES = 5000
GRID_M = (100.0, 20_000.0)
DEFAULT_TIME_LIMIT_S = 10.0


@dataclass(frozen=True)
class Candidates:
    """Candidate sites in WGS84 (7 decimals) with a label each."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    labels: list[str]


_demand_cache: LRU[tuple[Any, ...], tuple[Candidates, Demand]] = LRU(4)
#: Whole answers by their parameters and the data versions they hold for (asking again costs nothing).
_answers: LRU[tuple[Any, ...], dict[str, Any]] = LRU(16)
#: Sitings computed at once in a process (each takes a core for seconds); more are told to come back.
MAX_RUNNING = 2
RETRY_AFTER_S = 5
_running = 0


def _check(n: int, candidates: str, method: str, grid_m: float) -> None:
    if not 1 <= n <= MAX_SITES:
        raise InvalidInput(t("n must be between 1 and {limit}", limit=MAX_SITES))
    if method not in mclp.METHODS:
        raise InvalidInput(
            t("unknown method {method!r}: use {methods}", method=method, methods=", ".join(mclp.METHODS))
        )
    if not (math.isfinite(grid_m) and GRID_M[0] <= grid_m <= GRID_M[1]):
        raise InvalidInput(
            t("grid_m must be between {low:.0f} and {high:.0f} metres", low=GRID_M[0], high=GRID_M[1])
        )
    if candidates not in CANDIDATE_KINDS and not _is_upload_id(candidates):
        raise InvalidInput(t("candidates: use villages, grid, or the id of uploaded candidate sites"))


def _is_upload_id(value: str) -> bool:
    return re.fullmatch(siting_candidates.ID_PATTERN, value) is not None


def _rounded(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    return np.round(lon, 7), np.round(lat, 7)


def _grid(
    leaves: service_areas.Leaves, chosen: NDArray[np.intp], grid_m: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points of a square grid (``grid_m`` apart, aligned to multiples of it) inside the chosen villages."""
    geoms = leaves.geoms[chosen]
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    xs = np.arange(math.ceil(minx / grid_m) * grid_m, maxx, grid_m)
    ys = np.arange(math.ceil(miny / grid_m) * grid_m, maxy, grid_m)
    if len(xs) * len(ys) > 40 * MAX_CANDIDATES:
        raise InvalidInput(
            t(
                "a grid of {grid_m:g} m over this area is too fine: use a larger grid_m or a smaller within",
                grid_m=grid_m,
            )
        )
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    points = shapely.points(gx, gy)
    inside = np.unique(shapely.STRtree(geoms).query(points, predicate="intersects")[0])
    if len(inside) > MAX_CANDIDATES:
        raise InvalidInput(
            t(
                "a grid of {grid_m:g} m gives {count} candidate sites here (at most {limit}): "
                "use a larger grid_m or a smaller within",
                grid_m=grid_m,
                count=len(inside),
                limit=MAX_CANDIDATES,
            )
        )
    wgs84 = reproject(points[inside], leaves.srid, 4326)
    lon, lat = _rounded(shapely.get_x(wgs84), shapely.get_y(wgs84))
    return lon, lat


async def _candidates(
    conn: AsyncConnection, q: coverage.CoverageQuery, kind: str, grid_m: float, leaves: service_areas.Leaves
) -> Candidates:
    if kind == "villages":
        rows = await raw.fetch(
            conn,
            "SELECT code, name, round(ST_X(p)::numeric, 7), round(ST_Y(p)::numeric, 7) FROM ("
            "SELECT d.code, d.name, ST_PointOnSurface(d.geom) AS p FROM divisions d WHERE d.code LIKE $1 "
            "AND NOT EXISTS (SELECT 1 FROM divisions c WHERE c.parent_code = d.code)) s ORDER BY code",
            q.under,
        )
        lon = np.array([float(r[2]) for r in rows])
        lat = np.array([float(r[3]) for r in rows])
        return Candidates(lon, lat, [f"{r[1]} ({r[0]})" for r in rows])
    if kind == "grid":
        lon, lat = await asyncio.to_thread(_grid, leaves, leaves.under(q.within), grid_m)
        return Candidates(lon, lat, [f"grid {i + 1}" for i in range(len(lon))])
    points = await siting_candidates.load(conn, kind)
    return Candidates(
        np.array([p[0] for p in points], dtype=float),
        np.array([p[1] for p in points], dtype=float),
        [str(p[2]) for p in points],
    )


async def _demand(
    conn: AsyncConnection,
    q: coverage.CoverageQuery,
    kind: str,
    grid_m: float,
    shown: coverage.DataVersions,
) -> tuple[Candidates, Demand, service_areas.Leaves]:
    """Candidates and the units of demand they cover (kept per query, candidates and data versions)."""
    leaves = await service_areas.leaves(conn, shown.divisions)
    area = await service_areas.of_type(conn, q.ftype, q.radius_m, shown.facilities, leaves.srid)
    key = (
        conn.engine.url,
        q.ftype,
        q.radius_m,
        q.within,
        kind,
        grid_m if kind == "grid" else None,
        shown,
    )
    kept = _demand_cache.get(key)
    if kept is None:
        cands = await _candidates(conn, q, kind, grid_m, leaves)
        chosen = leaves.under(q.within)

        def work() -> Demand:
            circles = discs(cands.lon, cands.lat, q.radius_m, leaves.srid)
            return demand_units(leaves.geoms[chosen], leaves.population[chosen], area.pieces, circles)

        kept = (cands, await asyncio.to_thread(work))
        _demand_cache.put(key, kept)
    return kept[0], kept[1], leaves


async def _prefix_totals(
    conn: AsyncConnection,
    q: coverage.CoverageQuery,
    demand: Demand,
    leaves: service_areas.Leaves,
    shown: coverage.DataVersions,
    order: list[int],
) -> list[int]:
    """The covered people (rounded per row, as the coverage summary counts them) with sites order[:k] added,
    for k = 1 … len(order) − 1."""
    today = await coverage.covered_today(conn, q, shown)
    rows = await coverage.division_rows(conn, q)
    width = coverage.CODE_LENGTH[q.level]
    codes = leaves.codes
    chosen = leaves.under(q.within)
    row_of_unit = [codes[i][:width] for i in chosen[demand.leaf].tolist()]
    inst = demand.instance
    units = inst.units_of()
    added: dict[str, float] = {}
    covered = np.zeros(len(inst.weights), dtype=bool)
    totals = []
    for site in order[:-1]:
        fresh = np.unique(units[inst.cands == site])
        fresh = fresh[~covered[fresh]]
        covered[fresh] = True
        for u in fresh.tolist():
            added[row_of_unit[u]] = added.get(row_of_unit[u], 0.0) + float(inst.weights[u])
        totals.append(
            sum(
                coverage.covered_people(
                    today.get(r.code, (0.0, 0.0))[1] + added.get(r.code, 0.0), r.population
                )
                for r in rows
            )
        )
    return totals


async def _site_divisions(conn: AsyncConnection, lon: list[float], lat: list[float]) -> list[str | None]:
    """The finest division each site lies in (None outside the region)."""
    index = await division_index(conn)
    points = shapely.points(np.column_stack([lon, lat])) if lon else np.array([], dtype=object)
    found: list[str | None] = [None] * len(lon)
    for level in ("district", "township", "village"):
        for i, code in enumerate(index.locate(points, level)):
            found[i] = code or found[i]
    return found


async def siting(
    conn: AsyncConnection,
    params: coverage.CoverageParams,
    n: int,
    candidates: str = "villages",
    method: str = "auto",
    grid_m: float = 500.0,
    crs: str = "wgs84",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> dict[str, Any]:
    """FeatureCollection of the n proposed sites (``site-1`` … in order of their gains) with ``summary``."""
    _check(n, candidates, method, grid_m)
    q = await coverage.resolve_query(conn, params)
    shown = await coverage.data_versions(conn, q)
    key = (conn.engine.url, q, n, candidates, method, grid_m, crs, time_limit_s, shown)
    kept = _answers.get(key)
    if kept is None:
        global _running
        if _running >= MAX_RUNNING:
            raise Busy(
                t(
                    "the server is siting {running} other requests; try again in {seconds} s",
                    running=_running,
                    seconds=RETRY_AFTER_S,
                ),
                retry_after=RETRY_AFTER_S,
            )
        _running += 1
        try:
            kept = await _answer(conn, q, n, candidates, method, grid_m, crs, time_limit_s, shown)
        finally:
            _running -= 1
        _answers.put(key, kept)
    return kept


@dataclass(frozen=True)
class _Picked:
    """Sites in the order chosen: where they are, what each was (its candidate's label), the division each lies
    in, the people covered after each site but the last, the solver's account and figures of the search."""

    lon: list[float]
    lat: list[float]
    labels: list[str]
    located: list[str | None]
    totals: list[int]
    solution: mclp.Solution
    extra: dict[str, Any] = field(default_factory=dict)


async def _answer(
    conn: AsyncConnection,
    q: coverage.CoverageQuery,
    n: int,
    candidates: str,
    method: str,
    grid_m: float,
    crs: str,
    time_limit_s: float,
    shown: coverage.DataVersions,
) -> dict[str, Any]:
    today = (await coverage.answer_for(conn, q)).data
    before = int(today["summary"]["covered_population"])
    if q.mode == "presence":
        picked = await _presence_sites(conn, q, n, today)
    else:
        picked = await _radius_sites(conn, q, n, candidates, method, grid_m, time_limit_s, shown)
    after = before
    if (
        picked.lon
    ):  # the people after: the what-if's own figure, so that the gains add up to its delta exactly
        what_if = await scenario.scenario_for(conn, q, list(zip(picked.lon, picked.lat, strict=True)), [])
        after = int(what_if["summary"]["covered_population"])
    cumulative = [before, *picked.totals, after]
    gains = [b - a for a, b in itertools.pairwise(cumulative)] if picked.lon else []
    features = await _site_features(conn, picked, gains, crs)
    bound = None
    if picked.solution.bound is not None:
        bound = max(after, before + math.ceil(picked.solution.bound - 1e-9))
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": len(features),
        "parameters": _parameters(q, n, candidates, grid_m),
        "summary": {
            "covered_population_before": before,
            "covered_population_after": after,
            "method": picked.solution.method,
            "bound": bound,
            "optimal": picked.solution.optimal,
            "sites": len(features),
            "seconds": round(picked.solution.seconds, 3),
            "time_limit_s": time_limit_s,
            **picked.extra,
        },
    }


def _parameters(q: coverage.CoverageQuery, n: int, candidates: str, grid_m: float) -> dict[str, Any]:
    """What the answer was asked (coverage parameters, n and the candidates)."""
    return {
        **q.parameters(),
        "n": n,
        "candidates": candidates if q.mode == "radius" else "divisions",
        "grid_m": grid_m if candidates == "grid" else None,
    }


async def _radius_sites(
    conn: AsyncConnection,
    q: coverage.CoverageQuery,
    n: int,
    candidates: str,
    method: str,
    grid_m: float,
    time_limit_s: float,
    shown: coverage.DataVersions,
) -> _Picked:
    """The n candidates covering the most people not yet covered (maximal covering location, services/mclp.py)."""
    cands, demand, leaves = await _demand(conn, q, candidates, grid_m, shown)
    solution = await asyncio.to_thread(mclp.solve, demand.instance, n, method, time_limit_s)
    order = solution.chosen
    lon, lat = cands.lon[order].tolist(), cands.lat[order].tolist()
    totals = await _prefix_totals(conn, q, demand, leaves, shown, order)
    located = await _site_divisions(conn, lon, lat)  # the village (or finer division) each lies in
    extra = {"candidates": len(cands.labels), "demand_units": len(demand.instance.weights)}
    return _Picked(lon, lat, [cands.labels[j] for j in order], located, totals, solution, extra)


async def _site_features(
    conn: AsyncConnection, picked: _Picked, gains: list[int], crs: str
) -> list[dict[str, Any]]:
    """The sites as GeoJSON features (``site-1`` …) in ``crs``, with their gains and divisions."""
    names = await _names(conn, [c for c in picked.located if c])
    features = []
    for k, (x, y) in enumerate(zip(picked.lon, picked.lat, strict=True)):
        ox, oy = (float(v) for v in from_wgs84(crs, x, y)) if crs not in ("wgs84", "cgcs2000") else (x, y)
        features.append(
            {
                "type": "Feature",
                "id": f"site-{k + 1}",
                "geometry": {"type": "Point", "coordinates": [ox, oy]},
                "properties": {
                    "rank": k + 1,
                    "gain_population": gains[k],
                    "division_code": picked.located[k],
                    "division_name": names.get(picked.located[k] or ""),
                    "candidate": picked.labels[k],
                },
            }
        )
    return features


async def _names(conn: AsyncConnection, codes: list[str]) -> dict[str, str]:
    rows = await raw.fetch(conn, "SELECT code, name FROM divisions WHERE code = ANY($1::text[])", codes)
    return {r[0]: r[1] for r in rows}


async def _presence_sites(
    conn: AsyncConnection, q: coverage.CoverageQuery, n: int, today: dict[str, Any]
) -> _Picked:
    """The n uncovered divisions with the most people, at their representative points: each adds its people,
    whatever the others, so this choice is the best (and the bound is what it reaches)."""
    empty = [r for r in today["divisions"] if r["facilities"] == 0]
    empty.sort(key=lambda r: (-r["population"], r["code"]))
    picked = empty[:n]
    rows = await raw.fetch(
        conn,
        "SELECT code, round(ST_X(p)::numeric, 7), round(ST_Y(p)::numeric, 7) FROM "
        "(SELECT code, ST_PointOnSurface(geom) AS p FROM divisions WHERE code = ANY($1::text[])) s",
        [r["code"] for r in picked],
    )
    at = {r[0]: (float(r[1]), float(r[2])) for r in rows}
    lon = [at[r["code"]][0] for r in picked]
    lat = [at[r["code"]][1] for r in picked]
    before = int(today["summary"]["covered_population"])
    totals = list(np.cumsum([r["population"] for r in picked[:-1]]).astype(int) + before)
    gained = float(sum(r["population"] for r in picked))
    solution = mclp.Solution(list(range(len(picked))), gained, "greedy", True, gained, 0.0)
    labels = [f"{r['name']} ({r['code']})" for r in picked]
    return _Picked(lon, lat, labels, [r["code"] for r in picked], [int(t) for t in totals], solution)
