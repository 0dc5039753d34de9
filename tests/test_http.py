"""HTTP behaviour: ETags and 304, invalidation by writes, security headers, CORS, rate limits, links under the
public URL, header limits, HEAD."""

from __future__ import annotations

import json
import socket

import orjson
import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from geo_service.api import ogc
from geo_service.api.app import create_app
from geo_service.services.etags import etag_of
from tests.conftest import LiveServer, settings_for
from tests.conftest import sql as query
from tests.writes_helpers import auth, make_keys


def test_conditional_get_and_invalidation(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    params = {"lon": 113.32, "lat": 23.12, "type": "elderly_canteen", "k": 3}
    first = fresh_client.get("/v1/facilities/nearest", params=params)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, no-cache"
    again = fresh_client.get("/v1/facilities/nearest", params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    # Closing the nearest facility changes the answer, so its ETag, at once.
    nearest_id = first.json()["features"][0]["id"]
    version = fresh_client.get(f"/v1/facilities/{nearest_id}").headers["etag"]
    closed = fresh_client.delete(
        f"/v1/facilities/{nearest_id}", headers={**auth(keys["editor"]), "If-Match": version}
    )
    assert closed.status_code == 200
    after = fresh_client.get("/v1/facilities/nearest", params=params, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    # Coverage changes when a facility opens.
    cov = {"type": "elderly_canteen", "level": "district"}
    before = fresh_client.get("/v1/coverage", params=cov)
    assert before.headers["etag"] == etag_of(before.content)  # kept with the cached answer, the same hash
    assert (
        fresh_client.get(
            "/v1/coverage", params=cov, headers={"If-None-Match": before.headers["etag"]}
        ).status_code
        == 304
    )
    village = query(
        fresh_url,
        "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440117%' "
        "ORDER BY area_m2 DESC LIMIT 1",
    )[0][0]
    x, y = query(
        fresh_url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM divisions WHERE code = :c) s",
        c=village,
    )[0]
    created = fresh_client.post(
        "/v1/facilities",
        headers=auth(keys["editor"]),
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"type": "elderly_canteen", "name": "新开饭堂"},
        },
    )
    assert created.status_code == 201
    changed = fresh_client.get("/v1/coverage", params=cov, headers={"If-None-Match": before.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != before.headers["etag"]


def in_page(text: str) -> str:
    """A text as a map page's layer data holds it (JSON with non-ASCII characters as \\u escapes)."""
    return json.dumps(text)[1:-1]


def test_map_pages_are_kept_until_their_data_changes(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    name = in_page("地图缓存测试饭堂")
    page = {"type": "elderly_canteen", "level": "district"}
    first = fresh_client.get("/maps/coverage", params=page)
    again = fresh_client.get("/maps/coverage", params=page, headers={"If-None-Match": first.headers["etag"]})
    assert first.status_code == 200 and again.status_code == 304  # the same page (Folium's ids are random)
    lines = fresh_client.get("/maps/boundaries")
    assert fresh_client.get("/maps/boundaries").content == lines.content
    created = fresh_client.post(
        "/v1/facilities",
        headers=auth(keys["editor"]),
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [113.3245, 23.1064]},
            "properties": {"type": "elderly_canteen", "name": "地图缓存测试饭堂"},
        },
    )
    assert created.status_code == 201
    after = fresh_client.get("/maps/coverage", params=page, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and name in after.text and name not in first.text
    other = fresh_client.get("/maps/coverage", params={**page, "type": "social_work_station"})
    assert other.status_code == 200 and name not in other.text
    marker = query(fresh_url, "SELECT id FROM boundary_markers ORDER BY id LIMIT 1")[0][0]
    inspected = fresh_client.post(
        f"/v1/boundary-markers/{marker}/inspections",
        headers=auth(keys["surveyor"]),
        json={"status": "damaged", "inspected_on": "2026-11-20", "note": "缓存测试界桩"},
    )
    assert inspected.status_code == 201, inspected.text
    redrawn = fresh_client.get(
        "/maps/boundaries"
    ).text  # the new inspection's date; its note is for staff only
    assert "2026-11-20" in redrawn and "2026-11-20" not in lines.text and "缓存测试界桩" not in redrawn


def test_large_answers_go_gzipped_to_clients_that_accept_it(client: TestClient) -> None:
    table = {"type": "elderly_canteen", "level": "village"}  # ~0.65 MB of JSON
    plain = client.get("/v1/coverage", params=table, headers={"Accept-Encoding": "identity"})
    zipped = client.get("/v1/coverage", params=table, headers={"Accept-Encoding": "gzip, deflate"})
    refused = client.get("/v1/coverage", params=table, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    assert (
        zipped.headers["content-encoding"] == "gzip" and zipped.content == plain.content
    )  # decoded by the client
    assert int(zipped.headers["content-length"]) < len(plain.content) / 4
    assert plain.headers["vary"] == zipped.headers["vary"] == "Accept-Encoding"
    assert plain.headers["etag"] == etag_of(plain.content)
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'  # a representation of its own
    for etag in (plain.headers["etag"], zipped.headers["etag"]):
        again = client.get(
            "/v1/coverage", params=table, headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
        )
        assert again.status_code == 304 and again.headers["etag"] == zipped.headers["etag"]
    small = client.get("/v1/divisions/locate", params={"lon": 113.3245, "lat": 23.1064})
    assert "content-encoding" not in small.headers and "vary" not in small.headers
    page = client.get("/maps/boundaries", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "<html" in page.text.lower()


def test_keyed_answers_are_private_and_pages_have_security_headers(
    fresh_client: TestClient, fresh_url: str
) -> None:
    keys = make_keys(fresh_url)
    page = fresh_client.get("/maps/boundaries")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert (
        page.headers["x-frame-options"] == "SAMEORIGIN"
        and page.headers["x-content-type-options"] == "nosniff"
    )
    keyed = fresh_client.get("/v1/submissions/none", headers=auth(keys["surveyor"]))
    assert keyed.headers["cache-control"] == "private, no-store"
    assert "etag" not in fresh_client.get("/health").headers


def test_cors_by_setting(sample_url: str) -> None:
    with TestClient(create_app(settings_for(sample_url, cors_origins=["https://map.example.gov.cn"]))) as c:
        ok = c.get("/v1/boundary-lines", headers={"Origin": "https://map.example.gov.cn"})
        assert ok.headers["access-control-allow-origin"] == "https://map.example.gov.cn"
        other = c.get("/v1/boundary-lines", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(settings_for(sample_url))) as c:
        assert (
            "access-control-allow-origin" not in c.get("/", headers={"Origin": "https://x.example"}).headers
        )


def test_rate_limit_for_the_public_not_for_staff(fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    with TestClient(create_app(settings_for(fresh_url, rate_limit_per_minute=60, rate_limit_burst=5))) as c:
        statuses = [c.get("/conformance").status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5 and statuses[-1] == 429
        limited = c.get("/conformance")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "try again" in limited.json()["detail"]
        staff = [c.get("/conformance", headers=auth(keys["reviewer"])).status_code for _ in range(5)]
        assert staff == [200] * 5
        assert c.get("/health").status_code == 200  # never limited
        bad_key = c.get("/conformance", headers={"Authorization": "Bearer gs_nope"})
        assert bad_key.status_code == 429


def test_a_runaway_query_is_cancelled_with_a_clear_503(fresh_url: str) -> None:
    with TestClient(create_app(settings_for(fresh_url, statement_timeout_ms=1))) as c:
        resp = c.get("/v1/coverage", params={"type": "elderly_canteen", "level": "village", "radius_m": 1234})
    assert resp.status_code == 503
    assert "took too long" in resp.json()["detail"]


def test_links_take_the_public_url_not_the_host_header(sample_url: str) -> None:
    public = "https://gis.example.gov.cn/geo"
    hostile = {"Host": "evil.example.com"}
    with TestClient(create_app(settings_for(sample_url, public_url=public + "/"))) as c:
        landing = c.get("/", headers=hostile).json()
        collections = c.get("/collections", headers=hostile).json()
        collection = c.get("/collections/elderly-canteens", headers=hostile).json()
        items = c.get("/collections/elderly-canteens/items?limit=2&district_code=440106", headers=hostile)
        item_id = items.json()["features"][0]["id"]
        item = c.get(f"/collections/elderly-canteens/items/{item_id}", headers=hostile).json()
        hrefs = [
            link["href"]
            for doc in (landing, collections, collection, items.json(), item)
            for link in doc["links"]
        ]
        hrefs += [link["href"] for coll in collections["collections"] for link in coll["links"]]
        assert "evil.example.com" not in items.text + str(landing) + str(collections) + str(item)
        assert all(href.startswith(public + "/") for href in hrefs), [
            h for h in hrefs if not h.startswith(public)
        ]
        links = {link["rel"]: link["href"] for link in items.json()["links"]}
        assert links["self"] == f"{public}/collections/elderly-canteens/items?limit=2&district_code=440106"
        assert links["next"].startswith(
            f"{public}/collections/elderly-canteens/items?limit=2&district_code=440106&after="
        )
        following = c.get(
            links["next"].removeprefix(public), headers=hostile
        )  # the next page, as a proxy passes it
        assert following.status_code == 200 and following.json()["features"][0]["id"] != item_id
    with TestClient(create_app(settings_for(sample_url))) as c:  # unset: the request's own host, as before
        assert (
            c.get("/", headers={"Host": "gis.local:8000"}).json()["links"][0]["href"]
            == "http://gis.local:8000/"
        )


def test_a_public_url_must_be_a_base_url() -> None:
    for bad in ("gis.example.gov.cn", "https://x.example/geo?a=1", "ftp://x.example"):
        with pytest.raises(ValueError, match="public_url"):
            settings_for("postgresql://x@localhost/x", public_url=bad)


def _raw_request(port: int, head: bytes) -> tuple[int, bytes]:
    """Status and body of one request sent byte for byte (httpx would normalise it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + b"\r\n")
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_header_count_and_size_are_limited(live_server: LiveServer) -> None:
    """uvicorn (httptools) takes any number of header fields of any size; the service takes 100 and 16 KB."""
    start = b"GET /health HTTP/1.1\r\nHost: t\r\n"
    port = live_server.port
    assert (
        _raw_request(port, start + b"".join(b"X-F%d: v\r\n" % i for i in range(99)))[0] == 200
    )  # 100 in all
    status, body = _raw_request(port, start + b"".join(b"X-F%d: v\r\n" % i for i in range(100)))
    assert status == 431 and "at most 100 fields" in orjson.loads(body)["detail"]
    fits = 16 * 1024 - len(b"hostt") - len(b"x-big")
    assert _raw_request(port, start + b"X-Big: " + b"a" * fits + b"\r\n")[0] == 200
    status, body = _raw_request(port, start + b"X-Big: " + b"a" * (fits + 1) + b"\r\n")
    assert status == 431 and "16 KB" in orjson.loads(body)["detail"]
    status, body = _raw_request(
        port, start + b"X-Big: " + b"a" * 1_000_000 + b"\r\n"
    )  # 1 MB: uvicorn took it
    assert status == 431 and orjson.loads(body)["detail"]


def test_a_content_length_of_thousands_of_digits_is_a_413(sample_url: str) -> None:
    with TestClient(create_app(settings_for(sample_url)), raise_server_exceptions=False) as c:
        resp = c.post(
            "/v1/place-names",
            content=b"{}",
            headers={"Content-Type": "application/json", "Content-Length": "9" * 5000},
        )
    assert resp.status_code == 413 and "larger than" in resp.json()["detail"]


def _sample_paths(client: TestClient, url: str) -> list[str]:
    """Every GET route of the OpenAPI document with sample parameters, and the documentation routes."""
    ids = {
        "place_name_id": query(url, "SELECT min(id) FROM place_names WHERE status = 'approved'")[0][0],
        "marker_id": query(url, "SELECT min(id) FROM boundary_markers")[0][0],
        "sign_id": query(url, "SELECT coalesce(min(id), 1) FROM place_name_signs")[0][0],
        "facility_id": query(url, "SELECT min(id) FROM facilities")[0][0],
        "feature_id": query(url, "SELECT min(id) FROM facilities WHERE type = 'elderly_canteen'")[0][0],
        "collection_id": "elderly-canteens",
        "submission_id": "none",
        "attachment_id": 1,
        "tile_matrix_set": "WebMercatorQuad",
        "tileMatrix": 12,
        "tileRow": 1777,
        "tileCol": 3337,  # a tile of central Guangzhou (z/y/x)
    }
    required = {"lon": "113.3245", "lat": "23.1064", "type": "elderly_canteen"}
    paths = ["/openapi.json", "/docs", "/redoc", "/v1/coverage?type=elderly_canteen&format=csv"]
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if "get" not in operations:
            continue
        params = [p for p in operations["get"].get("parameters", []) if p.get("required")]
        query_string = "&".join(f"{p['name']}={required[p['name']]}" for p in params if p["in"] == "query")
        paths.append(path.format(**ids) + (f"?{query_string}" if query_string else ""))
    return paths


def test_head_is_answered_for_every_get_route(client: TestClient, sample_url: str) -> None:
    paths = _sample_paths(client, sample_url)
    assert len(paths) >= 25
    for path in paths:
        got, head, again = client.get(path), client.head(path), client.get(path)
        assert head.status_code == got.status_code, (path, head.status_code, got.status_code)
        assert head.content == b"", path
        headers = dict(head.headers)
        if (
            got.content != again.content
        ):  # a page drawn anew each time (the finder map): its own hash, length and script hashes
            headers = {
                k: v
                for k, v in headers.items()
                if k not in ("etag", "content-length", "content-security-policy")
            }
        assert headers.items() <= dict(got.headers).items(), path  # Content-Length and ETag included
        assert dict(head.headers).keys() >= dict(got.headers).keys() - {"etag", "content-length"}, path
    ok = [p for p in paths if client.get(p).status_code == 200]
    assert len(ok) >= 20, ok
    etag = client.head("/collections").headers["etag"]
    assert client.head("/collections", headers={"If-None-Match": etag}).status_code == 304


def test_a_link_to_a_query_string_of_raw_bytes_escapes_them(sample_url: str) -> None:
    """uvicorn refuses raw non-ASCII bytes in a request target (400), but other servers pass them on."""
    app = create_app(settings_for(sample_url))
    scope = {
        "type": "http",
        "scheme": "http",
        "server": ("gis.local", 80),
        "path": "/collections/x/items",
        "root_path": "",
        "query_string": b"name=\xff\xfe&limit=2",
        "headers": [(b"host", b"gis.local")],
        "app": app,
    }
    assert ogc.request_url(Request(scope)) == "http://gis.local/collections/x/items?name=%FF%FE&limit=2"
