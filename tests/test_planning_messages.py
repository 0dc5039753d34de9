"""Planning messages in the reader's language: Chinese with ``Accept-Language: zh``, English without; the
machine-readable parts (``rule``, ``index``, ``row``) unchanged. The candidate file is read in an upload worker
process, which is told the language."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.writes_helpers import auth, make_keys

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_a_what_if_closing_an_unknown_facility_is_refused_in_the_readers_language(client: TestClient) -> None:
    body = {"type": "elderly_canteen", "within": "440106", "remove": [9_000_000_000]}
    en = client.post("/v1/coverage/scenario", json=body)
    zh = client.post("/v1/coverage/scenario", json=body, headers=ZH)
    assert en.status_code == zh.status_code == 400
    assert en.json()["detail"] == "remove: 9000000000 is not an active elderly_canteen facility"
    assert zh.json()["detail"] == "remove：9000000000 不是在用的长者饭堂"


def test_a_grid_too_fine_is_refused_in_the_readers_language(client: TestClient) -> None:
    params = {"type": "elderly_canteen", "candidates": "grid", "grid_m": 100}
    en = client.get("/v1/coverage/siting", params=params)
    zh = client.get("/v1/coverage/siting", params=params, headers=ZH)
    assert en.status_code == zh.status_code == 400
    assert en.json()["detail"].startswith("a grid of 100 m over this area is too fine")
    assert zh.json()["detail"] == "在该范围内按 100 米划分网格过密：请加大 grid_m，或缩小 within 范围"


def test_candidate_file_errors_come_from_the_worker_in_the_readers_language(
    fresh_client: TestClient, fresh_url: str
) -> None:
    key = auth(make_keys(fresh_url)["surveyor"])
    wkt = 'wkt,name\n"POLYGON((113.3 23.1,113.31 23.1,113.31 23.11,113.3 23.1))",甲\n'
    upload = {"file": ("sites.csv", wkt.encode(), "text/csv")}
    zh = fresh_client.post(
        "/v1/coverage/candidates", headers={**key, **ZH}, data={"crs": "wgs84"}, files=upload
    )
    en = fresh_client.post("/v1/coverage/candidates", headers=key, data={"crs": "wgs84"}, files=upload)
    assert zh.status_code == en.status_code == 422, zh.text
    assert zh.json()["detail"] == "sites.csv：有 1 行不能作为候选点"
    assert en.json()["detail"] == "sites.csv: 1 row(s) are not usable candidate sites"
    (zh_error,), (en_error,) = zh.json()["errors"], en.json()["errors"]
    assert (
        zh_error["message"] == "第 2 行：是面，不是点"
        and en_error["message"] == "row 2: a Polygon, not a point"
    )
    assert {k: v for k, v in zh_error.items() if k != "message"} == {
        k: v for k, v in en_error.items() if k != "message"
    }
