"""Coverage checked against an independent shapely computation in EPSG:4547; summaries against rows."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.db import versions
from geo_service.db.engine import create_engine
from geo_service.services import coverage
from geo_service.services.lru import LRU
from tests.conftest import run, settings_for
from tests.conftest import sql as query

TM = "EPSG:4547"


def _frame(url: str, sql_text: str, **params: object) -> gpd.GeoDataFrame:
    rows = query(url, sql_text, **params)
    return gpd.GeoDataFrame(
        [r[:-1] for r in rows], geometry=shapely.from_wkb([bytes(r[-1]) for r in rows]), crs="EPSG:4326"
    )


@pytest.mark.parametrize(("district", "radius"), [("440106", 1000.0), ("440117", 1500.0)])
def test_radius_coverage_matches_shapely_in_4547(
    client: TestClient, sample_url: str, district: str, radius: float
) -> None:
    answer = client.get(
        "/v1/coverage",
        params={"type": "elderly_canteen", "radius_m": radius, "level": "village", "within": district},
    ).json()
    villages = _frame(sample_url, "SELECT code, ST_AsBinary(geom) FROM divisions WHERE level = 'village' "
                                  "AND code LIKE :p", p=district + "%").to_crs(TM)  # fmt: skip
    # Every active canteen, wherever it is: those just outside the district count too.
    canteens = _frame(sample_url, "SELECT id, ST_AsBinary(geom) FROM facilities WHERE type = 'elderly_canteen' "
                                  "AND status = 'active'").to_crs(TM)  # fmt: skip
    discs = shapely.union_all(shapely.buffer(canteens.geometry.values, radius, quad_segs=64))
    inter = shapely.area(shapely.intersection(villages.geometry.values, discs))
    expected = dict(zip(villages[0], inter / villages.area.to_numpy(), strict=True))
    rows = {r["code"]: r for r in answer["divisions"]}
    assert set(rows) == set(expected)
    for code, ratio in expected.items():
        assert rows[code]["covered_area_ratio"] == pytest.approx(ratio, abs=0.005), code
    total = sum(r["covered_area_km2"] for r in rows.values())
    assert total == pytest.approx(inter.sum() / 1e6, rel=0.005)


def test_facilities_just_outside_count(client: TestClient, sample_url: str) -> None:
    # 越秀 (440104) within 1 km: canteens across its border cover 1.4 km² of it (4 %) that its own 68 do not.
    answer = client.get(
        "/v1/coverage",
        params={"type": "elderly_canteen", "radius_m": 1000, "level": "village", "within": "440104"},
    ).json()
    villages = _frame(
        sample_url,
        "SELECT code, ST_AsBinary(geom) FROM divisions WHERE level = 'village' AND code LIKE '440104%'",
    ).to_crs(TM)
    canteens = _frame(
        sample_url,
        "SELECT district_code, ST_AsBinary(geom) FROM facilities WHERE type = 'elderly_canteen' AND status = 'active'",
    ).to_crs(TM)

    def covered_km2(points: gpd.GeoDataFrame) -> float:
        discs = shapely.union_all(shapely.buffer(points.geometry.values, 1000.0, quad_segs=64))
        return float(shapely.area(shapely.intersection(villages.geometry.values, discs)).sum() / 1e6)

    inside = canteens[canteens[0] == "440104"]
    every, own = covered_km2(canteens), covered_km2(inside)
    assert every - own > 1.0  # the case is worth testing: outside canteens matter here
    assert answer["summary"]["covered_area_km2"] == pytest.approx(every, rel=0.003)
    assert sum(r["facilities"] for r in answer["divisions"]) == len(inside) == 68  # counted where they stand


def _check_summary(answer: dict) -> None:
    rows, s = answer["divisions"], answer["summary"]
    assert s["divisions"] == len(rows)
    assert s["covered_divisions"] == sum(1 for r in rows if r["covered_area_ratio"] > 0)
    assert s["area_km2"] == pytest.approx(sum(r["area_km2"] for r in rows), abs=1e-5)
    assert s["covered_area_km2"] == pytest.approx(sum(r["covered_area_km2"] for r in rows), abs=1e-5)
    assert s["covered_area_ratio"] == pytest.approx(s["covered_area_km2"] / s["area_km2"], abs=1e-6)
    assert s["population"] == sum(r["population"] for r in rows)
    assert s["covered_population"] == sum(r["covered_population"] for r in rows)
    assert s["covered_population_ratio"] == pytest.approx(s["covered_population"] / s["population"], abs=1e-6)
    for r in rows:
        assert 0 <= r["covered_area_ratio"] <= 1
        assert r["covered_area_km2"] == pytest.approx(
            r["area_km2"] * r["covered_area_ratio"], abs=r["area_km2"] * 1e-6 + 1e-5
        )
        assert 0 <= r["covered_population"] <= r["population"]


@pytest.mark.parametrize("level", ["district", "township", "village"])
def test_summary_agrees_with_rows_at_every_level(client: TestClient, level: str) -> None:
    answer = client.get("/v1/coverage", params={"type": "elderly_canteen", "level": level}).json()
    assert answer["mode"] == "radius" and answer["radius_m"] == 1000
    assert len(answer["divisions"]) == {"district": 11, "township": 178, "village": 2851}[level]
    _check_summary(answer)


def test_levels_aggregate_consistently(client: TestClient) -> None:
    params = {"type": "elderly_canteen", "radius_m": 800}
    villages = client.get("/v1/coverage", params={**params, "level": "village"}).json()["divisions"]
    towns = client.get("/v1/coverage", params={**params, "level": "township"}).json()["divisions"]
    for town in towns[:40]:
        kids = [v for v in villages if v["parent_code"] == town["code"]]
        assert town["covered_area_km2"] == pytest.approx(sum(v["covered_area_km2"] for v in kids), abs=1e-4)
        # Population covered: each village's population × its ratio, summed upwards.
        expected = sum(v["population"] * v["covered_area_ratio"] for v in kids)
        assert town["covered_population"] == pytest.approx(expected, abs=len(kids) + 1)


def test_within_limits_rows_to_descendants(client: TestClient) -> None:
    answer = client.get(
        "/v1/coverage", params={"type": "elderly_canteen", "within": "440103", "level": "village"}
    ).json()
    assert len(answer["divisions"]) == 201
    assert all(r["code"].startswith("440103") for r in answer["divisions"])


def test_presence_mode_defaults(client: TestClient) -> None:
    stations = client.get("/v1/coverage", params={"type": "social_work_station"}).json()
    assert stations["mode"] == "presence" and stations["level"] == "township"
    uncovered = [r["code"] for r in stations["divisions"] if r["covered_area_ratio"] == 0]
    assert sorted(uncovered) == ["440117404", "440117405"]  # the reservoir and the forest farm
    _check_summary(stations)
    points = client.get("/v1/coverage", params={"type": "social_work_point"}).json()
    assert points["level"] == "village"
    assert points["summary"]["divisions"] - points["summary"]["covered_divisions"] == 44
    for r in points["divisions"]:
        assert (r["facilities"] > 0) == (r["covered_area_ratio"] == 1.0)


def test_gaps_are_uncovered_villages_most_people_first(client: TestClient) -> None:
    resp = client.get("/v1/coverage/gaps", params={"type": "social_work_point"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 44
    pops = [f["properties"]["population"] for f in body["features"]]
    assert pops == sorted(pops, reverse=True)
    assert all(f["properties"]["facilities"] == 0 for f in body["features"])
    assert all(f["id"] == f["properties"]["code"] for f in body["features"])
    assert body["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_radius_gaps_have_zero_ratio(client: TestClient) -> None:
    body = client.get(
        "/v1/coverage/gaps", params={"type": "elderly_canteen", "radius_m": 500, "within": "440117"}
    ).json()
    assert body["features"]
    assert all(f["properties"]["covered_area_ratio"] == 0 for f in body["features"])


def test_coverage_changes_when_a_facility_opens(fresh_client: TestClient, fresh_url: str) -> None:
    params = {"type": "elderly_canteen", "level": "village", "within": "440117"}
    before = {r["code"]: r for r in fresh_client.get("/v1/coverage", params=params).json()["divisions"]}
    target = next(code for code, r in before.items() if r["covered_area_ratio"] == 0)
    query(fresh_url, "INSERT INTO facilities (type, name, status, geometry_source, geom, village_code) "
                     "SELECT 'elderly_canteen', '新饭堂', 'active', 'test', ST_PointOnSurface(geom), code "
                     "FROM divisions WHERE code = :c", c=target)  # fmt: skip
    query(
        fresh_url, "UPDATE data_versions SET version = version + 1 WHERE name = 'facilities:elderly_canteen'"
    )
    after = {r["code"]: r for r in fresh_client.get("/v1/coverage", params=params).json()["divisions"]}
    assert after[target]["covered_area_ratio"] > 0
    assert np.isclose(after[target]["facilities"], 1)


def test_start_up_loads_the_divisions_coverage_needs(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coverage, "_leaves_cache", LRU(4))  # filled by nothing but the warm-up below
    app = create_app(settings_for(fresh_url, warm_up=True))
    with TestClient(app) as client:

        async def loaded() -> tuple[object, int]:
            await app.state.warming
            async with app.state.engine.connect() as conn:
                return conn.engine.url, (await versions.current(conn))["divisions"]

        url, version = client.portal.call(loaded)
        leaves = coverage._leaves_cache.get((url, version))
        assert leaves is not None and len(leaves.codes) == 2851
        body = client.get("/v1/coverage", params={"type": "elderly_canteen", "level": "district"}).json()
        assert len(body["divisions"]) == 11


@pytest.mark.parametrize("within", [None, "440106"])
def test_the_maps_service_area_is_the_union_of_discs(sample_url: str, within: str | None) -> None:
    q = coverage.CoverageQuery("elderly_canteen", "radius", 1500.0, "village", within)

    async def outline() -> str | None:
        engine = create_engine(sample_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return await coverage.service_area(conn, q, 0.0001)
        finally:
            await engine.dispose()

    area = shapely.make_valid(shapely.from_geojson(run(outline())))
    active = (
        "SELECT id, ST_AsBinary(geom) FROM facilities WHERE type = 'elderly_canteen' AND status = 'active'"
    )
    canteens = _frame(sample_url, active).to_crs(TM)
    union = shapely.union_all(shapely.buffer(canteens.geometry.values, 1500.0, quad_segs=64))
    discs = gpd.GeoSeries([union], crs=TM).to_crs("EPSG:4326").iloc[0]
    if within:  # the discs within ~2 km of the district's box
        envelope = "SELECT ST_Expand(ST_Envelope(geom), 0.02) b FROM divisions WHERE code = :c"
        box = query(
            sample_url, f"SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM ({envelope}) s", c=within
        )
        discs = shapely.intersection(discs, shapely.box(*box[0]))
    assert shapely.area(shapely.symmetric_difference(area, discs)) < 0.005 * shapely.area(discs)
