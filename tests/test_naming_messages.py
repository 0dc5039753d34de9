"""Naming rules, uploads and proposals speak the reader's language (issue #14), and the region's local characters
are a list admins keep (issue #18): over HTTP against PostGIS."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, line_in, make_keys

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def check(client: TestClient, key: str, name: str, geometry: Any, lang: dict[str, str] | None = None) -> Any:
    resp = client.post(
        "/v1/place-names/check",
        json={"type": "Feature", "geometry": geometry, "properties": {"name": name, "category": "road"}},
        headers={**auth(key), **(lang or {})},
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def propose(client: TestClient, key: str, name: str, geometry: Any, category: str = "road") -> Any:
    body = {"type": "Feature", "geometry": geometry, "properties": {"name": name, "category": category}}
    resp = client.post("/v1/place-names", json=body, headers=auth(key))
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_the_check_names_its_problems_in_chinese(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, key = fresh_client, keys["surveyor"]
    line = line_in(fresh_url, big_village(fresh_url))
    zh = check(c, key, "Tianhe巷", line, ZH)
    en = check(c, key, "Tianhe巷", line)
    assert (
        [p["rule"] for p in zh["problems"]]
        == [p["rule"] for p in en["problems"]]
        == ["characters", "structure"]
    )
    assert [p["message"] for p in zh["problems"]] == [
        "标准名称中不得使用拉丁字母或外文",
        "通名 '巷' 与类别 '道路' 不符（道路名称以公路、大道、大马路、路、马路结尾）",
    ]
    assert [p["message"] for p in en["problems"]] == [
        "Latin letters or foreign words are not allowed in a standard name",
        "the generic term '巷' does not fit the category 'road' (a road ends in 公路、大道、大马路、路、马路)",
    ]
    no_geometry = c.post(
        "/v1/place-names/check",
        json={"type": "Feature", "geometry": None, "properties": {"name": "禾雀路"}},
        headers={**auth(key), **ZH},
    ).json()
    assert no_geometry["problems"] == [
        {"rule": "category", "message": "请选择类别"},
        {"rule": "geometry", "message": "尚无几何图形：请画线或点选位置"},
    ]


def test_a_dry_run_upload_answers_in_chinese_from_its_worker_process(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, key = fresh_client, keys["surveyor"]
    a, b = line_in(fresh_url, big_village(fresh_url)), line_in(fresh_url, big_village(fresh_url), 0.004)
    rows = [("禾雀东路", a), ("Main路", b)]
    csv = "name,wkt\n" + "".join(
        f'{name},"LINESTRING ({", ".join(f"{x} {y}" for x, y in g["coordinates"])})"\n' for name, g in rows
    )

    def upload(lang: dict[str, str]) -> Any:
        return c.post(
            "/v1/submissions",
            files={"file": ("streets.csv", csv.encode())},
            data={"crs": "wgs84", "category": "道路", "dry_run": "true"},
            headers={**auth(key), **lang},
        )

    zh, en = upload(ZH), upload({})
    assert zh.status_code == en.status_code == 422, zh.text
    assert zh.json()["detail"] == "2 个要素中有 1 个不符合规则；未写入任何内容"
    assert en.json()["detail"] == "1 of 2 feature(s) break the rules; nothing was written"
    # The rule's message is worded in the worker process, which was told the request's language.
    assert zh.json()["errors"] == [
        {
            "index": 1,
            "row": 3,
            "name": "Main路",
            "rule": "characters",
            "message": "标准名称中不得使用拉丁字母或外文",
        }
    ]
    assert (
        en.json()["errors"][0]["message"]
        == "Latin letters or foreign words are not allowed in a standard name"
    )
    unreadable = c.post(
        "/v1/submissions",
        files={"file": ("streets.csv", b"name\n\xe7\xa6\xbe\n")},
        data={"crs": "wgs84", "category": "road", "dry_run": "true"},
        headers={**auth(key), **ZH},
    )
    assert unreadable.status_code == 400
    assert unreadable.json()["detail"] == "streets.csv：CSV 需要 'lon' 和 'lat'（经度、纬度）列，或 'wkt' 列"


def test_stored_warnings_are_read_back_in_the_readers_language(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, surveyor, reviewer = fresh_client, keys["surveyor"], keys["reviewer"]
    village = big_village(fresh_url)
    first = propose(c, surveyor, "罗仙路", line_in(fresh_url, village))
    second = propose(c, surveyor, "罗仙大道", line_in(fresh_url, village, 0.004))  # proposed in English
    en = [
        {
            "rule": "specific_repeats",
            "message": f"the specific part '罗仙' is used by '罗仙路' (id {first['id']})",
        }
    ]
    zh = [{"rule": "specific_repeats", "message": f"专名 '罗仙' 已被 '罗仙路'（编号 {first['id']}）使用"}]
    assert second["properties"]["warnings"] == en
    stored = query(fresh_url, "SELECT warnings FROM place_names WHERE id = :i", i=second["id"])[0][0]
    assert stored == [{**en[0], "values": {"specific": "罗仙", "name": "罗仙路", "id": first["id"]}}]

    def warnings_of(path: str, params: dict[str, Any], key: str, lang: dict[str, str]) -> Any:
        resp = c.get(path, params=params, headers={**auth(key), **lang})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        found = body.get("features", [body])
        return next(f["properties"]["warnings"] for f in found if f["id"] == second["id"])

    one = f"/v1/place-names/{second['id']}"
    queue = ("/v1/place-names", {"status": "proposed"}, reviewer)
    mine = ("/v1/place-names", {"mine": "true"}, surveyor)
    ogc = ("/collections/place-name-proposals/items", {}, reviewer)
    for path, params, key in [(one, {}, surveyor), queue, mine, ogc]:
        assert warnings_of(path, params, key, ZH) == zh, path
        assert warnings_of(path, params, key, {}) == en, path  # answers kept per language, not shared
    assert warnings_of(f"/collections/place-name-proposals/items/{second['id']}", {}, reviewer, ZH) == zh

    # A row stored before warnings kept their values is shown as it was written.
    query(
        fresh_url,
        """UPDATE place_names SET warnings = '[{"rule": "near_homophone", "message": "old words"}]',
           version = version + 1 WHERE id = :i""",
        i=second["id"],
    )
    assert warnings_of(one, {}, surveyor, ZH) == [{"rule": "near_homophone", "message": "old words"}]


def test_local_characters_are_a_list_admins_keep(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, admin = fresh_client, auth(keys["admin"])
    line = line_in(fresh_url, big_village(fresh_url))
    listed = c.get("/v1/admin/local-characters", headers=admin)
    assert listed.status_code == 200, listed.text
    assert {"滘", "塱", "涌"} <= {e["character"] for e in listed.json()["local_characters"]}  # seeded (0013)
    assert check(c, keys["surveyor"], "厦滘路", line)["ok"] is True

    def rules_of(name: str) -> list[str]:
        return [p["rule"] for p in check(c, keys["surveyor"], name, line)["problems"]]

    assert rules_of("堃山路") == ["characters"]  # outside GB2312, not (yet) the region's
    added = c.post("/v1/admin/local-characters", json={"character": "堃", "note": "本地常用"}, headers=admin)
    assert added.status_code == 201, added.text
    assert rules_of("堃山路") == []
    assert c.post("/v1/admin/local-characters", json={"character": "堃"}, headers=admin).status_code == 409
    not_han = c.post("/v1/admin/local-characters", json={"character": "x"}, headers={**admin, **ZH})
    assert not_han.status_code == 400 and not_han.json()["detail"] == "地方用字应为一个汉字，而不是 'x'"
    assert (
        c.post(
            "/v1/admin/local-characters", json={"character": "堃"}, headers=auth(keys["editor"])
        ).status_code
        == 403
    )
    gone = c.delete(f"/v1/admin/local-characters/{added.json()['id']}", headers=admin)
    assert gone.status_code == 200, gone.text
    assert rules_of("堃山路") == ["characters"]
