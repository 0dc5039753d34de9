"""OGC API – Features Part 3 and sorting: queryables, CQL2 filters (text and JSON), sortby, numberMatched.

The oracle is the whole layer read once and filtered or sorted here in Python (and shapely for the geometry).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from owslib.ogcapi.features import Features

from tests.conftest import LiveServer
from tests.conftest import sql as query

_everything: dict[str, list[dict[str, Any]]] = {}


def _all(client: TestClient, collection: str) -> list[dict[str, Any]]:
    if collection not in _everything:
        body = client.get(f"/collections/{collection}/items", params={"limit": 10_000}).json()
        assert "next" not in {link["rel"] for link in body["links"]}
        _everything[collection] = body["features"]
    return _everything[collection]


def _walk(client: TestClient, url: str, params: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Every feature of a query, following next links; and the bodies."""
    ids: list[Any] = []
    bodies = []
    next_url: str | None = url
    while next_url:
        resp = client.get(next_url, params=params if next_url == url else None)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        bodies.append(body)
        ids += [f["id"] for f in body["features"]]
        next_url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return ids, bodies


def test_queryables_are_a_json_schema_of_the_properties(client: TestClient, live_server: LiveServer) -> None:
    resp = client.get("/collections/villages/queryables")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/schema+json")
    doc = resp.json()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"].endswith("/collections/villages/queryables")
    props = doc["properties"]
    assert props["code"]["type"] == "string" and props["population"]["type"] == "integer"
    assert props["area_km2"]["type"] == "number" and props["geometry"]["format"] == "geometry-any"
    markers = client.get("/collections/boundary-markers/queryables").json()["properties"]
    assert markers["installed_on"] == {"title": "installed_on", "type": "string", "format": "date"}
    signs = client.get("/collections/place-name-signs/queryables").json()["properties"]
    assert signs["to_replace"]["type"] == "boolean"
    # OWSLib, as QGIS-like tools use it (it was a 404 before)
    assert "population" in Features(live_server.base).collection_queryables("villages")["properties"]
    links = client.get("/collections/villages").json()["links"]
    assert any(link["rel"].endswith("/queryables") for link in links)
    assert client.get("/collections/nope/queryables").status_code == 404


def test_cql2_text_and_json_select_what_python_selects(client: TestClient) -> None:
    villages = _all(client, "villages")
    expected = sorted(
        f["id"]
        for f in villages
        if f["properties"]["population"] > 3000 and f["properties"]["name"].endswith("村委会")
    )
    assert 10 < len(expected) < len(villages)
    text = "population > 3000 AND name LIKE '%村委会'"
    ids, bodies = _walk(client, "/collections/villages/items", {"filter": text, "limit": 50})
    assert ids == expected
    assert bodies[0]["numberMatched"] == len(expected)
    as_json = {
        "op": "and",
        "args": [
            {"op": ">", "args": [{"property": "population"}, 3000]},
            {"op": "like", "args": [{"property": "name"}, "%村委会"]},
        ],
    }
    params = {"filter": json.dumps(as_json), "filter-lang": "cql2-json", "limit": 10_000}
    body = client.get("/collections/villages/items", params=params).json()
    assert [f["id"] for f in body["features"]] == expected


@pytest.mark.parametrize(
    ("cql", "keep"),
    [
        ("district_code IN ('440104', '440106')", lambda p: p["district_code"] in ("440104", "440106")),
        ("district_code NOT IN ('440104')", lambda p: p["district_code"] != "440104"),
        ("capacity BETWEEN 100 AND 150", lambda p: p["capacity"] is not None and 100 <= p["capacity"] <= 150),
        ("phone IS NULL", lambda p: p["phone"] is None),
        ("NOT (district_code = '440106')", lambda p: p["district_code"] != "440106"),
        ("CASEI(name) LIKE CASEI('%第2点%')", lambda p: "第2点" in p["name"].lower()),
        (
            "capacity + 10 >= 260 OR township_code = '440106001'",
            lambda p: (
                (p["capacity"] is not None and p["capacity"] + 10 >= 260) or p["township_code"] == "440106001"
            ),
        ),
        ("district_code = 440106", lambda p: p["district_code"] == "440106"),  # a number for a code: as text
    ],
)
def test_comparison_operators(client: TestClient, cql: str, keep: Any) -> None:
    canteens = _all(client, "elderly-canteens")
    expected = sorted(f["id"] for f in canteens if keep(f["properties"]))
    body = client.get("/collections/elderly-canteens/items", params={"filter": cql, "limit": 10_000}).json()
    assert [f["id"] for f in body["features"]] == expected
    assert 0 < len(expected) < len(canteens) or cql.startswith("phone")


def test_spatial_operators_match_shapely(client: TestClient) -> None:
    canteens = _all(client, "elderly-canteens")
    polygon = shapely.Polygon([(113.25, 23.08), (113.36, 23.10), (113.33, 23.18), (113.24, 23.15)])
    inside = sorted(f["id"] for f in canteens if polygon.intersects(shapely.geometry.shape(f["geometry"])))
    assert inside
    cql = f"S_INTERSECTS(geometry, {polygon.wkt})"
    body = client.get("/collections/elderly-canteens/items", params={"filter": cql, "limit": 10_000}).json()
    assert [f["id"] for f in body["features"]] == inside
    box = "S_INTERSECTS(geometry, BBOX(113.25, 23.08, 113.36, 23.18))"
    by_filter = client.get("/collections/elderly-canteens/items", params={"filter": box, "limit": 10_000})
    by_bbox = client.get(
        "/collections/elderly-canteens/items", params={"bbox": "113.25,23.08,113.36,23.18", "limit": 10_000}
    )
    assert {f["id"] for f in by_filter.json()["features"]} == {f["id"] for f in by_bbox.json()["features"]}
    # villages whose polygon lies within (a simplified outline of) a district, as GEOS says in either place
    tianhe = shapely.geometry.shape(client.get("/collections/districts/items/440106").json()["geometry"])
    outline = tianhe.simplify(0.002)
    within = {
        f["id"] for f in _all(client, "villages") if shapely.geometry.shape(f["geometry"]).within(outline)
    }
    cql_json = {"op": "s_within", "args": [{"property": "geometry"}, shapely.geometry.mapping(outline)]}
    got = client.get(
        "/collections/villages/items",
        params={"filter": json.dumps(cql_json), "filter-lang": "cql2-json", "limit": 10_000},
    )
    assert got.status_code == 200, got.text
    assert {f["id"] for f in got.json()["features"]} == within and len(within) > 10


def test_sortby_orders_and_pages_every_feature(client: TestClient) -> None:
    villages = _all(client, "villages")
    expected = [
        f["id"]
        for f in sorted(villages, key=lambda f: (-f["properties"]["population"], f["properties"]["code"]))
    ]
    ids, bodies = _walk(client, "/collections/villages/items", {"sortby": "-population,+code", "limit": 500})
    assert ids == expected
    assert bodies[0]["numberMatched"] == len(villages)
    names = client.get("/collections/districts/items", params={"sortby": "name", "limit": 100}).json()[
        "features"
    ]
    assert [f["properties"]["name"] for f in names] == sorted(f["properties"]["name"] for f in names)
    filtered, _ = _walk(
        client,
        "/collections/villages/items",
        {"sortby": "-area_km2", "filter": "code LIKE '440106%'", "limit": 7},
    )
    tianhe = [f for f in villages if f["properties"]["code"].startswith("440106")]
    assert filtered == [
        f["id"] for f in sorted(tianhe, key=lambda f: (-f["properties"]["area_km2"], f["properties"]["code"]))
    ]


def test_datetime_on_layers_with_dates(client: TestClient) -> None:
    markers = _all(client, "boundary-markers")
    dates = sorted(f["properties"]["installed_on"] for f in markers)
    middle = dates[len(dates) // 2]
    expected = sorted(f["id"] for f in markers if f["properties"]["installed_on"] <= middle)
    body = client.get(
        "/collections/boundary-markers/items", params={"datetime": f"../{middle}", "limit": 10_000}
    ).json()
    assert [f["id"] for f in body["features"]] == expected
    one_day = client.get(
        "/collections/boundary-markers/items", params={"datetime": middle, "limit": 10_000}
    ).json()
    assert {f["properties"]["installed_on"] for f in one_day["features"]} == {middle}
    resp = client.get("/collections/villages/items", params={"datetime": "2024-01-01"})
    assert resp.status_code == 400 and "no dates" in resp.json()["detail"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"filter": "colour = 'red'"}, "not a queryable"),
        ({"filter": "name = "}, "not valid CQL2"),
        ({"filter": "name = 'x'; DROP TABLE divisions; --"}, "not valid CQL2"),
        ({"filter": "population = 'many'"}, "integer"),
        ({"filter": "population > DATE('2024-01-01')"}, "compares"),
        ({"filter": "S_INTERSECTS(name, POINT(1 2))"}, "not a geometry"),
        ({"filter": "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))"}, "invalid"),
        ({"filter": "name = 'x'", "filter-lang": "sql"}, "filter-lang"),
        ({"filter": "{not json", "filter-lang": "cql2-json"}, "not JSON"),
        ({"filter": '{"op": "frobnicate", "args": []}', "filter-lang": "cql2-json"}, "cql2-json"),
        ({"filter": "NOT " * 3000 + "population > 1"}, "filter"),
        ({"filter": "name = 'x'", "filter-crs": "EPSG:4547"}, "filter-crs"),
        ({"sortby": "colour"}, "sortby"),
        ({"datetime": "yesterday"}, "no dates"),
    ],
)
def test_bad_filters_are_400_in_words(client: TestClient, params: dict[str, str], words: str) -> None:
    resp = client.get("/collections/villages/items", params=params)
    assert resp.status_code == 400, resp.text
    assert words in resp.json()["detail"]


def test_number_matched_follows_the_data_version(fresh_url: str, fresh_client: TestClient) -> None:
    total = query(fresh_url, "SELECT count(*) FROM facilities WHERE type = 'social_work_point'")[0][0]
    first = fresh_client.get("/collections/social-work-points/items", params={"limit": 10}).json()
    assert first["numberMatched"] == total and first["numberReturned"] == 10
    query(
        fresh_url,
        "INSERT INTO facilities (type, name, status, geometry_source, geom) "
        "SELECT type, name || '二', status, geometry_source, geom "
        "FROM facilities WHERE type = 'social_work_point' ORDER BY id LIMIT 3",
    )
    again = fresh_client.get("/collections/social-work-points/items", params={"limit": 10}).json()
    assert again["numberMatched"] == total + 3
    box = fresh_client.get(
        "/collections/social-work-points/items", params={"bbox": "113.2,23.0,113.5,23.3", "limit": 10}
    ).json()
    in_box = query(
        fresh_url,
        "SELECT count(*) FROM facilities WHERE type = 'social_work_point' "
        "AND lon BETWEEN 113.2 AND 113.5 AND lat BETWEEN 23.0 AND 23.3",
    )[0][0]
    assert box["numberMatched"] == in_box


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/collections/nope", 404),
        ("/collections/villages/items?filter=nope%20%3D", 400),
        ("/collections/villages/items?limit=0", 422),
        ("/collections/villages/queryables/x", 404),
    ],
)
def test_ogc_errors_are_exception_documents(client: TestClient, path: str, status: int) -> None:
    resp = client.get(path)
    assert resp.status_code == status
    body = resp.json()
    assert body["status"] == status and body["title"] and body["type"] and body["detail"]
    assert "type" not in client.get("/v1/divisions/locate?lon=0&lat=0").json()
