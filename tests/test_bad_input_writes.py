"""The bad-input table for writes and uploads: each malformed request gets its 4xx, and afterwards every
table holds exactly the rows it held before."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.writes_helpers import auth, counts, make_keys

LINE = {"type": "LineString", "coordinates": [[113.80, 23.30], [113.801, 23.30]]}


def feature(
    name: Any = "禾雀路", category: Any = "road", geometry: Any = None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": LINE if geometry is None else geometry,
        "properties": {"name": name, "category": category},
        **extra,
    }


P = "/v1/place-names"
F = "/v1/facilities"
FAC = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [113.3, 23.1]},
    "properties": {"type": "elderly_canteen", "name": "x"},
}

# (method, path, role, json body or None, raw body or None, status)
CASES: list[tuple[str, str, str, Any, Any, int]] = [
    ("POST", P, "surveyor", None, b"{not json", 422),
    ("POST", P, "surveyor", None, b"", 422),
    ("POST", P, "surveyor", [], None, 422),
    ("POST", P, "surveyor", {"type": "Feature"}, None, 422),
    ("POST", P, "surveyor", feature(name=""), None, 422),
    ("POST", P, "surveyor", feature(name=None), None, 422),
    ("POST", P, "surveyor", feature(name=123), None, 422),
    ("POST", P, "surveyor", feature(name="x" * 41), None, 422),
    ("POST", P, "surveyor", feature(name="Robert'); DROP TABLE place_names;--路"), None, 422),
    ("POST", P, "surveyor", feature(name="<script>alert(1)</script>路"), None, 422),
    ("POST", P, "surveyor", feature(name="禾\u200b雀路"), None, 422),  # zero-width space
    ("POST", P, "surveyor", feature(name="禾雀路😀"), None, 422),
    ("POST", P, "surveyor", feature(name="禾雀\u0000路"), None, 422),
    ("POST", P, "surveyor", feature(name="ＡＢ路"), None, 422),  # full-width Latin
    ("POST", P, "surveyor", feature(name="禾雀路", category="motorway"), None, 422),
    (
        "POST",
        P,
        "surveyor",
        feature(geometry={"type": "LineString", "coordinates": [[200, 23], [201, 23]]}),
        None,
        400,
    ),
    (
        "POST",
        P,
        "surveyor",
        feature(geometry={"type": "LineString", "coordinates": [["a", "b"], [1, 2]]}),
        None,
        400,
    ),
    (
        "POST",
        P,
        "surveyor",
        feature(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}),
        None,
        400,
    ),
    ("POST", P, "surveyor", feature(geometry={"type": "Nonsense", "coordinates": []}), None, 400),
    ("POST", P, "surveyor", feature(geometry={"coordinates": [1, 2]}), None, 400),
    ("POST", P, "surveyor", feature(geometry={"type": "LineString", "coordinates": []}), None, 400),
    ("POST", P, "surveyor", feature(geometry={"type": "Point", "coordinates": [113.8, 23.3]}), None, 422),
    ("POST", P, "surveyor", feature(crs="mars"), None, 422),
    ("POST", P, "surveyor", feature(extra_field=1), None, 422),
    (
        "POST",
        P,
        "surveyor",
        {**feature(), "properties": {"name": "禾雀路", "category": "road", "division_code": "44"}},
        None,
        422,
    ),
    ("POST", P, "reviewer", feature(name="纽约路"), None, 422),
    ("POST", P + "/1/rename", "surveyor", {"name": ""}, None, 422),
    ("POST", P + "/1/rename", "surveyor", {}, None, 422),
    ("POST", P + "/99999999/rename", "surveyor", {"name": "禾雀路"}, None, 404),
    ("POST", P + "/abc/rename", "surveyor", {"name": "禾雀路"}, None, 422),
    ("POST", P + "/1/review", "reviewer", {"decision": "maybe"}, None, 422),
    ("POST", P + "/1/review", "reviewer", {"decision": "approve", "comment": "x" * 5000}, None, 422),
    ("POST", P + "/99999999/review", "reviewer", {"decision": "approve"}, None, 428),
    ("POST", "/v1/boundary-markers/1/inspections", "surveyor", {"status": "intact"}, None, 422),
    (
        "POST",
        "/v1/boundary-markers/1/inspections",
        "surveyor",
        {"status": "intact", "inspected_on": "yesterday"},
        None,
        422,
    ),
    (
        "POST",
        "/v1/boundary-markers/1/inspections",
        "surveyor",
        {"status": "intact", "inspected_on": "2026-02-30"},
        None,
        422,
    ),
    (
        "POST",
        "/v1/boundary-markers/1/inspections",
        "surveyor",
        {
            "status": "moved",
            "inspected_on": "2026-01-01",
            "position": {"type": "LineString", "coordinates": [[1, 1], [2, 2]]},
        },
        None,
        400,
    ),
    (
        "POST",
        "/v1/boundary-markers/999999/inspections",
        "surveyor",
        {"status": "intact", "inspected_on": "2026-01-01"},
        None,
        404,
    ),
    ("POST", "/v1/place-name-signs", "surveyor", {"place_name_id": 1}, None, 422),
    (
        "POST",
        "/v1/place-name-signs",
        "surveyor",
        {
            "place_name_id": 99999999,
            "position": {"type": "Point", "coordinates": [113.3, 23.1]},
            "installed_on": "2025-01-01",
            "text": "x",
            "pinyin": "x",
        },
        None,
        404,
    ),
    (
        "POST",
        "/v1/place-name-signs/1/inspections",
        "surveyor",
        {"status": "intact", "inspected_on": "2026-01-01"},
        None,
        404,
    ),
    ("POST", F, "editor", {**FAC, "properties": {"type": "elderly_canteen"}}, None, 422),
    ("POST", F, "editor", {**FAC, "properties": {"type": "spa", "name": "x"}}, None, 400),
    ("POST", F, "editor", {**FAC, "geometry": {"type": "Point", "coordinates": [113.3]}}, None, 400),
    (
        "POST",
        F,
        "editor",
        {**FAC, "geometry": {"type": "LineString", "coordinates": [[113.3, 23.1], [113.4, 23.1]]}},
        None,
        400,
    ),
    (
        "POST",
        F,
        "editor",
        {**FAC, "properties": {"type": "elderly_canteen", "name": "x", "capacity": -1}},
        None,
        422,
    ),
    (
        "POST",
        F,
        "editor",
        {**FAC, "properties": {"type": "elderly_canteen", "name": "x", "attributes": {"a": [1]}}},
        None,
        422,
    ),
    ("PATCH", F + "/1", "editor", {"name": "y"}, None, 428),
    ("PATCH", F + "/1", "editor", {"status": "demolished"}, None, 422),
    ("PATCH", F + "/99999999", "editor", {"name": "y"}, None, 428),
    ("DELETE", F + "/99999999", "editor", None, None, 428),
    (
        "POST",
        "/v1/admin/facility-types",
        "admin",
        {"code": "Bad Code", "collection": "x-y", "name_zh": "x", "name_en": "x", "default_radius_m": 10},
        None,
        422,
    ),
    (
        "POST",
        "/v1/admin/facility-types",
        "admin",
        {"code": "ok_code", "collection": "ok", "name_zh": "x", "name_en": "x", "default_radius_m": -5},
        None,
        422,
    ),
    ("POST", "/v1/admin/readings", "admin", {"phrase": "花都", "reading": "hua"}, None, 400),
    ("POST", "/v1/admin/readings", "admin", {"phrase": "花都", "reading": "hua1 du1"}, None, 400),
    ("POST", "/v1/admin/forbidden-terms", "admin", {"term": "x", "kind": "swearword"}, None, 422),
]
UPLOADS: list[tuple[str, bytes, dict[str, str], int]] = [
    ("s.geojson", b'{"type": "FeatureCollection", "features": [', {"crs": "wgs84", "category": "road"}, 400),
    (
        "s.geojson",
        b'{"type": "FeatureCollection", "features": []}',
        {"crs": "wgs84", "category": "road"},
        400,
    ),
    # A cell that is not a number is that row's error (422 naming the row), not the whole file's 400.
    ("s.csv", "name,lon,lat\n禾雀路,abc,23\n".encode(), {"crs": "wgs84", "category": "road"}, 422),
    # UTF-16 (with its byte-order mark) is read: the road drawn as a point is then a rule error.
    (
        "s.csv",
        "name,lon,lat\n禾雀路,113.8,23.3\n".encode("utf-16"),
        {"crs": "wgs84", "category": "road"},
        422,
    ),
    (
        "s.csv",
        'name,wkt\n禾雀路,"LINESTRING(113.8 23.3, 113.801 23.3)"\n'.encode(),
        {"crs": "wgs84", "category": "lane"},
        422,
    ),
    ("s.csv", 'name,wkt\n禾雀路,"LINESTRING(113.8 23.3, 113.801 23.3)"\n'.encode(), {"crs": "EPSG:1"}, 400),
    (
        "s.csv",
        "name,wkt\n禾雀路,POINT(not wkt)\n".encode(),
        {"crs": "wgs84", "category": "road"},
        422,
    ),  # its row's error
    ("s.exe", b"MZ\x90\x00", {"crs": "wgs84", "category": "road"}, 400),
    (
        "s.csv",
        '名字,wkt\n禾雀路,"LINESTRING(113.8 23.3, 113.801 23.3)"\n'.encode(),
        {"crs": "wgs84", "category": "road"},
        400,
    ),
]


def test_bad_writes_table(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    before = counts(fresh_url)
    assert len(CASES) + len(UPLOADS) >= 60
    for i, (method, path, role, body, raw, status) in enumerate(CASES):
        headers = auth(keys[role])
        if raw is not None:
            resp = fresh_client.request(
                method, path, content=raw, headers={**headers, "Content-Type": "application/json"}
            )
        elif body is not None:
            resp = fresh_client.request(method, path, json=body, headers=headers)
        else:
            resp = fresh_client.request(method, path, headers=headers)
        assert resp.status_code == status, (i, method, path, resp.status_code, resp.text[:300])
        assert resp.json()["detail"], (i, path)
        assert "Traceback" not in resp.text and "SELECT" not in resp.text
    for i, (name, content, form, status) in enumerate(UPLOADS):
        resp = fresh_client.post(
            "/v1/submissions", files={"file": (name, content)}, data=form, headers=auth(keys["surveyor"])
        )
        assert resp.status_code == status, (i, name, resp.status_code, resp.text[:300])
    after = counts(fresh_url)
    assert after == before


@pytest.mark.parametrize("size_mb", [3])
def test_huge_json_body_is_refused(fresh_client: TestClient, fresh_url: str, size_mb: int) -> None:
    keys = make_keys(fresh_url)
    before = counts(fresh_url)
    coords = [[113.8 + i * 1e-7, 23.3] for i in range(size_mb * 40_000)]
    resp = fresh_client.post(
        P,
        json=feature(geometry={"type": "LineString", "coordinates": coords}),
        headers=auth(keys["surveyor"]),
    )
    assert resp.status_code == 413 and "larger than 1 MB" in resp.json()["detail"]
    assert counts(fresh_url) == before
