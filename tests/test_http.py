"""HTTP behaviour: ETags and 304, invalidation by writes, security headers, CORS, rate limits."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.services.etags import etag_of
from tests.conftest import settings_for
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
    village = query(fresh_url, "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440117%' "
                               "ORDER BY area_m2 DESC LIMIT 1")[0][0]  # fmt: skip
    x, y = query(fresh_url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM divisions "
                            "WHERE code = :c) s", c=village)[0]  # fmt: skip
    created = fresh_client.post("/v1/facilities", headers=auth(keys["editor"]), json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
        "properties": {"type": "elderly_canteen", "name": "新开饭堂"}})  # fmt: skip
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
    created = fresh_client.post("/v1/facilities", headers=auth(keys["editor"]), json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [113.3245, 23.1064]},
        "properties": {"type": "elderly_canteen", "name": "地图缓存测试饭堂"}})  # fmt: skip
    assert created.status_code == 201
    after = fresh_client.get("/maps/coverage", params=page, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and name in after.text and name not in first.text
    other = fresh_client.get("/maps/coverage", params={**page, "type": "social_work_station"})
    assert other.status_code == 200 and name not in other.text
    marker = query(fresh_url, "SELECT id FROM boundary_markers ORDER BY id LIMIT 1")[0][0]
    inspected = fresh_client.post(f"/v1/boundary-markers/{marker}/inspections", headers=auth(keys["surveyor"]),
                                  json={"status": "damaged", "inspected_on": "2026-11-20", "note": "缓存测试界桩"})  # fmt: skip
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
