"""Public queries (no key needed): locate, nearest facilities, coverage and gaps."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from geo_service.api.coverage_params import CoverageParamsDep, FacilityTypeParam
from geo_service.api.deps import ConnDep, read_connection
from geo_service.api.downloads import download
from geo_service.api.params import Crs, GeoFileFormat, Lat, Lon, point_wgs84
from geo_service.api.response_models import CoverageAnswer, LocateAnswer, NearestAnswer, documented
from geo_service.api.responses import GeoJSONBody, JSONBody
from geo_service.services import coverage, division_names, exports, locate, nearest

router = APIRouter(prefix="/v1", tags=["public queries"])


@router.get(
    "/divisions/locate",
    summary="Divisions containing a point",
    responses=documented(LocateAnswer),
    response_model=None,
)
async def read_locate(request: Request, lon: Lon, lat: Lat, crs: Crs = "wgs84") -> dict[str, Any]:
    """The district, township and village containing the point; 404 outside every loaded district."""
    x, y = point_wgs84(lon, lat, crs)
    async with read_connection(request) as conn:
        return await locate.locate(conn, x, y)


@router.get(
    "/facilities/nearest",
    summary="The k nearest active facilities of a type",
    response_class=GeoJSONBody,
    responses=documented(NearestAnswer, "application/geo+json"),
    response_model=None,
)
async def read_nearest_facilities(
    request: Request,
    lon: Lon,
    lat: Lat,
    type: FacilityTypeParam,
    k: Annotated[int, Query(ge=1, le=100, description="How many facilities (1–100).")] = 5,
    max_distance_m: Annotated[
        float | None,
        Query(gt=0, le=1_000_000, allow_inf_nan=False, description="Farthest distance in metres."),
    ] = None,
    crs: Crs = "wgs84",
) -> GeoJSONBody:
    """Ascending by geodesic distance (`distance_m`, metres on WGS84); ties by id."""
    x, y = point_wgs84(lon, lat, crs)
    async with read_connection(request) as conn:
        return GeoJSONBody(await nearest.nearest(conn, x, y, type, k, max_distance_m, crs))


@router.get(
    "/coverage",
    summary="Coverage of divisions by a facility type",
    responses=documented(CoverageAnswer),
    response_model=None,
)
async def read_coverage(
    conn: ConnDep,
    params: CoverageParamsDep,
    format: Annotated[
        Literal["json", "csv", "xlsx"], Query(description="json, or a table download.")
    ] = "json",
) -> Any:
    """Per-division covered area and population, and the summary over the rows (with how many divisions are
    fully, partly or not covered, by area and by people)."""
    kept = await coverage.answer(conn, params)
    if format == "json":
        return JSONBody(kept.body, headers={"ETag": kept.etag})
    answer = kept.data
    name = exports.filename("coverage", params.ftype, answer["level"], answer["within"], format)
    area = await division_names.name_of(conn, answer["within"])
    return download(exports.coverage_table(answer, format), format, name, area)


@router.get("/coverage/gaps", summary="Divisions with no coverage", response_class=GeoJSONBody)
async def read_coverage_gaps(
    conn: ConnDep,
    params: CoverageParamsDep,
    crs: Crs = "wgs84",
    format: GeoFileFormat = "json",
) -> Response:
    """Uncovered divisions at `level`, largest population first, with the coverage row as properties."""
    answer = await coverage.gaps(conn, params, crs)
    if format == "json":
        return GeoJSONBody(answer)
    within_code = answer["parameters"]["within"]
    name = exports.filename("gaps", params.ftype, answer["parameters"]["level"], within_code, format)
    area = await division_names.name_of(conn, within_code)
    return download(exports.gaps_file(answer, format), format, name, area)
