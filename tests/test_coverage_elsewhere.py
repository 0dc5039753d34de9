"""Coverage of a region that is not Guangzhou: the metric zone comes from the loaded divisions, so a tiny
synthetic district straddling the Greenwich meridian (longitude 0.0, which an ``or`` fallback once took for
"missing") is measured in its own UTM zone, and a disc inside it covers its true area."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import shapely
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.db.engine import create_engine, prepare_database
from geo_service.services import imports, service_areas
from tests.conftest import run, settings_for

#: A district about 2.8 × 2.2 km whose extent is centred on (0.0, 51.5).
WEST, SOUTH, EAST, NORTH = -0.02, 51.49, 0.02, 51.51


def _load(url: str, tmp_path: Path) -> None:
    prepare_database(url)
    district = gpd.GeoDataFrame(
        {"code": ["990101"], "name": ["格林尼治区"], "population": [10_000]},
        geometry=[shapely.box(WEST, SOUTH, EAST, NORTH)],
        crs="EPSG:4326",
    )
    canteen = gpd.GeoDataFrame(
        {"name": ["子午线长者饭堂"]}, geometry=[shapely.Point(0.0, 51.5)], crs="EPSG:4326"
    )
    district.to_file(tmp_path / "d.geojson", driver="GeoJSON")
    canteen.to_file(tmp_path / "f.geojson", driver="GeoJSON")

    async def go() -> None:
        engine = create_engine(url, pool_size=1)
        try:
            await imports.import_boundaries(engine, tmp_path / "d.geojson", "district", "wgs84")
            await imports.import_facilities(engine, tmp_path / "f.geojson", "elderly_canteen", "wgs84")
        finally:
            await engine.dispose()

    run(go())


def test_a_region_on_the_greenwich_meridian_is_measured_in_its_own_zone(
    empty_url: str, tmp_path: Path
) -> None:
    _load(empty_url, tmp_path)
    with TestClient(create_app(settings_for(empty_url))) as client:
        resp = client.get(
            "/v1/coverage", params={"type": "elderly_canteen", "level": "district", "radius_m": 500}
        )
        # no villages are loaded: a village map has no divisions to draw, and still draws (Folium refused it)
        page = client.get("/maps/coverage", params={"type": "elderly_canteen", "level": "village"})
    assert resp.status_code == 200, resp.text
    (row,) = resp.json()["divisions"]
    disc_km2 = math.pi * 0.5**2  # the disc lies wholly inside the district
    assert abs(row["covered_area_km2"] - disc_km2) / disc_km2 < 0.002, row
    assert row["covered_area_km2"] < row["area_km2"]
    assert page.status_code == 200
    # (where such a page is framed is map_parts' bounds_of, whose Guangzhou default is another branch's to drop)


def test_the_zone_follows_the_data() -> None:
    assert service_areas.region_srid(0.0, 51.5) == 32631  # UTM 31N, not a Chinese zone
    assert service_areas.region_srid(113.3, 23.1) == 4547  # Guangzhou: CGCS2000 3° GK, CM 114E
    assert service_areas.region_srid(None, None) == 32631  # nothing loaded: any zone serves nothing
