"""Statuses named inside a Chinese message are the workbench's words (待审核, 未批准 …), never the code; English
keeps the code (issue #14)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, line_in, make_keys

ZH = {"Accept-Language": "zh"}


def test_statuses_in_messages_are_words_in_chinese(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    body = {
        "type": "Feature",
        "geometry": line_in(fresh_url, big_village(fresh_url)),
        "properties": {"name": "禾雀北路", "category": "road"},
    }
    made = fresh_client.post("/v1/place-names", json=body, headers=auth(keys["surveyor"]))
    assert made.status_code == 201, made.text
    pid = made.json()["id"]

    listed = fresh_client.get("/v1/place-names?status=proposed", headers=ZH)
    assert listed.status_code == 401
    assert listed.json()["detail"] == "只有已批准的地名是公开的：查看待审核状态的地名需要登录或 API 密钥"

    sign = {"place_name_id": pid, "position": {"type": "Point", "coordinates": [113.3, 23.1]}}
    sign.update(text="禾雀北路", pinyin="Heque Beilu", installed_on="2024-01-02")
    refused = fresh_client.post("/v1/place-name-signs", json=sign, headers={**auth(keys["surveyor"]), **ZH})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (f"地名 {pid} 的状态为待审核：只有已批准的标准名称才能设立地名标志")

    query(fresh_url, "UPDATE place_names SET status = 'rejected' WHERE id = :id", id=pid)
    url = f"/v1/place-names/{pid}/withdraw"
    zh = fresh_client.post(url, headers={**auth(keys["surveyor"]), **ZH})
    en = fresh_client.post(url, headers=auth(keys["surveyor"]))
    assert zh.status_code == en.status_code == 409
    assert zh.json()["detail"] == f"地名 {pid} 的状态为未批准：只有待审核或退回修改的申报可以撤回"
    assert en.json()["detail"] == (
        f"place name {pid} is rejected: only a proposed or returned proposal can be withdrawn"
    )

    review = {"decision": "approve", "comment": "符合规范"}
    headers = {**auth(keys["reviewer"]), "If-Match": "*", **ZH}
    decided = fresh_client.post(f"/v1/place-names/{pid}/review", json=review, headers=headers)
    assert decided.status_code == 409, decided.text
    assert decided.json()["detail"] == f"地名 {pid} 已有决定：状态为未批准"
