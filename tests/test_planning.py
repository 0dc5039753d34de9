"""Planning: what-if coverage, uncovered areas and siting, checked against independent computations (shapely in
EPSG:4547, brute force over every choice of sites) and against each other (gains add up to the what-if)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from tests.conftest import settings_for
from tests.conftest import sql as query
from tests.writes_helpers import auth, make_keys

TM = "EPSG:4547"
CANTEENS = "SELECT id, ST_AsBinary(geom) FROM facilities WHERE type = 'elderly_canteen' AND status = 'active'"
TO_TM = pyproj.Transformer.from_crs("EPSG:4326", TM, always_xy=True)
TO_WGS84 = pyproj.Transformer.from_crs(TM, "EPSG:4326", always_xy=True)


def _frame(url: str, sql_text: str, **params: object) -> gpd.GeoDataFrame:
    rows = query(url, sql_text, **params)
    return gpd.GeoDataFrame(
        [r[:-1] for r in rows], geometry=shapely.from_wkb([bytes(r[-1]) for r in rows]), crs="EPSG:4326"
    ).to_crs(TM)


def _villages(url: str, district: str) -> gpd.GeoDataFrame:
    return _frame(
        url,
        "SELECT code, population, ST_AsBinary(geom) FROM divisions WHERE level = 'village' "
        "AND code LIKE :p ORDER BY code",
        p=district + "%",
    )


def _covered_people(villages: gpd.GeoDataFrame, points_tm: list[shapely.Geometry], radius: float) -> float:
    """People within reach: each village's people × the share of it inside the union of true circles."""
    discs = shapely.union_all(shapely.buffer(np.array(points_tm, dtype=object), radius, quad_segs=64))
    shares = shapely.area(shapely.intersection(villages.geometry.values, discs)) / villages.area.to_numpy()
    return float((villages[1].to_numpy() * shares).sum())


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _people(answer: dict[str, Any]) -> float:
    """The covered people of a village-level answer before rounding (uniform density in a village)."""
    return sum(r["population"] * r["covered_area_ratio"] for r in answer["divisions"])


# --- what-if ---------------------------------------------------------------------------------------------


def test_an_empty_what_if_is_today(client: TestClient) -> None:
    params = {"type": "elderly_canteen", "level": "village", "within": "440106"}
    today = client.get("/v1/coverage", params=params).json()
    resp = client.post("/v1/coverage/scenario", json=params)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    what_if = resp.json()
    assert what_if["divisions"] == today["divisions"] and what_if["summary"] == today["summary"]
    assert set(what_if["delta"].values()) == {0} and what_if["scenario"] == {"added": 0, "removed": 0}


def test_a_what_if_matches_shapely_in_4547(client: TestClient, sample_url: str) -> None:
    """Canteens closed and sites opened in 从化区: every village's covered share as an independent computation
    (true circles in EPSG:4547) finds it."""
    closed = [
        r[0]
        for r in query(
            sample_url,
            "SELECT id FROM facilities WHERE type = 'elderly_canteen' "
            "AND district_code = '440117' ORDER BY id LIMIT 5",
        )
    ]
    empty = query(
        sample_url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p, area_m2 FROM divisions "
        "WHERE level = 'village' AND code LIKE '440117%' AND NOT EXISTS (SELECT 1 FROM facilities f "
        "WHERE f.village_code = divisions.code AND f.type = 'elderly_canteen') "
        "ORDER BY area_m2 DESC LIMIT 3) s",
    )
    body = {
        "type": "elderly_canteen",
        "level": "village",
        "within": "从化区",
        "radius_m": 1200,
        "add": [_point(x, y) for x, y in empty],
        "remove": closed,
    }
    what_if = client.post("/v1/coverage/scenario", json=body).json()
    assert what_if["scenario"] == {"added": 3, "removed": 5} and what_if["within"] == "440117"
    canteens = _frame(sample_url, CANTEENS)
    kept = canteens[~canteens[0].isin(closed)].geometry.tolist()
    added = [shapely.Point(TO_TM.transform(x, y)) for x, y in empty]
    villages = _villages(sample_url, "440117")
    discs = shapely.union_all(shapely.buffer(np.array(kept + added, dtype=object), 1200, quad_segs=64))
    expected = shapely.area(shapely.intersection(villages.geometry.values, discs)) / villages.area.to_numpy()
    rows = {r["code"]: r for r in what_if["divisions"]}
    assert set(rows) == set(villages[0])
    for code, ratio in zip(villages[0], expected, strict=True):
        assert rows[code]["covered_area_ratio"] == pytest.approx(ratio, abs=0.005), code
    today = client.get(
        "/v1/coverage", params={k: body[k] for k in ("type", "level", "within", "radius_m")}
    ).json()
    assert what_if["delta"]["covered_population"] == (
        what_if["summary"]["covered_population"] - today["summary"]["covered_population"]
    )
    counts = {r["code"]: r["facilities"] for r in what_if["divisions"]}
    assert sum(counts.values()) == sum(r["facilities"] for r in today["divisions"]) - 5 + 3


def test_a_what_if_in_presence_mode(client: TestClient, sample_url: str) -> None:
    lacking, people = query(
        sample_url,
        "SELECT code, population FROM divisions v WHERE level = 'village' AND NOT EXISTS "
        "(SELECT 1 FROM facilities f WHERE f.village_code = v.code AND f.type = "
        "'social_work_point') ORDER BY population DESC LIMIT 1",
    )[0]
    closed, its_village, its_people = query(
        sample_url,
        "SELECT f.id, v.code, v.population FROM facilities f JOIN "
        "divisions v ON v.code = f.village_code WHERE f.type = "
        "'social_work_point' ORDER BY f.id LIMIT 1",
    )[0]
    x, y = query(
        sample_url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM divisions WHERE code = :c) s",
        c=lacking,
    )[0]
    what_if = client.post(
        "/v1/coverage/scenario", json={"type": "social_work_point", "add": [_point(x, y)], "remove": [closed]}
    ).json()
    rows = {r["code"]: r for r in what_if["divisions"]}
    assert rows[lacking]["covered_area_ratio"] == 1 and rows[lacking]["facilities"] == 1
    assert rows[its_village]["covered_area_ratio"] == 0 and rows[its_village]["facilities"] == 0
    assert what_if["delta"]["covered_population"] == people - its_people
    assert what_if["delta"]["covered_divisions"] == 0


def test_a_what_if_takes_other_coordinate_systems(client: TestClient) -> None:
    from geo_service.domain.crs import wgs84_to_gcj02

    body = {"type": "elderly_canteen", "level": "village", "within": "440117"}
    wgs = client.post("/v1/coverage/scenario", json={**body, "add": [_point(113.6, 23.65)]}).json()
    gx, gy = (float(v) for v in wgs84_to_gcj02(113.6, 23.65))
    gcj = client.post("/v1/coverage/scenario", json={**body, "crs": "gcj02", "add": [_point(gx, gy)]}).json()
    assert gcj["delta"]["covered_population"] == wgs["delta"]["covered_population"] > 0


def test_a_what_if_writes_nothing(client: TestClient, sample_url: str) -> None:
    state = (
        "SELECT (SELECT count(*) FROM facilities), (SELECT sum(version) FROM data_versions), "
        "(SELECT count(*) FROM audit_log)"
    )
    before = query(sample_url, state)
    resp = client.post(
        "/v1/coverage/scenario",
        json={"type": "elderly_canteen", "add": [_point(113.5, 23.4)], "remove": [1, 2, 3]},
    )
    assert resp.status_code == 200
    assert query(sample_url, state) == before


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"type": "elderly_canteen", "remove": [999999]}, 400, "999999"),
        ({"type": "elderly_canteen", "remove": [1387]}, 400, "1387"),  # a social work station, not a canteen
        ({"type": "no_such_type"}, 400, "unknown facility type"),
        ({"type": "elderly_canteen", "level": "city"}, 422, "level"),
        ({"type": "elderly_canteen", "add": [_point(200.0, 23.0)]}, 400, "add[0]"),
        ({"type": "elderly_canteen", "add": [{"type": "Feature", "geometry": _point(113, 23)}]}, 422, "add"),
        ({"type": "elderly_canteen", "add": [{"type": "Point", "coordinates": [113]}]}, 422, "add"),
        ({"type": "elderly_canteen", "add": [_point(113.3, 23.1)] * 1001}, 422, "add"),
        ({"type": "elderly_canteen", "radius_m": 0}, 422, "radius_m"),
        ({"type": "elderly_canteen", "within": "莲塘村委会"}, 422, "440112017207"),
        ({"type": "elderly_canteen", "crs": "EPSG:3857"}, 422, "crs"),
        ({"add": []}, 422, "type"),
    ],
)
def test_a_what_if_refuses_bad_input_in_words(
    client: TestClient, body: dict, status: int, words: str
) -> None:
    resp = client.post("/v1/coverage/scenario", json=body)
    assert resp.status_code == status, resp.text
    assert words in resp.json()["detail"]


def test_a_what_if_is_public_and_rate_limited_like_reads(sample_url: str) -> None:
    with TestClient(create_app(settings_for(sample_url, rate_limit_per_minute=1, rate_limit_burst=3))) as c:
        body = {"type": "elderly_canteen", "level": "district"}
        answers = [c.post("/v1/coverage/scenario", json=body) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1


# --- uncovered areas -------------------------------------------------------------------------------------


def test_uncovered_parts_against_shapely(client: TestClient, sample_url: str) -> None:
    params = {"type": "elderly_canteen", "within": "440117", "radius_m": 1000}
    resp = client.get("/v1/coverage/uncovered", params=params)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/geo+json")
    body = resp.json()
    villages = _villages(sample_url, "440117").set_index(0)
    discs = shapely.union_all(
        shapely.buffer(_frame(sample_url, CANTEENS).geometry.values, 1000, quad_segs=64)
    )
    geod = pyproj.Geod(ellps="WGS84")
    for f in body["features"]:
        p = f["properties"]
        assert (
            set(p)
            == {
                "code",
                "name",
                "level",
                "parent_code",
                "parent_name",
                "uncovered_area_km2",
                "uncovered_population",
            }
            and f["id"] == p["code"]
        )
        part = gpd.GeoSeries([shapely.geometry.shape(f["geometry"])], crs="EPSG:4326")
        area_km2 = abs(geod.geometry_area_perimeter(part.iloc[0])[0]) / 1e6
        assert area_km2 == pytest.approx(p["uncovered_area_km2"], rel=0.01, abs=0.002), p["code"]
        part_tm = part.to_crs(TM).iloc[0]
        village = villages.geometry[p["code"]]
        expected = shapely.difference(village, discs)
        assert shapely.area(shapely.symmetric_difference(part_tm, expected)) < 0.01 * village.area + 500, p[
            "code"
        ]
        assert p["uncovered_population"] == pytest.approx(
            villages[1][p["code"]] * expected.area / village.area, abs=0.01 * villages[1][p["code"]] + 1
        )
    listed = {f["id"] for f in body["features"]}
    for code, village in villages.geometry.items():
        if code not in listed:  # covered whole
            assert shapely.area(shapely.difference(village, discs)) < 0.001 * village.area + 100, code


def test_uncovered_figures_add_up_with_coverage(client: TestClient) -> None:
    params = {"type": "elderly_canteen", "within": "天河区", "level": "village"}
    body = client.get("/v1/coverage/uncovered", params=params).json()
    summary = client.get("/v1/coverage", params=params).json()["summary"]
    people = [f["properties"]["uncovered_population"] for f in body["features"]]
    assert sum(people) == summary["uncovered_population"] == body["summary"]["uncovered_population"]
    assert people == sorted(people, reverse=True)
    assert body["summary"]["uncovered_area_km2"] == pytest.approx(summary["uncovered_area_km2"], abs=1e-4)
    assert body["parameters"]["within"] == "440106"


def test_uncovered_in_presence_mode_are_the_gaps(client: TestClient) -> None:
    body = client.get("/v1/coverage/uncovered", params={"type": "social_work_point"}).json()
    gaps = client.get("/v1/coverage/gaps", params={"type": "social_work_point"}).json()
    assert {f["id"] for f in body["features"]} == {f["id"] for f in gaps["features"]} and len(
        gaps["features"]
    ) == 44
    population = {f["id"]: f["properties"]["population"] for f in gaps["features"]}
    assert all(f["properties"]["uncovered_population"] == population[f["id"]] for f in body["features"])


def test_uncovered_as_a_geopackage(client: TestClient, tmp_path: Any) -> None:
    params = {"type": "elderly_canteen", "within": "440106"}
    resp = client.get("/v1/coverage/uncovered", params={**params, "format": "gpkg"})
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "uncovered.gpkg"
    path.write_bytes(resp.content)
    frame = gpd.read_file(path, layer="uncovered")
    features = client.get("/v1/coverage/uncovered", params=params).json()["features"]
    assert len(frame) == len(features) and frame.crs.to_epsg() == 4326
    assert {"code", "uncovered_area_km2", "uncovered_population", "parent_name"} <= set(frame.columns)


# --- siting ----------------------------------------------------------------------------------------------


@pytest.fixture
def planner(fresh_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(settings_for(fresh_url))) as c:
        yield c, auth(make_keys(fresh_url, "planner")["surveyor"])


def _ring(url: str) -> list[tuple[float, float]]:
    """Eight candidate sites crowded round the village of 从化区 with the most people out of reach: their discs
    overlap, so which ones to take is a real choice."""
    code = query(
        url,
        "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440117%' "
        "ORDER BY population DESC LIMIT 1 OFFSET 3",
    )[0][0]
    x, y = query(
        url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM divisions WHERE code = :c) s",
        c=code,
    )[0]
    cx, cy = TO_TM.transform(x, y)
    ring = [(cx, cy)] + [
        (cx + 1100 * math.cos(a), cy + 1100 * math.sin(a)) for a in np.arange(7) * 2 * math.pi / 7
    ]
    return [tuple(round(v, 7) for v in TO_WGS84.transform(px, py)) for px, py in ring]  # type: ignore[misc]


def _upload(c: TestClient, key: dict[str, str], points: list[tuple[float, float]]) -> str:
    rows = "".join(f"{x},{y},候选{i + 1}\n" for i, (x, y) in enumerate(points))
    resp = c.post(
        "/v1/coverage/candidates",
        headers=key,
        data={"crs": "wgs84"},
        files={"file": ("sites.csv", f"lon,lat,name\n{rows}".encode(), "text/csv")},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["count"] == len(points)
    return str(resp.json()["id"])


def test_siting_is_optimal_by_brute_force_and_greedy_within_its_bound(
    planner: tuple[TestClient, dict[str, str]], fresh_url: str
) -> None:
    c, key = planner
    ring = _ring(fresh_url)
    set_id = _upload(c, key, ring)
    base = {"type": "elderly_canteen", "level": "village", "within": "440117"}
    today = _people(c.post("/v1/coverage/scenario", json=base).json())

    def people_with(sites: list[tuple[float, float]]) -> float:
        return _people(
            c.post("/v1/coverage/scenario", json={**base, "add": [_point(*s) for s in sites]}).json()
        )

    for n in (2, 3):
        best = max(people_with(list(choice)) for choice in itertools.combinations(ring, n))
        exact = c.get("/v1/coverage/siting", params={**base, "n": n, "candidates": set_id}).json()
        assert (
            exact["summary"]["method"] == "milp"
            and exact["summary"]["optimal"]
            and exact["summary"]["bound"] is None
        )
        chosen = [tuple(f["geometry"]["coordinates"]) for f in exact["features"]]
        assert len(chosen) == n and set(chosen) <= set(ring)
        assert people_with(chosen) == pytest.approx(best, abs=0.5)
        greedy = c.get(
            "/v1/coverage/siting", params={**base, "n": n, "candidates": set_id, "method": "greedy"}
        ).json()
        assert greedy["summary"]["method"] == "greedy" and not greedy["summary"]["optimal"]
        picked = [tuple(f["geometry"]["coordinates"]) for f in greedy["features"]]
        assert people_with(picked) - today >= (1 - 1 / math.e) * (best - today) - 0.5
        assert greedy["summary"]["bound"] >= exact["summary"]["covered_population_after"]
        labels = [f["properties"]["candidate"] for f in exact["features"]]
        assert all(label.startswith("候选") for label in labels)


def test_the_gains_add_up_to_the_what_if(client: TestClient) -> None:
    base = {"type": "elderly_canteen", "within": "天河区"}
    answer = client.get("/v1/coverage/siting", params={**base, "n": 5}).json()
    features = answer["features"]
    assert [f["id"] for f in features] == [f"site-{k}" for k in range(1, 6)]
    assert [f["properties"]["rank"] for f in features] == [1, 2, 3, 4, 5]
    sites = [f["geometry"] for f in features]
    totals = [client.post("/v1/coverage/scenario", json={**base, "add": sites[:k]}).json() for k in range(6)]
    gains = [f["properties"]["gain_population"] for f in features]
    # Site k adds what a what-if with sites 1 … k adds to one with sites 1 … k − 1.
    assert gains == [
        b["summary"]["covered_population"] - a["summary"]["covered_population"]
        for a, b in itertools.pairwise(totals)
    ]
    assert sum(gains) == totals[-1]["delta"]["covered_population"]
    s = answer["summary"]
    assert s["covered_population_before"] == totals[0]["summary"]["covered_population"]
    assert s["covered_population_after"] == totals[-1]["summary"]["covered_population"]
    assert all(g > 0 for g in gains)
    assert all(f["properties"]["division_code"].startswith("440106") for f in features)


def test_the_gains_against_shapely_in_4547(client: TestClient, sample_url: str) -> None:
    answer = client.get(
        "/v1/coverage/siting",
        params={"type": "elderly_canteen", "within": "440117", "n": 4, "level": "village"},
    ).json()
    villages = _villages(sample_url, "440117")
    canteens = _frame(sample_url, CANTEENS).geometry.tolist()
    sites = [shapely.Point(TO_TM.transform(*f["geometry"]["coordinates"])) for f in answer["features"]]
    before = _covered_people(villages, canteens, 1000)
    total = 0
    for k, f in enumerate(answer["features"]):
        gain = _covered_people(villages, canteens + sites[: k + 1], 1000) - _covered_people(
            villages, canteens + sites[:k], 1000
        )
        assert f["properties"]["gain_population"] == pytest.approx(gain, rel=0.01, abs=20)
        total += f["properties"]["gain_population"]
    assert total == pytest.approx(_covered_people(villages, canteens + sites, 1000) - before, rel=0.005)


def test_grid_candidates(client: TestClient, sample_url: str) -> None:
    answer = client.get(
        "/v1/coverage/siting",
        params={"type": "elderly_canteen", "within": "440106", "n": 3, "candidates": "grid", "grid_m": 1000},
    ).json()
    assert len(answer["features"]) == 3 and answer["parameters"]["grid_m"] == 1000
    district = _frame(
        sample_url, "SELECT 1, ST_AsBinary(geom) FROM divisions WHERE code = '440106'"
    ).geometry.iloc[0]
    for f in answer["features"]:
        x, y = TO_TM.transform(*f["geometry"]["coordinates"])
        assert (
            abs(x / 1000 - round(x / 1000)) < 1e-4 and abs(y / 1000 - round(y / 1000)) < 1e-4
        )  # on the grid
        assert district.contains(shapely.Point(x, y))
    too_fine = client.get(
        "/v1/coverage/siting", params={"type": "elderly_canteen", "candidates": "grid", "grid_m": 100}
    )
    assert too_fine.status_code == 400 and "grid_m" in too_fine.json()["detail"]
    # 3 km discs round every village of 天河区: their arrangement would take minutes, so it is refused in words.
    crowded = client.get(
        "/v1/coverage/siting",
        params={"type": "charity_supermarket", "within": "440106", "radius_m": 3000, "n": 3},
    )
    assert crowded.status_code == 400 and "too many overlapping candidates" in crowded.json()["detail"]


def test_greedy_when_the_time_limit_is_too_short(sample_url: str) -> None:
    with TestClient(create_app(settings_for(sample_url, siting_time_limit_s=0.0001))) as c:
        answer = c.get("/v1/coverage/siting", params={"type": "elderly_canteen", "n": 20}).json()
    s = answer["summary"]
    assert s["method"] == "greedy" and not s["optimal"] and len(answer["features"]) == 20
    gained = s["covered_population_after"] - s["covered_population_before"]
    assert (
        s["covered_population_after"]
        <= s["bound"]
        <= s["covered_population_before"] + gained / (1 - 1 / math.e) + 25
    )


def test_presence_siting_takes_the_largest_uncovered_divisions(client: TestClient, sample_url: str) -> None:
    answer = client.get("/v1/coverage/siting", params={"type": "social_work_point", "n": 3}).json()
    expected = query(
        sample_url,
        "SELECT code, population FROM divisions v WHERE level = 'village' AND NOT EXISTS "
        "(SELECT 1 FROM facilities f WHERE f.village_code = v.code AND f.type = "
        "'social_work_point') ORDER BY population DESC, code LIMIT 3",
    )
    assert [
        (f["properties"]["division_code"], f["properties"]["gain_population"]) for f in answer["features"]
    ] == [tuple(r) for r in expected]
    for f in answer["features"]:
        x, y = f["geometry"]["coordinates"]
        inside = query(
            sample_url,
            "SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) FROM divisions WHERE code = :c",
            x=x,
            y=y,
            c=f["properties"]["division_code"],
        )
        assert inside == [(True,)]
    s = answer["summary"]
    assert s["covered_population_after"] - s["covered_population_before"] == sum(r[1] for r in expected)


def test_candidate_files(planner: tuple[TestClient, dict[str, str]], fresh_url: str) -> None:
    c, key = planner
    csv = b"lon,lat,name\n113.35,23.15,A\n113.36,23.16,B\n"
    assert c.post("/v1/coverage/candidates", files={"file": ("s.csv", csv, "text/csv")}).status_code == 401
    lines = (
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        b'{"type": "LineString", "coordinates": [[113.3, 23.1], [113.4, 23.2]]}}]}'
    )
    bad = c.post(
        "/v1/coverage/candidates", headers=key, files={"file": ("s.geojson", lines, "application/geo+json")}
    )
    assert (
        bad.status_code == 422
        and bad.json()["errors"][0]["row"] == 1
        and "LineString" in bad.json()["detail"] + str(bad.json()["errors"])
    )
    set_id = c.post(
        "/v1/coverage/candidates", headers=key, files={"file": ("s.csv", csv, "text/csv")}
    ).json()["id"]
    answer = c.get(
        "/v1/coverage/siting", params={"type": "elderly_canteen", "n": 2, "candidates": set_id}
    ).json()
    assert {tuple(f["geometry"]["coordinates"]) for f in answer["features"]} <= {
        (113.35, 23.15),
        (113.36, 23.16),
    }
    assert answer["summary"]["candidates"] == 2
    missing = c.get(
        "/v1/coverage/siting",
        params={"type": "elderly_canteen", "candidates": "0" * 8 + "-0000-0000-0000-" + "0" * 12},
    )
    assert missing.status_code == 404
    assert query(fresh_url, "SELECT actor, entity FROM audit_log WHERE entity = 'siting_candidates'") == [
        ("planner-surveyor", "siting_candidates")
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"n": 0},
        {"n": 51},
        {"candidates": "somewhere"},
        {"method": "best"},
        {"grid_m": 50},
        {"type": "x" * 65},
    ],
)
def test_siting_refuses_bad_input(client: TestClient, params: dict) -> None:
    resp = client.get("/v1/coverage/siting", params={"type": "elderly_canteen", **params})
    assert resp.status_code == 422 and resp.json()["detail"]


def test_siting_downloads(client: TestClient) -> None:
    params = {"type": "elderly_canteen", "within": "440106", "n": 3}
    sites = client.get("/v1/coverage/siting", params=params).json()
    table = client.get("/v1/coverage/siting", params={**params, "format": "csv"})
    assert table.status_code == 200
    assert 'filename="sites_elderly_canteen_township_440106.csv"' in table.headers["content-disposition"]
    lines = table.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("序号 rank,经度 lon,纬度 lat,新增覆盖人口 gain_population") and len(lines) == 4
    assert lines[1].split(",")[3] == str(sites["features"][0]["properties"]["gain_population"])


def test_siting_is_busy_beyond_its_slots(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each siting takes a core for seconds: beyond two at once in a process, a 503 to come back later."""
    from geo_service.services import siting

    monkeypatch.setattr(siting, "_running", siting.MAX_RUNNING)
    resp = client.get("/v1/coverage/siting", params={"type": "elderly_canteen", "within": "440104", "n": 1})
    assert resp.status_code == 503 and resp.json()["code"] == "busy" and resp.headers["retry-after"] == "5"
    monkeypatch.setattr(siting, "_running", 0)
    assert (
        client.get(
            "/v1/coverage/siting", params={"type": "elderly_canteen", "within": "440104", "n": 1}
        ).status_code
        == 200
    )
