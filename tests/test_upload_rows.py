"""Rows of an uploaded file in messages (issue #14): a place-name submission and a facility import name a row
the same way (the spreadsheet row of a CSV, the 1-based position in GeoJSON), say a missing category as
missing (not Python's None), list the categories in the reader's language, tell an empty name once and
NaN coordinates in the same words."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.writes_helpers import auth, make_keys

ZH = {"Accept-Language": "zh"}
ROWS = (
    "名称,经度,纬度,类别\r\n"
    "探针甲村,113.3301,23.1301,\r\n"  # row 2: no category
    ",113.3302,23.1302,自然村\r\n"  # row 3: no name
    "探针乙村,,,自然村\r\n"  # row 4: no coordinates
    "探针丙村,113.3303,23.1303,河流\r\n"  # row 5: no such category
).encode()


def _errors(
    client: TestClient, url: str, key: str, file: tuple[str, bytes], lang: dict[str, str], **form: str
) -> Any:
    resp = client.post(
        url,
        headers={**auth(key), **lang},
        data={"crs": "wgs84", **form},
        files={"file": (file[0], file[1], "application/octet-stream")},
    )
    assert resp.status_code == 422, resp.text
    return [(e["row"], e["rule"], e["message"]) for e in resp.json()["errors"]]


def test_submission_rows(fresh_client: TestClient, fresh_url: str) -> None:
    key = make_keys(fresh_url)["surveyor"]
    en = _errors(fresh_client, "/v1/submissions", key, ("rows.csv", ROWS), {}, dry_run="true")
    zh = _errors(fresh_client, "/v1/submissions", key, ("rows.csv", ROWS), ZH, dry_run="true")
    assert [(row, rule) for row, rule, _ in en] == [
        (2, "category"),
        (3, "name"),
        (4, "geometry"),
        (5, "category"),
    ]
    assert [(row, rule) for row, rule, _ in zh] == [(row, rule) for row, rule, _ in en]
    assert (
        en[0][2] == "the category is missing: fill in the category (类别) column or give the category field"
    )
    assert zh[0][2] == "缺少类别：请填写文件中的“类别”列，或在表单中选择类别"
    assert (en[1][2], zh[1][2]) == ("the name is empty", "名称为空")
    assert (en[2][2], zh[2][2]) == (
        "the coordinates are NaN or infinite",
        "坐标为 NaN 或无穷大，不是有效数字",
    )
    assert en[3][2] == (
        "unknown category '河流': use one of road, street, alley, village, community, natural_village, bridge, other"
    )
    assert zh[3][2] == "未知类别 '河流'：请使用以下类别之一：道路、街、巷、行政村、社区、自然村、桥、其他"


def test_facility_import_rows_say_where_as_submissions_do(fresh_client: TestClient, fresh_url: str) -> None:
    key = make_keys(fresh_url)["editor"]
    csv = (
        "name,lon,lat\r\n"
        "禾雀甲饭堂,913.3,23.13\r\n"  # row 2: out of range
        "禾雀乙饭堂,,\r\n"  # row 3: no coordinates
        ",113.3302,23.1302\r\n"  # row 4: no name
    ).encode()
    en = _errors(fresh_client, "/v1/facilities/import", key, ("rows.csv", csv), {}, type="elderly_canteen")
    zh = _errors(fresh_client, "/v1/facilities/import", key, ("rows.csv", csv), ZH, type="elderly_canteen")
    assert [(row, rule) for row, rule, _ in en] == [(2, "coordinates"), (3, "coordinates"), (4, "name")]
    assert en[0][2] == "row 2 (禾雀甲饭堂): lon/lat out of range (is the declared CRS right?)"
    assert zh[0][2] == "第 2 行（禾雀甲饭堂）：经纬度超出范围（申报的坐标系是否正确？）"
    assert en[1][2] == "row 3 (禾雀乙饭堂): the coordinates are NaN or infinite"
    assert zh[1][2] == "第 3 行（禾雀乙饭堂）：坐标为 NaN 或无穷大，不是有效数字"
    assert (en[2][2], zh[2][2]) == ("row 4: the name is empty", "第 4 行：名称为空")

    point = {"type": "Point", "coordinates": [113.33, 23.13]}
    line = {"type": "LineString", "coordinates": [[113.33, 23.13], [113.34, 23.13]]}
    features = [
        {"type": "Feature", "geometry": geom, "properties": {"name": name}}
        for name, geom in (("禾雀丙饭堂", point), ("禾雀丁饭堂", line))
    ]
    geojson = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    en = _errors(
        fresh_client, "/v1/facilities/import", key, ("rows.geojson", geojson), {}, type="elderly_canteen"
    )
    zh = _errors(
        fresh_client, "/v1/facilities/import", key, ("rows.geojson", geojson), ZH, type="elderly_canteen"
    )
    assert en[0][:2] == zh[0][:2] == (2, "geometry")
    assert en[0][2] == "feature 2 (禾雀丁饭堂): a facility is a point, not a LineString"
    assert zh[0][2].startswith("第 2 个要素（禾雀丁饭堂）：")
