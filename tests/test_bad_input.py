"""Bad input to the public queries: a 4xx with a detail that says what to fix, never a 500. Other scripts'
digits, huge numbers and invalid UTF-8 (percent-encoded, in query strings and paths) included."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sql as query
from tests.writes_helpers import auth, make_keys

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
    ("/v1/coverage/gaps", {"type": "elderly_canteen", "within": "x"}, 404, "no division is named 'x'"),
    ("/v1/place-names", {"category": "motorway"}, 422, "category"),
    ("/v1/place-names", {"status": "secret"}, 422, "status"),
    ("/v1/place-names", {"limit": "0"}, 422, "limit"),
    ("/v1/place-names", {"q": "x" * 101}, 422, "q"),
    ("/v1/place-names/abc", {}, 422, "place_name_id"),
    ("/v1/boundary-markers", {"status": "stolen"}, 422, "status"),
    ("/v1/place-names/99999999999999999999999", {}, 422, "place_name_id"),
    ("/v1/boundary-markers/0/inspections", {}, 422, "marker_id"),
    ("/v1/boundary-lines", {"district": "44"}, 422, "district"),
    # Digits of other scripts: str.isdigit() takes them, int() and FastAPI do not (or read them differently).
    (N, {**OK, "lat": "١٢"}, 422, "lat"),
    (N, {**OK, "lat": "１２"}, 422, "lat"),
    (N, {**OK, "k": "٣"}, 422, "k"),
    (N, {**OK, "k": "²"}, 422, "k"),
    ("/v1/place-names/٣", {}, 422, "place_name_id"),
    ("/v1/coverage", {"type": "elderly_canteen", "within": "٤٤٠١٠٦"}, 422, "within"),
    ("/v1/place-names", {"division": "４４０１０６"}, 422, "division"),
    ("/collections/boundary-markers/items/²", {}, 404, "no feature"),
    ("/collections/boundary-markers/items", {"after": "²"}, 400, "after"),
    ("/collections/elderly-canteens/items", {"after": "٣"}, 400, "after"),
    (
        "/collections/elderly-canteens/items",
        {"bbox": "113.30,23.10,113.31,23.11", "after": "²-³"},
        400,
        "after",
    ),
    # Huge numbers: beyond the types' ranges and Python's int() digit limit (4,300).
    (N, {**OK, "k": "9" * 5000}, 422, "k"),
    (N, {**OK, "lon": "9" * 400}, 422, "lon"),
    (N, {**OK, "max_distance_m": "1" + "0" * 400}, 422, "max_distance_m"),
    ("/v1/place-names/" + "9" * 5000, {}, 422, "place_name_id"),
    ("/collections/boundary-markers/items/" + "9" * 5000, {}, 404, "no feature"),
    ("/collections/boundary-markers/items", {"limit": "9" * 5000}, 422, "limit"),
    ("/collections/boundary-markers/items", {"after": "9" * 60}, 400, "after"),
    (
        "/collections/elderly-canteens/items",
        {"bbox": "113.30,23.10,113.31,23.11", "after": "9" * 30 + "-1"},
        400,
        "after",
    ),
    ("/v1/coverage", {"type": "elderly_canteen", "radius_m": "9" * 5000}, 422, "radius_m"),
]
#: Invalid UTF-8, percent-encoded in the query string or the path (sent as is).
RAW = [
    (f"{N}?lon=%FF&lat=23.1&type=elderly_canteen", 422, "lon"),
    (f"{N}?lon=113.3&lat=23.1&type=%FF%FE", 400, "unknown facility type"),
    (f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&crs=%E4%B8", 422, "crs"),
    (f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&k=%C0%B1", 422, "k"),
    ("/v1/place-names/%FF", 422, "place_name_id"),
    ("/v1/place-names/1%C0%AF", 422, "place_name_id"),
    ("/v1/place-names?category=%FF", 422, "category"),
    ("/v1/coverage?type=elderly_canteen&within=%ED%A0%80", 422, "within"),  # an encoded UTF-16 surrogate
    ("/collections/%FF/items", 404, "unknown collection"),
    ("/collections/%FF%FE", 404, "unknown collection"),
    ("/collections/boundary-markers/items/%C0%AF", 404, "no feature"),
    ("/collections/boundary-markers/items?after=%FF", 400, "after"),
    ("/collections/boundary-markers/items?bbox=%FF,1,2,3", 400, "bbox"),
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


@pytest.mark.parametrize(("url", "status", "says"), RAW)
def test_invalid_utf8_is_a_clear_4xx(client: TestClient, url: str, status: int, says: str) -> None:
    resp = client.get(url)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert says in resp.json()["detail"], resp.json()["detail"]


def test_an_epsg_code_in_other_digits_is_a_400(fresh_client: TestClient, fresh_url: str) -> None:
    """Declared CRSs of uploads: "EPSG:²" passed str.isdigit() and then int() failed (a 500)."""
    key = make_keys(fresh_url)["surveyor"]
    line = 'name,wkt\n禾雀路,"LINESTRING(113.8 23.3, 113.801 23.3)"\n'.encode()
    for crs in ("EPSG:²", "EPSG:٤٣٢٦", "EPSG:" + "9" * 5000):
        resp = fresh_client.post(
            "/v1/submissions",
            files={"file": ("s.csv", line)},
            data={"crs": crs, "category": "road"},
            headers=auth(key),
        )
        assert resp.status_code in (400, 422), (crs[:12], resp.status_code, resp.text[:200])
        assert "CRS" in resp.json()["detail"] or "crs" in resp.json()["detail"]


def test_a_nul_in_a_json_body_is_a_400(fresh_client: TestClient, fresh_url: str) -> None:
    """PostgreSQL text cannot hold NUL; found by Schemathesis in an admin's facility type (a 500 before)."""
    keys = make_keys(fresh_url)
    facility = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [113.3245, 23.1064]},
        "properties": {"type": "elderly_canteen", "name": "饭堂\u0000"},
    }
    facility_type = {
        "code": "nul_type",
        "collection": "nul-types",
        "name_zh": "空\u0000",
        "name_en": "x",
        "default_radius_m": 100,
    }
    for path, body, role in [
        ("/v1/facilities", facility, "editor"),
        ("/v1/admin/facility-types", facility_type, "admin"),
    ]:
        resp = fresh_client.post(path, json=body, headers=auth(keys[role]))
        assert resp.status_code == 400 and "NUL" in resp.json()["detail"], (path, resp.text)
    assert fresh_client.get("/collections/nul-types").status_code == 404  # nothing written


@pytest.mark.parametrize(
    "q", ["'; DROP TABLE place_names; --", "%", "_", "\\", "<script>alert(1)</script>", "\u0000x", "😀"]
)
def test_search_text_is_data_not_sql(client: TestClient, q: str) -> None:
    resp = client.get("/v1/place-names", params={"q": q})
    assert resp.status_code == (400 if "\u0000" in q else 200), resp.text
    if resp.status_code == 200:  # no sample name holds these characters: a wildcard taken as one matches many
        assert resp.json()["features"] == []
    assert len(client.get("/v1/place-names", params={"limit": 1}).json()["features"]) == 1


def test_like_wildcards_in_search_text_match_themselves(fresh_client: TestClient, fresh_url: str) -> None:
    for name, key in (("百分%路", "baifenlu"), ("下_划路", "xiahualu"), ("反\\斜路", "fanxielu")):
        query(
            fresh_url,
            "INSERT INTO place_names (name, specific, generic, category, pinyin, pinyin_key, status, "
            "geometry_source, geom) VALUES (:n, :s, '路', 'road', :k, :k, 'approved', 'test', "
            "ST_GeomFromText('POINT(113.3 23.1)', 4326))",
            n=name,
            s=name[:-1],
            k=key,
        )
    for q, expected in (("%", ["百分%路"]), ("_", ["下_划路"]), ("\\", ["反\\斜路"])):
        features = fresh_client.get("/v1/place-names", params={"q": q, "limit": 1000}).json()["features"]
        assert [f["properties"]["name"] for f in features] == expected, q
