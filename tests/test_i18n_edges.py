"""Messages of the API's edges in Chinese (issue #14): OGC API and CQL2 errors, access (401/403), the admin lists,
If-Match, attachments and CRS answer in the language ``Accept-Language`` asks for, English without it; the
machine-readable members (``title``, ``type``, ``status``, ``code``, ``current_version``) stay as they are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from geo_service import i18n
from geo_service.api.app import create_app
from geo_service.domain.crs import UnknownCRS, normalize_crs
from tests.conftest import settings_for
from tests.writes_helpers import auth, make_keys, point_in

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


def _both(
    send: Callable[[dict[str, str]], httpx.Response], status: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The English and the Chinese answer to one request, both with ``status``."""
    en, zh = send({}), send(ZH)
    assert en.status_code == zh.status_code == status, (en.status_code, en.text, zh.status_code, zh.text)
    assert zh.headers["content-language"] == "zh" and en.headers["content-language"] == "en"
    return en.json(), zh.json()


#: (path, parameters, status, English detail, Chinese detail): a detail ending in "…" is compared as a prefix.
OGC_ERRORS = [
    (
        "/collections/villages/items",
        {"bbox": "113,23,114"},
        400,
        "bbox needs 4 numbers (minLon,minLat,maxLon,maxLat), got 3",
        "bbox 需要 4 个数（最小经度,最小纬度,最大经度,最大纬度），实际收到 3 个",
    ),
    (
        "/collections/villages/items",
        {"bbox": "114,23,113,24"},
        400,
        "bbox minimum exceeds maximum: give minLon,minLat,maxLon,maxLat",
        "bbox 的最小值大于最大值：请按“最小经度,最小纬度,最大经度,最大纬度”的顺序给出",
    ),
    (
        "/collections/villages/items",
        {"crs": "EPSG:9999"},
        400,
        "unsupported crs 'EPSG:9999': use one of …",
        "不支持的坐标系 'EPSG:9999'：请使用以下之一：…",
    ),
    (
        "/collections/villages/items",
        {"filter": "nosuch = 1"},
        400,
        "the filter names 'nosuch', which is not a queryable of villages: one of …",
        "过滤条件中的 'nosuch' 不是数据集 villages 的可查询属性：可用的有 …",
    ),
    (
        "/collections/villages/items",
        {"filter": "S_INTERSECTS(name, POINT(113.3 23.1))"},
        400,
        "name is not a geometry: spatial operators take geometry",
        "name 不是几何字段：空间运算符只接受几何",
    ),
    (
        "/collections/villages/items",
        {"filter": "name = 'a' AND"},
        400,
        "filter is not valid CQL2 text…",
        "过滤条件不是有效的 CQL2 文本…",
    ),
    (
        "/collections/villages/items",
        {"sortby": "-nosuch"},
        400,
        "sortby names 'nosuch', not a property of villages: one of …",
        "sortby 中的 'nosuch' 不是数据集 villages 的属性：可用的有 …",
    ),
    (
        "/collections/villages/items/nosuch",
        {},
        404,
        "no feature 'nosuch' in collection villages",
        "数据集 villages 中没有要素 'nosuch'",
    ),
    (
        "/collections/nosuch",
        {},
        404,
        "unknown collection 'nosuch': one of …",
        "未知数据集 'nosuch'：可用的有 …",
    ),
    (
        "/collections/place-name-proposals/items",
        {},
        401,
        "the collection place-name-proposals is for staff: sign in, or send an API key …",
        "数据集 place-name-proposals 仅供工作人员使用：请登录或发送 API 密钥…",
    ),
    (
        "/collections/villages/tiles/WebMercatorQuad/3/8/0",
        {},
        404,
        "tile matrix 3 has rows and columns 0 to 7, not row 8, column 0",
        "瓦片矩阵 3 的行号和列号为 0 至 7，没有第 8 行第 0 列",
    ),
    (
        "/collections/villages/tiles/NoSuchSet",
        {},
        404,
        "unknown tile matrix set 'NoSuchSet': this service offers WebMercatorQuad",
        "未知的瓦片矩阵集 'NoSuchSet'：本服务提供 WebMercatorQuad",
    ),
    ("/collections", {"f": "xml"}, 400, "f must be one of json, html", "f 必须是以下之一：json、html"),
]


def _says(detail: str, expected: str) -> bool:
    return detail.startswith(expected[:-1]) if expected.endswith("…") else detail == expected


@pytest.mark.parametrize(("path", "params", "status", "en_text", "zh_text"), OGC_ERRORS)
def test_ogc_and_cql_errors_follow_accept_language(
    client: TestClient, path: str, params: dict[str, str], status: int, en_text: str, zh_text: str
) -> None:
    en, zh = _both(lambda headers: client.get(path, params=params, headers=headers), status)
    assert _says(en["detail"], en_text), en["detail"]
    assert _says(zh["detail"], zh_text), zh["detail"]
    # OGC API exception members: ``type`` and ``status`` are for machines, the same in either language; ``title``
    # is the status's phrase for people (RFC 7807 §3.1), in the reader's language.
    human = ("detail", "title")
    assert {k: v for k, v in zh.items() if k not in human} == {k: v for k, v in en.items() if k not in human}
    assert zh.get("title") == (i18n.api_messages("zh")[en["title"]] if "title" in en else None)


def test_access_admin_and_if_match_texts_follow_accept_language(
    fresh_client: TestClient, fresh_url: str
) -> None:
    c, keys = fresh_client, make_keys(fresh_url)
    term = {"term": "测试禁词", "kind": "company"}

    def post_term(key: str | None, body: dict[str, str] = term) -> Callable[[dict[str, str]], httpx.Response]:
        headers = auth(key) if key else {}
        return lambda h: c.post("/v1/admin/forbidden-terms", json=body, headers={**headers, **h})

    en, zh = _both(post_term(None), 401)
    assert en["detail"] == "sign in, or send an API key: Authorization: Bearer <key>"
    assert zh["detail"] == "请先登录，或发送 API 密钥：Authorization: Bearer <key>"
    en, zh = _both(post_term("gs_not-a-key"), 401)
    assert en["detail"] == "the API key is not valid (unknown or revoked)"
    assert zh["detail"] == "API 密钥无效（不存在或已吊销）"
    en, zh = _both(post_term(keys["reviewer"]), 403)
    assert en["detail"] == "this needs the admin role; 'test-reviewer' is a reviewer"
    assert zh["detail"] == "此操作需要管理员（admin）及以上权限；'test-reviewer' 是审核员（reviewer）"
    wrong = {"name": "nobody", "password": "not the password"}
    en, zh = _both(lambda h: c.post("/v1/session", json=wrong, headers=h), 401)
    assert en["detail"] == "unknown name or wrong password" and zh["detail"] == "用户名或密码错误"

    assert c.post("/v1/admin/forbidden-terms", json=term, headers=auth(keys["admin"])).status_code == 201
    en, zh = _both(post_term(keys["admin"]), 409)
    assert en["detail"] == "the forbidden term '测试禁词' is on the list already"
    assert zh["detail"] == "禁用词 '测试禁词' 已在列表中"
    admin = auth(keys["admin"])
    en, zh = _both(lambda h: c.delete("/v1/admin/readings/987654", headers={**admin, **h}), 404)
    assert en["detail"] == "no reading with id 987654" and zh["detail"] == "没有编号为 987654 的读音"
    en, zh = _both(
        lambda h: c.get("/v1/admin/audit", params={"table": "nosuch"}, headers={**admin, **h}), 400
    )
    assert en["detail"].startswith("unknown table 'nosuch': use one of ")
    assert zh["detail"].startswith("未知的表 'nosuch'：请使用以下之一：")

    body = {
        "type": "Feature",
        "geometry": point_in(fresh_url, "440106010001"),
        "properties": {"type": "elderly_canteen", "name": "语言测试饭堂"},
    }
    created = c.post("/v1/facilities", json=body, headers=auth(keys["editor"]))
    assert created.status_code == 201, created.text
    fid = created.json()["id"]

    def patch(if_match: dict[str, str]) -> Callable[[dict[str, str]], httpx.Response]:
        headers = {**auth(keys["editor"]), **if_match}
        return lambda h: c.patch(f"/v1/facilities/{fid}", json={"phone": "020-1"}, headers={**headers, **h})

    en, zh = _both(patch({}), 428)
    assert en["detail"].startswith("If-Match is required: send the ETag of the version you saw")
    assert zh["detail"].startswith("必须提供 If-Match：请发送您所看到版本的 ETag")
    en, zh = _both(patch({"If-Match": '"7"'}), 412)
    assert en["detail"].startswith(f'facility {fid} is at version 1 (ETag "1"), not the one If-Match names')
    assert zh["detail"].startswith(f'设施 {fid} 当前为第 1 版（ETag "1"），不是 If-Match 所指的版本')
    assert en["current_version"] == zh["current_version"] == 1
    en, zh = _both(patch({"If-Match": "garbage"}), 400)
    assert en["code"] == zh["code"] == "bad_if_match"
    assert zh["detail"].startswith("If-Match 必须是 *，或是实体标签列表")


def test_attachment_texts_follow_accept_language(fresh_url: str, tmp_path: Any) -> None:
    keys = make_keys(fresh_url)
    settings = settings_for(fresh_url, attachments_dir=tmp_path, attachment_max_mb=1)
    with TestClient(create_app(settings)) as c:

        def upload(data: bytes, name: str) -> Callable[[dict[str, str]], httpx.Response]:
            files = {"file": (name, data, "application/octet-stream")}
            return lambda h: c.post("/v1/attachments", files=files, headers={**auth(keys["surveyor"]), **h})

        en, zh = _both(upload(b"\0" * (1024 * 1024 + 1), "big.png"), 413)
        assert en["detail"] == "an attachment may be at most 1 MB" and zh["detail"] == "附件大小不能超过 1 MB"
        en, zh = _both(upload(b"just some text", "note.txt"), 415)
        assert en["detail"] == (
            "the file's content is none of JPEG, PNG or WebP photos and PDF documents "
            "(its bytes decide, not its name or declared type)"
        )
        assert zh["detail"] == (
            "文件内容不属于 JPEG、PNG、WebP 照片和 PDF 文档 中的任何一种（以文件内容为准，而非文件名或声明的类型）"
        )
        en, zh = _both(upload(b"%PDF-1.7\n1 0 obj\n", "cut.pdf"), 422)
        assert en["errors"] == [{"rule": "file", "message": en["detail"]}]
        assert zh["errors"] == [{"rule": "file", "message": zh["detail"]}]
        assert zh["detail"] == "PDF 不完整（末尾没有 %%EOF）：请上传完整的文档"
        en, zh = _both(lambda h: c.get("/v1/attachments/987654", headers={**auth(keys["editor"]), **h}), 404)
        assert en["detail"] == "no attachment 987654" and zh["detail"] == "附件 987654 不存在"


def test_an_unknown_crs_is_told_in_the_current_language() -> None:
    with i18n.use("zh"), pytest.raises(UnknownCRS) as zh:
        normalize_crs("mars2000")
    with pytest.raises(UnknownCRS) as en:
        normalize_crs("mars2000")
    assert str(zh.value).startswith("未知的坐标系 'mars2000'：请使用 wgs84, ")
    assert str(en.value).startswith("unknown CRS 'mars2000': use one of wgs84, ")
