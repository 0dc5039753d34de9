"""Planning: what-if coverage, uncovered areas and siting (public reads), and candidate sites (staff uploads).

A what-if is a read sent as POST only because of its body: public, rate-limited like every public request, its
input bounded (at most 1,000 added sites), nothing written.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from geo_service import i18n
from geo_service.api.auth import Surveyor
from geo_service.api.coverage_params import CoverageParamsDep
from geo_service.api.deps import ConnDep, EngineDep, SettingsDep, UploadPoolDep, read_connection
from geo_service.api.downloads import download
from geo_service.api.params import DIVISION_REF_PATTERN, Crs, CrsName, GeoFileFormat, Level, Mode, point_wgs84
from geo_service.api.responses import WRITE_ERRORS, GeoJSONBody, JSONBody
from geo_service.api.submissions import limits_of, save_upload
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services import division_names, exports, scenario, siting, siting_candidates, uncovered
from geo_service.services.coverage import CoverageParams
from geo_service.services.vector_files import ACCEPTED

router = APIRouter(prefix="/v1/coverage", tags=["planning"])


class PointGeometry(BaseModel):
    """A GeoJSON Point geometry (lon, lat in the request's `crs`)."""

    type: Literal["Point"]
    coordinates: Annotated[
        list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=3)
    ]


EXAMPLE: dict[str, Any] = {
    "type": "elderly_canteen",
    "level": "village",
    "within": "天河区",
    "add": [{"type": "Point", "coordinates": [113.3615, 23.1247]}],
    "remove": [12],
}


class ScenarioRequest(BaseModel):
    """A what-if: today's facilities of a type, with sites added and facilities closed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    type: str = Field(max_length=64, description="Facility type code.")
    radius_m: float | None = Field(
        default=None, gt=0, le=100_000, allow_inf_nan=False, description="Service radius in metres."
    )
    level: Level | None = None
    within: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=DIVISION_REF_PATTERN,
        description="A division code or full name.",
    )
    mode: Mode | None = None
    add: list[PointGeometry] = Field(
        default_factory=list, max_length=scenario.MAX_ADDED, description="Sites to open."
    )
    remove: list[Annotated[int, Field(ge=1, le=9_223_372_036_854_775_807)]] = Field(
        default_factory=list, max_length=scenario.MAX_REMOVED, description="Ids of facilities to close."
    )
    crs: CrsName = "wgs84"

    def params(self) -> CoverageParams:
        """The coverage request of the what-if (the same object the GET routes build from a query string)."""
        return CoverageParams(self.type, self.radius_m, self.level, self.within, self.mode)


@router.post("/scenario", summary="What-if coverage (nothing written)")
async def create_scenario(request: Request, body: ScenarioRequest) -> JSONBody:
    """The coverage answer (as `GET /v1/coverage`) with the sites in `add` opened and the facilities in
    `remove` closed, and `delta`: the change in covered people, area and divisions against today at the same
    radius and mode."""
    points = []
    for i, geom in enumerate(body.add):
        lon, lat = geom.coordinates[0], geom.coordinates[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput(t("add[{i}]: coordinates must be lon within ±180 and lat within ±90", i=i))
        points.append(point_wgs84(lon, lat, body.crs))
    async with read_connection(request) as conn:
        answer = await scenario.scenario(conn, body.params(), points, body.remove)
    return JSONBody(answer)


@router.get("/uncovered", summary="Parts of divisions outside every service area", response_class=GeoJSONBody)
async def read_uncovered_areas(
    conn: ConnDep,
    params: CoverageParamsDep,
    crs: Crs = "wgs84",
    format: GeoFileFormat = "json",
) -> Response:
    """Each division at `level` minus the service area (radius mode; in presence mode the divisions without
    a facility), with `uncovered_area_km2` and `uncovered_population` (people spread evenly in a village),
    the most uncovered people first."""
    answer = await uncovered.uncovered(conn, params, crs)
    if format == "json":
        return GeoJSONBody(answer)
    within_code = answer["parameters"]["within"]
    name = exports.filename("uncovered", params.ftype, answer["parameters"]["level"], within_code, format)
    body = exports.features_file(answer, format, "uncovered", list(uncovered.PROPERTIES))
    return download(body, format, name, await division_names.name_of(conn, within_code))


@router.get(
    "/siting", summary="Where the next facilities would reach the most people", response_class=GeoJSONBody
)
async def read_siting(
    conn: ConnDep,
    settings: SettingsDep,
    params: CoverageParamsDep,
    n: Annotated[int, Query(ge=1, le=siting.MAX_SITES, description="How many sites to propose.")] = 5,
    candidates: Annotated[
        str,
        Query(
            pattern=r"^(villages|grid|" + siting_candidates.ID_PATTERN[1:-1] + ")$",
            description="villages (each village's representative point), grid, or the id of uploaded sites.",
        ),
    ] = "villages",
    method: Annotated[
        Literal["auto", "milp", "greedy"],
        Query(description="auto: exact (MILP) when it solves within the time limit, else greedy."),
    ] = "auto",
    grid_m: Annotated[
        float,
        Query(ge=siting.GRID_M[0], le=siting.GRID_M[1], allow_inf_nan=False, description="Grid spacing (m)."),
    ] = 500.0,
    crs: Crs = "wgs84",
    format: Annotated[
        Literal["json", "geojson", "csv", "xlsx"], Query(description="json, or a file download.")
    ] = "json",
) -> Response:
    """The n sites (`site-1` … in order) that add the most covered people, each with the people it adds given
    the ones before (`gain_population`); `summary` with the people covered before and after, the method and,
    unless MILP proved the choice optimal, an upper bound on the best possible."""
    answer = await siting.siting(
        conn, params, n, candidates, method, grid_m, crs, settings.siting_time_limit_s
    )
    if format == "json":
        return GeoJSONBody(answer)
    shown = answer["parameters"]
    name = exports.filename("sites", params.ftype, shown["level"], shown["within"], format)
    body = (
        exports.sites_table(answer, format)
        if format in exports.TABLE_FORMATS
        else exports.features_file(answer, format, "sites", list(exports.SITE_HEADERS))
    )
    return download(body, format, name, await division_names.name_of(conn, shown["within"]))


@router.post(
    "/candidates", status_code=201, summary="Upload candidate sites for siting", responses=WRITE_ERRORS
)
async def create_candidates(
    engine: EngineDep,
    settings: SettingsDep,
    pool: UploadPoolDep,
    caller: Surveyor,
    file: Annotated[UploadFile, File(description=f"Points: {ACCEPTED}.")],
    crs: Annotated[
        str, Form(description="wgs84, cgcs2000, gcj02, bd09 or EPSG:n: what the file's coordinates are.")
    ] = "wgs84",
    encoding: Annotated[
        str | None, Form(max_length=30, description="Text encoding if not UTF-8/GBK.")
    ] = None,
    layer: Annotated[str | None, Form(max_length=200, description="GeoPackage layer.")] = None,
) -> JSONBody:
    """201 `{"id", "count"}`: use the id as `candidates=` in `GET /v1/coverage/siting` (kept 30 days).
    Each point keeps its name (a `name`/`名称` column) as its label; 422 naming the rows that are not points."""
    folder = Path(tempfile.mkdtemp(prefix="geo-candidates-"))
    try:
        path, shown = await save_upload(file, folder, limits_of(settings).max_bytes)
        points = await pool.run(
            siting_candidates.read_points, path, shown, crs, encoding, layer, i18n.language()
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    async with engine.begin() as conn:
        set_id = await siting_candidates.store(conn, caller.name, shown, points)
    result: dict[str, Any] = {"id": set_id, "count": len(points)}
    return JSONBody(result, status_code=201)
