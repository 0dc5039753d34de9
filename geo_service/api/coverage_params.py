"""The parameters of a coverage request, declared once for every route that measures coverage.

``/v1/coverage`` (and its CSV/XLSX downloads), ``/gaps``, ``/uncovered`` and ``/siting`` take them through
``coverage_params``; the coverage map page through ``map_coverage_params`` (the same, with the type optional);
the what-if (a POST) takes the same fields in its body and builds the same object. Services get one
:class:`CoverageParams` and resolve it once (``coverage.resolve_query``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from geo_service.api.deps import ConnDep, SettingsDep
from geo_service.api.params import DivisionRef, Level, Mode, Radius
from geo_service.services import coverage_map
from geo_service.services.coverage import CoverageParams

FacilityTypeParam = Annotated[
    str,
    Query(
        max_length=64,
        description="Facility type code (elderly_canteen) or its collection id (elderly-canteens).",
    ),
]
LevelParam = Annotated[
    Level | None,
    Query(
        description="Division level of the rows (default: the type's; village for gaps and uncovered areas)."
    ),
]


async def coverage_params(
    type: FacilityTypeParam,
    radius_m: Radius = None,
    level: LevelParam = None,
    within: DivisionRef = None,
    mode: Mode | None = None,
) -> CoverageParams:
    """The coverage request of a query string (async: FastAPI calls it inline, no thread)."""
    return CoverageParams(type, radius_m, level, within, mode)


CoverageParamsDep = Annotated[CoverageParams, Depends(coverage_params)]


async def map_coverage_params(
    conn: ConnDep,
    settings: SettingsDep,
    type: Annotated[
        str | None, Query(max_length=64, description="Facility type code (default: elderly canteens).")
    ] = None,
    radius_m: Radius = None,
    level: LevelParam = None,
    within: DivisionRef = None,
    mode: Mode | None = None,
) -> CoverageParams:
    """The coverage request of a map page, whose type may be left out (the settings' default type then)."""
    ftype = type or await coverage_map.default_type(conn, settings.map_default_type)
    return await coverage_params(ftype, radius_m, level, within, mode)


MapCoverageParamsDep = Annotated[CoverageParams, Depends(map_coverage_params)]
