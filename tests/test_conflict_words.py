"""Refusals that say which thing is wrong, in the reader's language (issue #14): a facility type whose code or
collection id is taken, a what-if closing a facility that is not one of the type (named in Chinese)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.writes_helpers import auth, make_keys

ZH = {"Accept-Language": "zh"}


def test_a_taken_facility_type_code_or_collection_is_named(fresh_client: TestClient, fresh_url: str) -> None:
    admin = auth(make_keys(fresh_url)["admin"])
    body = {
        "code": "elderly_canteen",
        "collection": "day-care-centres",
        "name_zh": "日间照料中心",
        "name_en": "Day care centre",
        "default_radius_m": 1500,
    }
    en = fresh_client.post("/v1/admin/facility-types", json=body, headers=admin)
    zh = fresh_client.post("/v1/admin/facility-types", json=body, headers={**admin, **ZH})
    assert en.status_code == zh.status_code == 409
    assert en.json()["detail"] == "facility type 'elderly_canteen' exists already"
    assert zh.json()["detail"] == "设施类型 'elderly_canteen' 已存在"
    body["code"], body["collection"] = "day_care_centre", "elderly-canteens"
    en = fresh_client.post("/v1/admin/facility-types", json=body, headers=admin)
    zh = fresh_client.post("/v1/admin/facility-types", json=body, headers={**admin, **ZH})
    assert en.status_code == zh.status_code == 409
    assert en.json()["detail"] == "collection 'elderly-canteens' is the collection of another facility type"
    assert zh.json()["detail"] == "数据集 'elderly-canteens' 已被另一设施类型使用"
    body["collection"] = "day-care-centres"
    assert fresh_client.post("/v1/admin/facility-types", json=body, headers=admin).status_code == 201
