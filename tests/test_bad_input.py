"""Bad input to the public queries: a 4xx with a detail that says what to fix, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

N = "/v1/facilities/nearest"
OK = {"lon": "113.3", "lat": "23.1", "type": "elderly_canteen"}

CASES = [
    (N, {**OK, "lon": "181"}, 422, "lon"),
    (N, {**OK, "lon": "-180.5"}, 422, "lon"),
    (N, {**OK, "lat": "91"}, 422, "lat"),
    (N, {**OK, "lat": "nan"}, 422, "lat"),
    (N, {**OK, "lon": "inf"}, 422, "lon"),
    (N, {**OK, "lon": "east"}, 422, "lon"),
    (N, {"lat": "23.1", "type": "elderly_canteen"}, 422, "lon"),
    (N, {"lon": "113.3", "lat": "23.1"}, 422, "type"),
    (N, {**OK, "type": "canteen"}, 400, "unknown facility type"),
    (N, {**OK, "k": "0"}, 422, "k"),
    (N, {**OK, "k": "101"}, 422, "k"),
    (N, {**OK, "k": "10001"}, 422, "k"),
    (N, {**OK, "k": "two"}, 422, "k"),
    (N, {**OK, "max_distance_m": "-5"}, 422, "max_distance_m"),
    (N, {**OK, "crs": "mars"}, 422, "crs"),
    ("/v1/divisions/locate", {"lon": "113.3"}, 422, "lat"),
    ("/v1/divisions/locate", {"lon": "113.3", "lat": "23.1", "crs": "EPSG:4326"}, 422, "crs"),
    ("/v1/coverage", {}, 422, "type"),
    ("/v1/coverage", {"type": "nope"}, 400, "unknown facility type"),
    ("/v1/coverage", {"type": "elderly_canteen", "radius_m": "-1"}, 422, "radius_m"),
    ("/v1/coverage", {"type": "elderly_canteen", "radius_m": "0"}, 422, "radius_m"),
    ("/v1/coverage", {"type": "elderly_canteen", "radius_m": "1e9"}, 422, "radius_m"),
    ("/v1/coverage", {"type": "elderly_canteen", "level": "city"}, 422, "level"),
    ("/v1/coverage", {"type": "elderly_canteen", "mode": "both"}, 422, "mode"),
    ("/v1/coverage", {"type": "elderly_canteen", "within": "4401"}, 422, "within"),
    ("/v1/coverage", {"type": "elderly_canteen", "within": "440199"}, 404, "unknown division code"),
    ("/v1/coverage/gaps", {"type": "elderly_canteen", "within": "x"}, 422, "within"),
    ("/v1/place-names", {"category": "motorway"}, 422, "category"),
    ("/v1/place-names", {"status": "secret"}, 422, "status"),
    ("/v1/place-names", {"limit": "0"}, 422, "limit"),
    ("/v1/place-names", {"q": "x" * 101}, 422, "q"),
    ("/v1/place-names/abc", {}, 422, "place_name_id"),
    ("/v1/boundary-markers", {"status": "stolen"}, 422, "status"),
    ("/v1/place-names/99999999999999999999999", {}, 422, "place_name_id"),
    ("/v1/boundary-markers/0/inspections", {}, 422, "marker_id"),
    ("/v1/boundary-lines", {"district": "44"}, 422, "district"),
]


@pytest.mark.parametrize(("path", "params", "status", "says"), CASES)
def test_bad_input_is_a_clear_4xx(
    client: TestClient, path: str, params: dict, status: int, says: str
) -> None:
    resp = client.get(path, params=params)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert says in body["detail"], body["detail"]
    assert "Traceback" not in resp.text and "SELECT" not in resp.text


@pytest.mark.parametrize(
    "q", ["'; DROP TABLE place_names; --", "%", "_", "\\", "<script>alert(1)</script>", "\u0000x", "😀"]
)
def test_search_text_is_data_not_sql(client: TestClient, q: str) -> None:
    resp = client.get("/v1/place-names", params={"q": q})
    assert resp.status_code == (400 if "\u0000" in q else 200), resp.text
    assert client.get("/v1/place-names", params={"limit": 1}).status_code == 200
