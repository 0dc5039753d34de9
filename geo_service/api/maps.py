"""Map pages (Folium/Leaflet) for planners and the public; their scripts come from /static or are hashed.

Each page carries a Content-Security-Policy naming the hashes of its own inline scripts (services/csp.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from geo_service.api.coverage_params import MapCoverageParamsDep
from geo_service.api.deps import ConnDep, SettingsDep
from geo_service.api.params import Crs, DivisionCode, Lat, Lon, point_wgs84
from geo_service.services import coverage_map, csp, maps
from geo_service.services.map_parts import Tiles

router = APIRouter(prefix="/maps", tags=["maps"], default_response_class=HTMLResponse)

Basemap = Annotated[str, Query(description="Basemap: osm (OpenStreetMap) or amap (高德, drawn in GCJ-02).")]
TypeParam = Annotated[str, Query(max_length=64, description="Facility type code.")]


def _html(page: csp.Page) -> HTMLResponse:
    return HTMLResponse(page.html, headers={"Content-Security-Policy": csp.header(page)})


def tiles_of(settings: SettingsDep) -> Tiles:
    return Tiles(
        osm_url=settings.tiles_osm_url,
        amap_url=settings.tiles_amap_url,
        amap_subdomains=settings.tiles_amap_subdomains,
    )


@router.get("/coverage", summary="Coverage map")
async def read_coverage_map(
    conn: ConnDep,
    settings: SettingsDep,
    params: MapCoverageParamsDep,
    basemap: Basemap = "osm",
    sites: Annotated[
        int | None, Query(ge=1, le=coverage_map.MAX_SITES, description="Also propose this many new sites.")
    ] = None,
) -> HTMLResponse:
    """Divisions shaded by covered share and named where names fit, uncovered divisions outlined, the service
    area and the uncovered areas, facilities clustered, proposed sites when asked, figures and downloads."""
    options = coverage_map.PageOptions(
        basemap,
        tiles_of(settings),
        downloads=True,
        sites=sites,
        siting_time_limit_s=settings.siting_time_limit_s,
        vector_tiles=True,
    )
    page = await coverage_map.coverage_map(conn, params, options)
    return _html(page)


@router.get("/boundaries", summary="Boundaries and markers map")
async def read_boundaries_map(
    conn: ConnDep, settings: SettingsDep, district: DivisionCode = None, basemap: Basemap = "osm"
) -> HTMLResponse:
    """Boundary lines with names, markers coloured by status with their inspection history."""
    return _html(await maps.boundaries_map(conn, district, basemap, tiles_of(settings)))


@router.get("/finder", summary="Facility finder map")
async def read_finder_map(
    conn: ConnDep,
    settings: SettingsDep,
    lon: Lon,
    lat: Lat,
    type: TypeParam,
    k: Annotated[int, Query(ge=1, le=100)] = 5,
    crs: Crs = "wgs84",
    basemap: Basemap = "osm",
) -> HTMLResponse:
    """The query point, its k nearest facilities, and a line to each labelled with the distance."""
    x, y = point_wgs84(lon, lat, crs)
    return _html(await maps.finder_map(conn, x, y, type, k, basemap, tiles_of(settings)))
