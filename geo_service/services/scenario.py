"""What-if coverage: today's active facilities of a type with some sites added and some closed, measured exactly
as today's coverage is (the same rows, summary and rounding), with the change against today. Nothing is written.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import shapely
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw
from geo_service.db.sql import compose
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services import coverage, facility_types, service_areas
from geo_service.services.division_index import division_index

#: Most sites one what-if may add, and close.
MAX_ADDED = 1000
MAX_REMOVED = 10_000
#: The summary figures whose change against today a what-if reports.
DELTA_FIGURES = (
    "covered_population",
    "covered_area_km2",
    "covered_divisions",
    "fully_covered_divisions",
    "uncovered_divisions",
    "covered_population_ratio",
    "covered_area_ratio",
)

Point = tuple[float, float]


def _check_points(add: list[Point]) -> None:
    if len(add) > MAX_ADDED:
        raise InvalidInput(
            t("add: at most {limit} sites at once ({count} given)", limit=MAX_ADDED, count=len(add))
        )
    for i, (lon, lat) in enumerate(add):
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput(t("add[{i}]: coordinates must be lon within ±180 and lat within ±90", i=i))


def _removed(type_shown: str, ids: list[int], active: np.ndarray) -> list[int]:
    """The ids to close, each an active facility of the type (InvalidInput naming the others)."""
    if len(ids) > MAX_REMOVED:
        raise InvalidInput(
            t("remove: at most {limit} facilities at once ({count} given)", limit=MAX_REMOVED, count=len(ids))
        )
    wanted = sorted(set(ids))
    known = set(active.tolist())
    unknown = [i for i in wanted if i not in known]
    if unknown:
        shown = ", ".join(str(i) for i in unknown[:20]) + (" …" if len(unknown) > 20 else "")
        if len(unknown) == 1:
            raise InvalidInput(
                t("remove: {ids} is not an active {type} facility", ids=shown, type=type_shown)
            )
        raise InvalidInput(t("remove: {ids} are not active {type} facilities", ids=shown, type=type_shown))
    return wanted


async def _counts(
    conn: AsyncConnection, q: coverage.CoverageQuery, removed: list[int], add: list[Point]
) -> dict[str, int]:
    """Facilities per division at the query's level: today's, less the closed, plus the added where they lie."""
    counts = await coverage.facility_counts(conn, q)
    prefix = q.within or ""  # codes nest: a division under within starts with its code
    if removed:
        closed = compose(
            "SELECT {code} FROM facilities WHERE id = ANY($1::bigint[])", code=coverage.level_code(q.level)
        )
        rows = await raw.fetch(conn, closed, removed)
        for (code,) in rows:
            if code is not None and code.startswith(prefix):
                counts[code] = counts.get(code, 0) - 1
    if add:
        index = await division_index(conn)
        points = shapely.points(np.array(add, dtype=float).reshape(-1, 2))
        for code in index.locate(points, q.level):
            if code is not None and code.startswith(prefix):
                counts[code] = counts.get(code, 0) + 1
    return counts


async def scenario(
    conn: AsyncConnection, params: coverage.CoverageParams, add: list[Point], remove: list[int]
) -> dict[str, Any]:
    """The coverage answer for today's facilities with ``add`` (WGS84 points) opened and ``remove`` closed,
    plus ``delta`` against today at the same radius and mode."""
    return await scenario_for(conn, await coverage.resolve_query(conn, params), add, remove)


async def scenario_for(
    conn: AsyncConnection, q: coverage.CoverageQuery, add: list[Point], remove: list[int]
) -> dict[str, Any]:
    """``scenario`` for a resolved query."""
    _check_points(add)
    shown = await coverage.data_versions(conn, q)
    today = (await coverage.answer_for(conn, q)).data
    active = await service_areas.active_facilities(conn, q.ftype, shown.facilities)
    removed = _removed(
        facility_types.type_word(await facility_types.get_type(conn, q.ftype)), remove, active.ids
    )
    covered: dict[str, tuple[float, float]] = {}
    if q.mode == "radius":
        leaves = await service_areas.leaves(conn, shown.divisions)
        keep = ~np.isin(active.ids, removed)
        lon = np.concatenate([active.lon[keep], np.array([p[0] for p in add], dtype=float)])
        lat = np.concatenate([active.lat[keep], np.array([p[1] for p in add], dtype=float)])
        area = await asyncio.to_thread(service_areas.build, lon, lat, q.radius_m, leaves.srid)
        covered = await coverage.covered_by(conn, q, area, shown.divisions)
    counts = await _counts(conn, q, removed, add)
    rows = coverage.rows_of(q, await coverage.division_rows(conn, q), counts, covered)
    data = coverage.answer_data(q, rows)
    after, before = data["summary"], today["summary"]
    data["delta"] = {k: _difference(after[k], before[k]) for k in DELTA_FIGURES}
    data["scenario"] = {"added": len(add), "removed": len(removed)}
    return data


def _difference(after: float, before: float) -> float:
    if isinstance(after, int) and isinstance(before, int):
        return after - before
    return round(after - before, coverage.RATIO_DIGITS)
