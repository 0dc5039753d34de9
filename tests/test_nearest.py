"""Nearest facilities equal a brute-force geodesic computation (pyproj Geod): ids, order, distances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo_service.domain.crs import wgs84_to_gcj02
from tests.conftest import sql as query

GEOD = Geod(ellps="WGS84")


def brute_force(
    facilities: list[tuple[int, float, float]], lon: float, lat: float, k: int, max_d: float | None = None
) -> list[tuple[int, float]]:
    ids = np.array([f[0] for f in facilities])
    lons = np.array([f[1] for f in facilities])
    lats = np.array([f[2] for f in facilities])
    _, _, dist = GEOD.inv(np.full(len(ids), lon), np.full(len(ids), lat), lons, lats)
    order = np.lexsort((ids, dist))
    result = [(int(ids[i]), float(dist[i])) for i in order if max_d is None or dist[i] <= max_d]
    return result[:k]


def active(url: str, ftype: str) -> list[tuple[int, float, float]]:
    return [
        (int(r[0]), float(r[1]), float(r[2]))
        for r in query(
            url,
            "SELECT id, ST_X(geom), ST_Y(geom) FROM facilities WHERE type = :t AND status = 'active'",
            t=ftype,
        )
    ]


def assert_matches(answer: dict, expected: list[tuple[int, float]]) -> None:
    got = [(f["id"], f["properties"]["distance_m"]) for f in answer["features"]]
    assert len(got) == len(expected)
    for (gid, gd), (eid, ed) in zip(got, expected, strict=True):
        assert abs(gd - ed) < 0.5, (gid, gd, eid, ed)
        if gid != eid:  # only a genuine tie may swap two ids
            assert abs(gd - ed) < 1e-3, (got, expected)
    dists = [d for _, d in got]
    assert dists == sorted(dists)


@pytest.fixture(scope="module")
def canteens(sample_url: str) -> list[tuple[int, float, float]]:
    return active(sample_url, "elderly_canteen")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lon=st.floats(112.8, 114.2),  # the region and a margin around it
    lat=st.floats(22.4, 24.1),
    k=st.integers(1, 100),
    use_max=st.booleans(),
    max_d=st.floats(100, 20_000),
)
def test_nearest_equals_brute_force(client: TestClient, canteens, lon, lat, k, use_max, max_d) -> None:
    params = {"lon": lon, "lat": lat, "type": "elderly_canteen", "k": k}
    if use_max:
        params["max_distance_m"] = max_d
    resp = client.get("/v1/facilities/nearest", params=params)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    assert_matches(resp.json(), brute_force(canteens, lon, lat, k, max_d if use_max else None))


@pytest.mark.parametrize(("lon", "lat"), [(112.95, 22.55), (114.06, 23.94), (113.0, 23.6), (113.75, 22.56)])
def test_nearest_at_the_edges_of_the_region(client: TestClient, canteens, lon: float, lat: float) -> None:
    resp = client.get(
        "/v1/facilities/nearest", params={"lon": lon, "lat": lat, "type": "elderly_canteen", "k": 10}
    )
    assert_matches(resp.json(), brute_force(canteens, lon, lat, 10))


def test_k_larger_than_the_number_of_facilities(client: TestClient, sample_url: str) -> None:
    points = active(sample_url, "wedding_cert_point")
    resp = client.get(
        "/v1/facilities/nearest", params={"lon": 113.3, "lat": 23.1, "type": "wedding_cert_point", "k": 100}
    )
    assert len(resp.json()["features"]) == len(points) == 43
    assert_matches(resp.json(), brute_force(points, 113.3, 23.1, 100))


def test_properties_of_each_result(client: TestClient, sample_url: str, canteens) -> None:
    lon, lat = 113.32, 23.12
    features = client.get(
        "/v1/facilities/nearest", params={"lon": lon, "lat": lat, "type": "elderly_canteen", "k": 3}
    ).json()["features"]
    assert [f["id"] for f in features] == [fid for fid, _ in brute_force(canteens, lon, lat, 3)]
    columns = ("type", "name", "address", "district_code", "township_code", "village_code")
    for feat in features:
        row = query(
            sample_url,
            f"SELECT {', '.join(columns)}, ST_X(geom), ST_Y(geom) FROM facilities WHERE id = :i",
            i=feat["id"],
        )[0]
        props = feat["properties"]
        assert {c: props[c] for c in columns} == dict(zip(columns, row[:6], strict=True))
        assert props["type"] == "elderly_canteen" and props["village_code"].startswith(props["township_code"])
        assert feat["geometry"]["type"] == "Point"
        assert feat["geometry"]["coordinates"] == pytest.approx([row[6], row[7]], abs=1e-7)
        _, _, metres = GEOD.inv(lon, lat, row[6], row[7])
        assert props["distance_m"] == pytest.approx(metres, abs=0.5)


def test_near_ties_and_planar_trap(fresh_url: str) -> None:
    # Facilities 1 cm apart in geodesic distance at every bearing: a planar (degree) KNN ranks them by bearing,
    # since a degree of longitude is 8% shorter than one of latitude here. The answer must follow the metres.
    from geo_service.api.app import create_app
    from tests.conftest import settings_for

    lon, lat = 113.9, 23.85  # north-east corner of the region: no sample wedding point near
    _insert_ring_committed(fresh_url, lon, lat)
    points = active(fresh_url, "wedding_cert_point")
    with TestClient(create_app(settings_for(fresh_url))) as c:
        resp = c.get(
            "/v1/facilities/nearest", params={"lon": lon, "lat": lat, "type": "wedding_cert_point", "k": 12}
        )
    expected = brute_force(points, lon, lat, 12)
    assert_matches(resp.json(), expected)
    assert [f["id"] for f in resp.json()["features"]] == [e[0] for e in expected]


def _insert_ring_committed(url: str, lon: float, lat: float) -> None:
    for i in range(24):
        x, y, _ = GEOD.fwd(lon, lat, 360.0 * i / 24, 800 + 0.01 * (23 - i))
        query(
            url,
            "INSERT INTO facilities (type, name, status, geometry_source, geom) VALUES "
            "('wedding_cert_point', :n, 'active', 'test', ST_SetSRID(ST_MakePoint(:x, :y), 4326))",
            n=f"环{i}",
            x=x,
            y=y,
        )


def test_a_facility_closed_a_moment_ago_is_not_returned(fresh_url: str) -> None:

    from geo_service.api.app import create_app
    from tests.conftest import settings_for

    params = {"lon": 113.32, "lat": 23.12, "type": "elderly_canteen", "k": 3}
    with TestClient(create_app(settings_for(fresh_url))) as c:
        first = c.get("/v1/facilities/nearest", params=params).json()["features"]
        closed = first[0]["id"]

        query(fresh_url, "UPDATE facilities SET status = 'closed' WHERE id = :i", i=closed)
        again = c.get("/v1/facilities/nearest", params=params).json()["features"]
    assert closed not in [f["id"] for f in again]
    assert [f["id"] for f in again[:2]] == [f["id"] for f in first[1:3]]


def test_gcj02_input_and_output(client: TestClient) -> None:
    lon, lat = 113.3245, 23.1064
    glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    wgs = client.get(
        "/v1/facilities/nearest", params={"lon": lon, "lat": lat, "type": "elderly_canteen", "k": 5}
    ).json()
    gcj = client.get(
        "/v1/facilities/nearest",
        params={"lon": glon, "lat": glat, "type": "elderly_canteen", "k": 5, "crs": "gcj02"},
    ).json()
    assert [f["id"] for f in wgs["features"]] == [f["id"] for f in gcj["features"]]
    for a, b in zip(wgs["features"], gcj["features"], strict=True):
        assert abs(a["properties"]["distance_m"] - b["properties"]["distance_m"]) < 0.5
        x, y = (float(v) for v in wgs84_to_gcj02(*a["geometry"]["coordinates"]))
        assert b["geometry"]["coordinates"] == pytest.approx([x, y], abs=2e-7)
    assert math.isfinite(wgs["features"][0]["properties"]["distance_m"])
