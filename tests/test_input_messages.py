"""What the Chinese-message probe found (issue #14): bad geometries and bad cells said in our words and by row,
422 lists, OGC titles, role and geometry words in the reader's language, and the small bugs it turned up.
Every answer is asked for in Chinese (Accept-Language: zh) and in English (no header)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geo_service import i18n
from geo_service.api.app import create_app
from tests.conftest import settings_for
from tests.writes_helpers import auth, counts, make_keys

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
LINE = {"type": "LineString", "coordinates": [[113.330, 23.130], [113.334, 23.131]]}
#: Words of the libraries' own messages, which no answer may carry.
LIBRARY_WORDS = (
    "Exception",
    "gufunc",
    "operand",
    "Unknown geometry type",
    "Invalid Coordinate",
    "[nan",
    "Self-int",
)


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def both(client: TestClient, method: str, path: str, **kw: Any) -> tuple[Any, Any]:
    """The answer in Chinese and in English (files are sent afresh each time)."""
    headers = kw.pop("headers", {})
    files = kw.pop("files", None)
    zh = client.request(method, path, headers={**headers, **ZH}, files=files() if files else None, **kw)
    en = client.request(method, path, headers=headers, files=files() if files else None, **kw)
    return zh, en


def check(client: TestClient, key: str, geometry: dict[str, Any], category: str = "road") -> tuple[str, str]:
    """The geometry problem /v1/place-names/check reports, in Chinese and in English."""
    body = {"type": "Feature", "geometry": geometry, "properties": {"name": "新测试路", "category": category}}
    zh, en = both(client, "POST", "/v1/place-names/check", json=body, headers=auth(key))
    assert zh.status_code == en.status_code == 200, en.text

    def said(r: Any) -> str:
        return next(p["message"] for p in r.json()["problems"] if p["rule"] == "geometry")

    return said(zh), said(en)


def test_malformed_geometries_are_said_in_our_words(fresh_client: TestClient, keys: dict[str, str]) -> None:
    surveyor = keys["surveyor"]
    zh, en = check(fresh_client, surveyor, {"type": "Blob", "coordinates": [1, 2]})
    assert en.startswith(
        "malformed GeoJSON geometry: unknown geometry type 'Blob': use one of Point, MultiPoint"
    )
    assert zh.startswith("GeoJSON 几何格式有误：未知的几何类型 'Blob'：请使用 Point, MultiPoint")
    zh, en = check(fresh_client, surveyor, {"type": "LineString", "coordinates": [[113.33, 23.13]]})
    assert en == "malformed GeoJSON geometry: a line needs at least 2 positions"
    assert zh == "GeoJSON 几何格式有误：线至少需要 2 个坐标点"
    ring = [[113.33, 23.13], [113.34, 23.13], [113.34, 23.14], [113.33, 23.14]]
    zh, en = check(fresh_client, surveyor, {"type": "Polygon", "coordinates": [ring]}, "village")
    assert en.endswith("a polygon's ring must close: its last position repeats the first")
    assert zh.endswith("面的环必须闭合：最后一个坐标点应与第一个相同")
    zh, en = check(fresh_client, surveyor, {"type": "LineString"})
    assert (zh, en) == (
        "GeoJSON 几何格式有误：线需要坐标（coordinates）",
        "malformed GeoJSON geometry: a LineString needs coordinates",
    )
    # A self-crossing outline: GEOS's reason mapped, with the place it crosses.
    bowtie = [[113.33, 23.13], [113.34, 23.14], [113.34, 23.13], [113.33, 23.14], [113.33, 23.13]]
    zh, en = check(fresh_client, surveyor, {"type": "Polygon", "coordinates": [bowtie]}, "village")
    assert en == "invalid geometry: the outline crosses itself at lon 113.335, lat 23.135"
    assert zh == "几何图形无效：边界线在 经度 113.335、纬度 23.135 处自相交"
    # A facility whose point has one number: 400, in words (was numpy's "Input operand 0 … gufunc").
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [1]},
        "properties": {"type": "elderly_canteen", "name": "探针长者饭堂"},
    }
    zh_r, en_r = both(fresh_client, "POST", "/v1/facilities", json=body, headers=auth(keys["editor"]))
    assert zh_r.status_code == en_r.status_code == 400
    assert en_r.json()["detail"] == "malformed GeoJSON geometry: a position is 2 numbers (lon, lat), not [1]"
    assert zh_r.json()["detail"] == "GeoJSON 几何格式有误：坐标点应为 2 个数字（经度, 纬度），而不是 [1]"
    for text in (zh, en, zh_r.text, en_r.text):
        assert not any(word in text for word in LIBRARY_WORDS), text


BAD_CSV = (
    "名称,经度,纬度,类别\n探针一巷,113.3301,23.1301,巷\n探针二巷,abc,23.13,巷\n探针三巷,113.3303,23.1303,巷\n"
)
BAD_KML = (
    '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
    "<Placemark><name>探针戊巷</name><Point><coordinates>113.3331,23.1331</coordinates></Point></Placemark>"
    "<Placemark><name>探针己巷</name><Point><coordinates>oops</coordinates></Point></Placemark>"
    "</Document></kml>"
)
BAD_GPX = (
    '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
    '<wpt lat="23.1341" lon="113.3341"><name>探针庚巷</name></wpt><wpt lat="23.1344"><name>探针壬巷</name></wpt></gpx>'
)
BAD_WKT = "name,wkt\n探针八巷,POINT(113.33 23.13)\n探针九巷,POINT(113.33 \n"


@pytest.mark.parametrize(
    ("filename", "content", "row", "name", "en", "zh"),
    [
        ("bad.csv", BAD_CSV, 3, "探针二巷", "经度 'abc' is not a number", "经度的值 'abc' 不是数字"),
        ("bad.kml", BAD_KML, 2, "探针己巷", "'oops' is not a KML coordinate", "'oops' 不是 KML 坐标"),
        (
            "bad.gpx",
            BAD_GPX,
            2,
            "探针壬巷",
            "a GPX point needs numeric lat and lon",
            "GPX 点需要数值型的 lat 和 lon",
        ),
        (
            "bad.csv",
            BAD_WKT,
            3,
            "探针九巷",
            "'POINT(113.33 ' is not valid WKT",
            "'POINT(113.33 ' 不是有效的 WKT",
        ),
    ],
)
def test_a_bad_cell_is_an_error_of_its_row_in_every_upload(
    fresh_client: TestClient,
    fresh_url: str,
    keys: dict[str, str],
    filename: str,
    content: str,
    row: int,
    name: str,
    en: str,
    zh: str,
) -> None:
    """Place-name submissions (also a dry run), facility imports and siting candidates share the readers: each
    answers 422 naming the row and the name, nothing written."""
    before = counts(fresh_url)
    uploads = [
        ("/v1/submissions", keys["surveyor"], {"crs": "wgs84", "category": "alley"}),
        ("/v1/submissions", keys["surveyor"], {"crs": "wgs84", "category": "alley", "dry_run": "true"}),
        ("/v1/facilities/import", keys["editor"], {"crs": "wgs84", "type": "elderly_canteen"}),
        ("/v1/coverage/candidates", keys["surveyor"], {"crs": "wgs84"}),
    ]
    for path, key, data in uploads:
        zh_r, en_r = both(
            fresh_client,
            "POST",
            path,
            data=data,
            headers=auth(key),
            files=lambda: {"file": (filename, content.encode())},
        )
        assert zh_r.status_code == en_r.status_code == 422, (path, en_r.text)
        (error,) = en_r.json()["errors"]
        assert {k: error[k] for k in ("row", "name", "rule")} == {
            "row": row,
            "name": name,
            "rule": "geometry",
        }
        assert en in error["message"], (path, error)
        assert zh in zh_r.json()["errors"][0]["message"], (path, zh_r.json())
        assert "nothing was written" in en_r.json()["detail"] and "未写入任何内容" in zh_r.json()["detail"]
    assert counts(fresh_url) == before


def test_csv_problems_are_said_in_our_words(fresh_client: TestClient, keys: dict[str, str]) -> None:
    def send(content: bytes, **form: str) -> tuple[Any, Any]:
        return both(
            fresh_client,
            "POST",
            "/v1/submissions",
            data={"crs": "wgs84", "category": "alley", **form},
            headers=auth(keys["surveyor"]),
            files=lambda: {"file": ("a.csv", content)},
        )

    zh, en = send(BAD_CSV.encode(), encoding="klingon")
    assert en.status_code == 400 and "unknown encoding" not in en.text
    assert en.json()["detail"] == "a.csv: unknown text encoding 'klingon'; say e.g. utf-8, gb18030 or big5"
    assert zh.json()["detail"] == "a.csv：未知的文本编码 'klingon'；请填写 utf-8、gb18030 或 big5 等"
    zh, en = send("name,lon,lat\n甲巷,113.33,23.13\n乙巷,113.33,23.13,9,9\n".encode())
    assert en.status_code == 400 and "C error" not in en.text and "tokenizing" not in en.text
    assert en.json()["detail"] == "a.csv: row 3 has 5 cells where the header has 3"
    assert zh.json()["detail"] == "a.csv：第 3 行有 5 个单元格，而表头只有 3 列"


def test_chinese_keys_and_wild_longitudes_in_uploads(fresh_client: TestClient, keys: dict[str, str]) -> None:
    """GeoJSON properties 名称/类别 count as CSV headers do (feature by feature); a longitude of 913 is out of
    range, not outside the region."""
    features = [
        {"type": "Feature", "geometry": g, "properties": p}
        for g, p in [
            (
                {"type": "Point", "coordinates": [113.3321, 23.1321]},
                {"name": "探针甲村", "category": "natural_village"},
            ),
            ({"type": "Point", "coordinates": [113.3325, 23.1325]}, {"名称": "探针己村", "类别": "自然村"}),
            ({"type": "Point", "coordinates": [913.3, 23.13]}, {"标准名称": "探针庚村", "类别": "自然村"}),
        ]
    ]
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    zh, en = both(
        fresh_client,
        "POST",
        "/v1/submissions",
        data={"crs": "wgs84", "dry_run": "true"},
        headers=auth(keys["surveyor"]),
        files=lambda: {"file": ("rows.geojson", content)},
    )
    assert en.status_code == zh.status_code == 422, en.text
    assert [(e["row"], e["name"], e["rule"]) for e in en.json()["errors"]] == [(3, "探针庚村", "geometry")]
    assert en.json()["errors"][0]["message"].startswith("coordinates out of range: lon within ±180")
    assert zh.json()["errors"][0]["message"].startswith("坐标超出范围")


def test_enum_lists_are_ours_in_chinese(client: TestClient) -> None:
    path = "/v1/facilities/nearest?lon=113.3&lat=23.1&type=elderly_canteen&crs=foo"
    zh, en = both(client, "GET", path)
    assert zh.status_code == en.status_code == 422
    assert zh.json()["detail"] == "crs: 必须是 wgs84、cgcs2000、gcj02 或 bd09"
    assert en.json()["detail"] == "crs: Input should be 'wgs84', 'cgcs2000', 'gcj02' or 'bd09'"
    zh, _ = both(client, "GET", "/v1/coverage?type=elderly_canteen&mode=xyz")
    assert zh.json()["errors"][0]["msg"] == "必须是 radius 或 presence"


def test_a_bool_literal_says_true_or_false(fresh_client: TestClient, keys: dict[str, str]) -> None:
    zh, en = both(
        fresh_client,
        "PATCH",
        "/v1/admin/keys/test-editor",
        json={"revoked": False},
        headers=auth(keys["admin"]),
    )
    assert zh.status_code == en.status_code == 422
    assert zh.json()["detail"] == "revoked: 必须为 true"
    assert en.json()["detail"] == "revoked: Input should be True"


def test_ogc_titles_follow_the_language(client: TestClient) -> None:
    zh, en = both(client, "GET", "/collections/nope")
    assert zh.status_code == en.status_code == 404
    assert (zh.json()["title"], en.json()["title"]) == (i18n.api_messages("zh")["Not Found"], "Not Found")
    zh, en = both(client, "GET", "/collections/villages/items?bbox=1,2,3")
    assert (zh.json()["title"], en.json()["title"]) == ("请求有误", "Bad Request")
    assert zh.json()["type"] == en.json()["type"] and zh.json()["status"] == en.json()["status"] == 400


def test_html_error_pages_say_their_language(client: TestClient) -> None:
    zh, en = both(client, "GET", "/maps/coverage?type=bogus")
    assert zh.status_code == en.status_code == 400
    assert '<html lang="zh">' in zh.text and '<html lang="en">' in en.text


def test_a_429_on_an_ogc_path_is_an_ogc_exception(fresh_url: str) -> None:
    with TestClient(create_app(settings_for(fresh_url, rate_limit_per_minute=60, rate_limit_burst=2))) as c:
        answers = [c.get("/collections", headers=ZH) for _ in range(4)]
    limited = answers[-1]
    assert limited.status_code == 429
    assert limited.json()["status"] == 429 and limited.json()["title"] == "请求过于频繁"
    assert limited.json()["type"] == "about:blank" and "detail" in limited.json()


def test_role_refusals_name_the_roles_as_the_pages_do(fresh_client: TestClient, keys: dict[str, str]) -> None:
    zh, en = both(
        fresh_client,
        "POST",
        "/v1/place-names/1/review",
        json={"decision": "approve"},
        headers=auth(keys["surveyor"]),
    )
    assert zh.status_code == en.status_code == 403
    assert en.json()["detail"] == "this needs the reviewer role; 'test-surveyor' is a surveyor"
    assert (
        zh.json()["detail"]
        == "此操作需要审核员（reviewer）及以上权限；'test-surveyor' 是外业调查员（surveyor）"
    )
    for role in (
        "surveyor",
        "reviewer",
        "editor",
        "admin",
    ):  # the pages' words, one source of truth for people
        assert i18n.api_messages("zh")[role].startswith(i18n.gettext("zh", f"role.{role}") + "（")


def test_geometry_and_file_kinds_in_chinese_words(fresh_client: TestClient, keys: dict[str, str]) -> None:
    line = 'name,wkt\n甲点,"LINESTRING(113.33 23.13, 113.34 23.14)"\n'
    zh, en = both(
        fresh_client,
        "POST",
        "/v1/coverage/candidates",
        data={"crs": "wgs84"},
        headers=auth(keys["surveyor"]),
        files=lambda: {"file": ("c.csv", line.encode())},
    )
    assert zh.status_code == en.status_code == 422
    assert en.json()["errors"][0]["message"] == "row 2: a LineString, not a point"
    assert zh.json()["errors"][0]["message"] == "第 2 行：是线，不是点"
    zh, en = both(
        fresh_client,
        "POST",
        "/v1/submissions",
        data={"crs": "wgs84", "category": "road"},
        headers=auth(keys["surveyor"]),
        files=lambda: {"file": ("prog.exe", b"MZ")},
    )
    assert zh.status_code == en.status_code == 400
    assert ".zip (a zipped Shapefile)" in en.json()["detail"]
    assert ".zip（Shapefile 压缩包）" in zh.json()["detail"] and "zipped" not in zh.json()["detail"]


def test_admin_lists_refuse_what_cannot_be(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    admin = auth(keys["admin"])
    new_type = {
        "code": "new_type_x",
        "collection": "villages",
        "name_zh": "新",
        "name_en": "New",
        "default_radius_m": 500,
    }
    zh, en = both(fresh_client, "POST", "/v1/admin/facility-types", json=new_type, headers=admin)
    assert zh.status_code == en.status_code == 409
    assert en.json()["detail"] == "the collection id 'villages' is taken by another collection"
    assert zh.json()["detail"] == "集合标识 'villages' 已被其他集合使用"
    ids = [c["id"] for c in fresh_client.get("/collections").json()["collections"]]
    assert ids.count("villages") == 1
    zh, en = both(
        fresh_client, "POST", "/v1/admin/readings", json={"phrase": "ab", "reading": "a b"}, headers=admin
    )
    assert zh.status_code == en.status_code == 400
    assert en.json()["detail"] == "a phrase is written in Chinese characters, not 'ab'"
    assert zh.json()["detail"] == "词语应由汉字组成，而不是 'ab'"


def test_every_database_unavailable_answer_carries_its_code(fresh_url: str) -> None:
    """The 503 of a connection refused outside SQLAlchemy (the handler of last resort) says its code too."""
    app = create_app(settings_for(fresh_url))

    @app.get("/test/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    with TestClient(app) as c:
        zh, en = both(c, "GET", "/test/refused")
    assert zh.status_code == en.status_code == 503
    assert en.json() == {
        "detail": "the database is unavailable; try again shortly",
        "code": "database_unavailable",
    }
    assert zh.json()["code"] == "database_unavailable" and zh.json()["detail"] != en.json()["detail"]
