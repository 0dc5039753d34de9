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
from geo_service.services import coverage, service_areas
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
    villages = _frame(
        sample_url,
        "SELECT code, ST_AsBinary(geom) FROM divisions WHERE level = 'village' AND code LIKE :p",
        p=district + "%",
    ).to_crs(TM)
    # Every active canteen, wherever it is: those just outside the district count too.
    canteens = _frame(
        sample_url,
        "SELECT id, ST_AsBinary(geom) FROM facilities WHERE type = 'elderly_canteen' AND status = 'active'",
    ).to_crs(TM)
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
    by_area = [r["covered_area_ratio"] for r in rows]
    assert s["fully_covered_divisions"] == sum(1 for v in by_area if v == 1.0)
    assert s["uncovered_divisions"] == sum(1 for v in by_area if v == 0.0)
    assert s["partly_covered_divisions"] == sum(1 for v in by_area if 0 < v < 1)
    assert s["covered_divisions"] == s["fully_covered_divisions"] + s["partly_covered_divisions"]
    by_people = [
        r["covered_population"] / r["population"] if r["population"] else r["covered_area_ratio"]
        for r in rows
    ]
    assert s["fully_covered_divisions_by_population"] == sum(1 for v in by_people if v == 1.0)
    assert s["uncovered_divisions_by_population"] == sum(1 for v in by_people if v == 0.0)
    assert s["fully_covered_divisions_by_population"] + s["partly_covered_divisions_by_population"] + s[
        "uncovered_divisions_by_population"
    ] == len(rows)
    assert s["uncovered_population"] == s["population"] - s["covered_population"]
    assert s["uncovered_area_km2"] == pytest.approx(s["area_km2"] - s["covered_area_km2"], abs=1e-5)
    for r in rows:
        assert 0 <= r["covered_area_ratio"] <= 1
        people = r["covered_population"] / r["population"] if r["population"] else 0.0
        assert r["covered_population_ratio"] == pytest.approx(people, abs=1e-6)
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
    query(
        fresh_url,
        "INSERT INTO facilities (type, name, status, geometry_source, geom, village_code) "
        "SELECT 'elderly_canteen', '新饭堂', 'active', 'test', ST_PointOnSurface(geom), code "
        "FROM divisions WHERE code = :c",
        c=target,
    )
    query(
        fresh_url, "UPDATE data_versions SET version = version + 1 WHERE name = 'facilities:elderly_canteen'"
    )
    after = {r["code"]: r for r in fresh_client.get("/v1/coverage", params=params).json()["divisions"]}
    assert after[target]["covered_area_ratio"] > 0
    assert np.isclose(after[target]["facilities"], 1)


def test_start_up_loads_the_divisions_coverage_needs(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_areas, "_leaves_cache", LRU(4))  # filled by nothing but the warm-up below
    app = create_app(settings_for(fresh_url, warm_up=True))
    with TestClient(app) as client:

        async def loaded() -> tuple[object, int]:
            await app.state.warming
            async with app.state.engine.connect() as conn:
                return conn.engine.url, (await versions.current(conn))["divisions"]

        url, version = client.portal.call(loaded)
        leaves = service_areas._leaves_cache.get((url, version))
        assert leaves is not None and len(leaves.codes) == 2851
        body = client.get("/v1/coverage", params={"type": "elderly_canteen", "level": "district"}).json()
        assert len(body["divisions"]) == 11


@pytest.mark.parametrize("within", [None, "440106"])
def test_the_maps_service_area_is_the_union_of_discs(sample_url: str, within: str | None) -> None:
    """Dissolved (no seams where the union was cut in pieces) and clipped to the area shown: the district, or
    the whole region (not the district's bounding box)."""
    q = coverage.CoverageQuery("elderly_canteen", "radius", 1500.0, "village", within)

    async def outline() -> str | None:
        engine = create_engine(sample_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return await coverage.service_area(conn, q, 0.0001)
        finally:
            await engine.dispose()

    area = gpd.GeoSeries([shapely.from_geojson(run(outline()))], crs="EPSG:4326").to_crs(TM).iloc[0]
    active = (
        "SELECT id, ST_AsBinary(geom) FROM facilities WHERE type = 'elderly_canteen' AND status = 'active'"
    )
    canteens = _frame(sample_url, active).to_crs(TM)
    union = shapely.union_all(shapely.buffer(canteens.geometry.values, 1500.0, quad_segs=64))
    shown_sql = (
        "SELECT 1, ST_AsBinary(geom) FROM divisions WHERE code = :c"
        if within
        else "SELECT 1, ST_AsBinary(ST_Union(geom)) FROM divisions WHERE parent_code IS NULL"
    )
    shown = _frame(sample_url, shown_sql, c=within).to_crs(TM).geometry.iloc[0]
    expected = shapely.intersection(union, shown)
    assert shapely.area(shapely.symmetric_difference(area, expected)) < 0.005 * shapely.area(expected)
    assert shapely.area(shapely.difference(area, shapely.buffer(shown, 20))) == 0  # nothing outside the area
    # Seams (the pieces' cut lines drawn) would add their length twice to the outline.
    assert area.boundary.length == pytest.approx(expected.boundary.length, rel=0.01)


def test_township_headline_tells_fully_from_partly_covered(client: TestClient) -> None:
    """The city at township level: one township touched by a disc counted as covered read "177 / 178"."""
    s = client.get("/v1/coverage", params={"type": "elderly_canteen", "level": "township"}).json()["summary"]
    assert s["covered_divisions"] == 177 and s["divisions"] == 178
    assert s["fully_covered_divisions"] < 60 and s["partly_covered_divisions"] > 100
    assert s["uncovered_divisions"] == 1


def test_within_by_name(client: TestClient) -> None:
    by_code = client.get(
        "/v1/coverage", params={"type": "elderly_canteen", "level": "village", "within": "440106"}
    )
    by_name = client.get(
        "/v1/coverage", params={"type": "elderly_canteen", "level": "village", "within": "天河区"}
    )
    assert by_name.status_code == 200 and by_name.json() == by_code.json()
    assert by_name.json()["within"] == "440106"
    town = client.get("/v1/coverage", params={"type": "elderly_canteen", "within": "石牌街道"}).json()
    assert town["within"] == "440106006" and town["level"] == "township" and len(town["divisions"]) == 1
    short = client.get("/v1/coverage", params={"type": "elderly_canteen", "within": "翠洲社区"}).json()
    assert short["within"] == "440103001101"  # a village by the name in use (翠洲社区居民委员会)
    for path in ("/v1/coverage/gaps", "/v1/coverage/uncovered", "/maps/coverage"):
        assert client.get(path, params={"type": "elderly_canteen", "within": "天河区"}).status_code == 200, (
            path
        )


def test_a_name_shared_by_several_divisions_is_a_422_listing_them(
    client: TestClient, sample_url: str
) -> None:
    codes = [
        r[0] for r in query(sample_url, "SELECT code FROM divisions WHERE name = '莲塘村委会' ORDER BY code")
    ]
    assert len(codes) == 6
    resp = client.get("/v1/coverage", params={"type": "elderly_canteen", "within": "莲塘村委会"})
    assert resp.status_code == 422
    body = resp.json()
    assert all(code in body["detail"] for code in codes)
    assert [c["code"] for c in body["candidates"]] == codes
    assert (
        client.get("/v1/coverage", params={"type": "elderly_canteen", "within": "莲塘村"}).status_code == 422
    )
    unknown = client.get("/v1/coverage", params={"type": "elderly_canteen", "within": "不存在区"})
    assert unknown.status_code == 404 and "不存在区" in unknown.json()["detail"]
    page = client.get("/maps/coverage", params={"type": "elderly_canteen", "within": "莲塘村委会"})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        (
            "/v1/coverage",
            {"level": "township", "within": "天河区", "format": "csv"},
            "coverage_elderly_canteen_township_440106.csv",
        ),
        ("/v1/coverage", {"format": "xlsx"}, "coverage_elderly_canteen_township_all.xlsx"),
        (
            "/v1/coverage/gaps",
            {"level": "township", "within": "440117", "format": "geojson"},
            "gaps_elderly_canteen_township_440117.geojson",
        ),
        (
            "/v1/coverage/uncovered",
            {"within": "440117", "format": "gpkg"},
            "uncovered_elderly_canteen_village_440117.gpkg",
        ),
    ],
)
def test_download_names_say_type_level_and_area(
    client: TestClient, path: str, params: dict, name: str
) -> None:
    resp = client.get(path, params={"type": "elderly_canteen", **params})
    assert resp.status_code == 200
    disposition = resp.headers["content-disposition"]
    assert f'filename="{name}"' in disposition
    if "within" in params:
        assert "filename*=UTF-8''" in disposition and (
            "%E5%A4%A9%E6%B2%B3%E5%8C%BA" in disposition or "%E4%BB%8E%E5%8C%96%E5%8C%BA" in disposition
        )


def test_gaps_download_follows_the_level(client: TestClient) -> None:
    """The township page's 未覆盖 download held 414 villages: it holds the page's townships."""
    params = {"type": "elderly_canteen", "radius_m": 500, "level": "township", "within": "440117"}
    rows = client.get("/v1/coverage", params=params).json()["divisions"]
    body = client.get("/v1/coverage/gaps", params={**params, "format": "geojson"}).json()
    assert {f["id"] for f in body["features"]} == {r["code"] for r in rows if r["covered_area_ratio"] == 0}
    assert all(len(f["id"]) == 9 for f in body["features"])


def test_new_facility_types_have_coverage(client: TestClient) -> None:
    """The bureau's other networks are types like the first four (data, from migration 0012)."""
    centres = client.get("/v1/coverage", params={"type": "dementia_care_center"}).json()
    assert centres["mode"] == "presence" and centres["level"] == "district"
    assert centres["summary"]["divisions"] == 11 and centres["summary"]["covered_divisions"] == 7
    stations = client.get("/v1/coverage", params={"type": "community_station", "level": "district"}).json()
    assert stations["mode"] == "radius" and stations["radius_m"] == 1000
    _check_summary(stations)
    assert sum(r["facilities"] for r in stations["divisions"]) == 49


def test_the_map_downloads_follow_its_level_and_area(client: TestClient) -> None:
    page = client.get(
        "/maps/coverage", params={"type": "elderly_canteen", "level": "township", "within": "天河区"}
    )
    assert page.status_code == 200
    query_ = "type=elderly_canteen&amp;level=township&amp;within=440106"
    for link in (
        f"/v1/coverage?{query_}&amp;format=csv",
        f"/v1/coverage/gaps?{query_}&amp;format=geojson",
        f"/v1/coverage/uncovered?{query_}&amp;format=gpkg",
    ):
        assert f'href="{link}"' in page.text
    default = client.get("/maps/coverage", params={"type": "elderly_canteen"})
    assert (
        'href="/v1/coverage/gaps?type=elderly_canteen&amp;level=township&amp;format=geojson"' in default.text
    )


def test_the_map_draws_a_few_proposed_sites(client: TestClient) -> None:
    refused = client.get("/maps/coverage", params={"type": "elderly_canteen", "sites": 21})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html")
    page = client.get("/maps/coverage", params={"type": "elderly_canteen", "within": "440106", "sites": 2})
    assert page.status_code == 200 and "Proposed sites (2)" in page.text
