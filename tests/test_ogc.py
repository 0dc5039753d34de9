"""OGC API – Features Part 1, read by OWSLib (the client QGIS-like tools use) over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from owslib.ogcapi.features import Features
from starlette.requests import Request

from geo_service.api import ogc
from tests.conftest import LiveServer

COLLECTIONS = {
    "districts",
    "townships",
    "villages",
    "boundary-lines",
    "boundary-markers",
    "place-names",
    "place-name-signs",
    "elderly-canteens",
    "social-work-stations",
    "social-work-points",
    "wedding-cert-points",
    "community-stations",
    "assistance-platforms",
    "charity-supermarkets",
    "dementia-care-centers",
    "policy-observation-points",
    "marriage-reform-villages",
}


def test_landing_conformance_collections_with_owslib(live_server: LiveServer) -> None:
    api = Features(live_server.base)
    rels = {link["rel"]: link["href"] for link in api.links}
    assert rels["service-desc"].endswith("/openapi.json")
    assert rels["data"].endswith("/collections")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    ids = {c["id"] for c in api.collections()["collections"]}
    assert ids == COLLECTIONS
    districts = api.collection("districts")
    minx, miny, maxx, maxy = districts["extent"]["spatial"]["bbox"][0]
    assert 112.9 < minx < maxx < 114.1 and 22.5 < miny < maxy < 24.0


def test_items_bbox_limit_and_filters_with_owslib(live_server: LiveServer) -> None:
    api = Features(live_server.base)
    items = api.collection_items("villages", bbox=[113.25, 23.10, 113.30, 23.14], limit=5)
    assert items["numberReturned"] == 5 and len(items["features"]) == 5
    assert any(link["rel"] == "next" for link in items["links"])
    canteens = api.collection_items("elderly-canteens", district_code="440104", limit=1000)
    assert canteens["features"] and all(
        f["properties"]["district_code"] == "440104" for f in canteens["features"]
    )
    assert canteens["numberMatched"] == canteens["numberReturned"]
    one = api.collection_item("districts", "440106")
    assert one["id"] == "440106" and one["properties"]["name"] == "天河区"


def test_following_next_links_visits_every_feature_once(live_server: LiveServer) -> None:
    url = f"{live_server.base}/collections/social-work-points/items?limit=1000"
    seen: list[int] = []
    with httpx.Client() as http:
        while url:
            resp = http.get(url)
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("application/geo+json")
            body = resp.json()
            seen += [f["id"] for f in body["features"]]
            url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == 2807


def test_next_links_keep_bbox_and_filters_and_replace_offset(live_server: LiveServer) -> None:
    bbox = "113.20,23.05,113.40,23.20"
    url: str | None = (
        f"{live_server.base}/collections/social-work-points/items?bbox={bbox}&district_code=440106&offset=3&limit=7"
    )
    seen: list[int] = []
    with httpx.Client() as http:
        while url:
            body = http.get(url).json()
            seen += [f["id"] for f in body["features"]]
            url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
            if url:
                assert f"bbox={bbox}" in url and "district_code=440106" in url and "limit=7" in url
                assert "offset=" not in url and url.count("after=") == 1
        everything = http.get(
            f"{live_server.base}/collections/social-work-points/items",
            params={"bbox": bbox, "district_code": "440106", "limit": 10_000},
        ).json()
    expected = [f["id"] for f in everything["features"]][3:]
    assert len(expected) > 14 and seen == expected == sorted(expected)


@pytest.mark.parametrize(
    ("scheme", "host", "server", "root_path", "path", "query"),
    [
        (
            "http",
            b"127.0.0.1:8766",
            ("127.0.0.1", 8766),
            "",
            "/collections/x/items",
            b"bbox=1,2,3,4&limit=10",
        ),
        ("https", b"geo.example.org", ("10.0.0.5", 443), "", "/collections/x/items", b""),
        ("https", b"geo.example.org:443", None, "/api", "/api/collections/x/items", b"a=%20b"),
        ("http", b"[::1]:8000", ("::1", 8000), "", "/collections/x/items", b"crs=gcj02"),
        ("http", None, ("::1", 8000), "", "/collections/x?/items", b"limit=1"),
        ("http", None, ("10.1.1.1", 80), "/root/", "/root/collections/a#b/items", b""),
        ("http", b"bad host:99999", ("10.1.1.1", 8080), "", "/collections/x/items", b""),
        ("http", None, None, "", "/collections/x/items", b"limit=2"),
    ],
)
def test_links_are_the_urls_starlette_derives(
    scheme: str, host: bytes | None, server: tuple[str, int] | None, root_path: str, path: str, query: bytes
) -> None:
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "root_path": root_path,
        "path": path,
        "query_string": query,
        "headers": [(b"host", host)] if host is not None else [],
    }
    assert ogc.request_url(Request(scope)) == str(Request(scope).url)
    assert ogc._base(Request(scope)) == str(Request(scope).base_url).rstrip("/")


def test_offset_paging(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.base) as http:
        first = http.get("/collections/districts/items", params={"limit": 4}).json()
        second = http.get("/collections/districts/items", params={"limit": 4, "offset": 4}).json()
        last = http.get("/collections/districts/items", params={"limit": 4, "offset": 8}).json()
    ids = [f["id"] for page in (first, second, last) for f in page["features"]]
    assert len(ids) == len(set(ids)) == 11
    assert last["numberMatched"] == 11
    assert not any(link["rel"] == "next" for link in last["links"])


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/collections/nope", 404, "unknown collection 'nope'"),
        ("/collections/nope/items", 404, "unknown collection 'nope'"),
        ("/collections/districts/items/999999", 404, "no feature '999999'"),
        ("/collections/elderly-canteens/items/abc", 404, "no feature 'abc'"),
        ("/collections/districts/items?bbox=1,2,3", 400, "bbox needs 4 numbers"),
        ("/collections/districts/items?bbox=114,23,113,24", 400, "minimum exceeds maximum"),
        ("/collections/districts/items?bbox=a,b,c,d", 400, "must be numbers"),
        ("/collections/districts/items?bbox=1,2,3,nan", 400, "finite"),
        ("/collections/districts/items?limit=0", 422, "limit"),
        ("/collections/districts/items?limit=10001", 422, "limit"),
        ("/collections/districts/items?colour=red", 400, "unknown parameter 'colour'"),
        ("/collections/districts/items?crs=EPSG:3857", 400, "unsupported crs"),
    ],
)
def test_bad_requests(live_server: LiveServer, path: str, status: int, says: str) -> None:
    resp = httpx.get(live_server.base + path)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert says in str(resp.json()["detail"]), resp.text


def test_a_cursor_is_a_value_not_sql(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.base) as http:
        # District codes are digits: anything else is no cursor of this collection (400, never SQL).
        after = http.get("/collections/districts/items", params={"after": "x';drop"})
        assert after.status_code == 400, after.text
        assert after.json()["detail"] == "'after' must be a feature id of districts"
        middle = http.get("/collections/districts/items", params={"after": "440106"}).json()["features"]
        assert [f["id"] for f in middle] == [f"4401{n}" for n in (11, 12, 13, 14, 15, 17, 18)]
        assert len(http.get("/collections/districts/items").json()["features"]) == 11
