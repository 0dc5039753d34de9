"""Proposals, renames and reviews through the API: rules (422), duplicates (409), versions (412), history."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from geo_service.domain.crs import geometry_from_wgs84
from tests.conftest import LiveServer
from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, counts, line_in, make_keys, point_in


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def propose(
    client: TestClient, key: str, name: str, category: str, geometry: dict[str, Any], **extra: Any
) -> httpx.Response:
    body = {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"name": name, "category": category, **extra},
    }
    return client.post("/v1/place-names", json=body, headers=auth(key))


def test_a_valid_proposal(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    village = big_village(fresh_url)
    resp = propose(
        fresh_client, keys["surveyor"], "禾雀北路", "road", line_in(fresh_url, village), origin="以禾雀岭命名"
    )
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith("application/geo+json")
    feat = resp.json()
    props = feat["properties"]
    assert props["status"] == "proposed" and props["version"] == 1
    assert props["pinyin"] == "Heque Beilu"
    assert props["division_code"] == village and props["district_code"] == village[:6]
    assert props["warnings"] == [] and props["proposed_by"] == "test-surveyor"
    assert isinstance(feat["id"], int)
    mine = fresh_client.get(f"/v1/place-names/{feat['id']}", headers=auth(keys["surveyor"]))
    assert (
        mine.json()["properties"]["name"] == "禾雀北路"
        and mine.json()["properties"]["origin"] == "以禾雀岭命名"
    )
    assert fresh_client.get(f"/v1/place-names/{feat['id']}").status_code == 404  # not public until approved


@pytest.mark.parametrize(
    ("name", "category", "rule"),
    [
        ("Hequ路", "road", "characters"),
        ("禾雀路", "alley", "structure"),
        ("纽约大道", "road", "forbidden"),
        ("廣雀路", "road", "characters"),
        ("禾雀", "road", "structure"),
    ],
)
def test_rule_violations_are_422(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str], name: str, category: str, rule: str
) -> None:
    before = counts(fresh_url)
    resp = propose(fresh_client, keys["surveyor"], name, category, line_in(fresh_url, big_village(fresh_url)))
    assert resp.status_code == 422, resp.text
    assert rule in [e["rule"] for e in resp.json()["errors"]]
    assert counts(fresh_url) == before


def test_geometry_rules(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    village = big_village(fresh_url)
    point = propose(fresh_client, keys["surveyor"], "禾雀南路", "road", point_in(fresh_url, village))
    assert point.status_code == 422 and "line" in point.json()["errors"][0]["message"]
    beijing = {"type": "LineString", "coordinates": [[116.39, 39.90], [116.40, 39.90]]}
    outside = propose(fresh_client, keys["surveyor"], "禾雀南路", "road", beijing)
    assert outside.status_code == 422 and "outside the region" in outside.json()["errors"][0]["message"]
    wrong_division = propose(
        fresh_client,
        keys["surveyor"],
        "禾雀南路",
        "road",
        line_in(fresh_url, village),
        division_code="440103",
    )
    assert wrong_division.status_code == 422 and "outside the declared division" in wrong_division.text
    bad = fresh_client.post(
        "/v1/place-names",
        headers=auth(keys["surveyor"]),
        json={
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[1]]},
            "properties": {"name": "禾雀南路", "category": "road"},
        },
    )
    assert bad.status_code == 400 and "malformed" in bad.json()["detail"]


def test_gcj02_input_lands_in_the_same_village(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    import shapely

    village = big_village(fresh_url)
    line = line_in(fresh_url, village)
    gcj = shapely.geometry.mapping(geometry_from_wgs84(shapely.geometry.shape(line), "gcj02"))
    body = {
        "type": "Feature",
        "geometry": gcj,
        "crs": "gcj02",
        "properties": {"name": "禾雀东路", "category": "road"},
    }
    resp = fresh_client.post("/v1/place-names", json=body, headers=auth(keys["surveyor"]))
    assert resp.status_code == 201, resp.text
    assert resp.json()["properties"]["division_code"] == village


def test_duplicates_and_homophones_are_409(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    existing_id, existing = query(
        fresh_url,
        "SELECT id, name FROM place_names WHERE status = 'approved' AND "
        "category = 'road' ORDER BY id LIMIT 1",
    )[0]
    line = line_in(fresh_url, big_village(fresh_url, "440117"))
    same = propose(fresh_client, keys["surveyor"], existing, "road", line)
    assert same.status_code == 409 and same.json()["conflicting_ids"] == [existing_id]
    first = propose(fresh_client, keys["surveyor"], "天河北大道", "road", line)
    assert first.status_code == 201
    homophone = propose(fresh_client, keys["surveyor"], "天和北大道", "road", line)  # tianhe = tianhe
    assert homophone.status_code == 409 and homophone.json()["conflicting_ids"] == [first.json()["id"]]
    near = propose(fresh_client, keys["surveyor"], "天荷北大道", "road", line)  # tianhe too: a conflict
    assert near.status_code == 409
    cantonese = propose(fresh_client, keys["surveyor"], "新桥大道", "road", line)
    assert cantonese.status_code == 201
    close = propose(fresh_client, keys["surveyor"], "星桥大道", "road", line)  # xing / xin: a warning only
    assert close.status_code == 201
    assert [w["rule"] for w in close.json()["properties"]["warnings"]] == ["near_homophone"]


def test_village_names_are_unique_per_district(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    a = propose(
        fresh_client,
        keys["surveyor"],
        "禾雀村",
        "village",
        point_in(fresh_url, big_village(fresh_url, "440118")),
    )
    b = propose(
        fresh_client,
        keys["surveyor"],
        "禾雀村",
        "village",
        point_in(fresh_url, big_village(fresh_url, "440117")),
    )
    c = propose(
        fresh_client,
        keys["surveyor"],
        "禾雀村",
        "village",
        point_in(fresh_url, big_village(fresh_url, "440118")),
    )
    assert (a.status_code, b.status_code, c.status_code) == (201, 201, 409)


def _proposal(client: TestClient, url: str, keys: dict[str, str], name: str = "禾雀西路") -> dict[str, Any]:
    resp = propose(client, keys["surveyor"], name, "road", line_in(url, big_village(url)))
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_review_with_versions(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    feat = _proposal(fresh_client, fresh_url, keys)
    url = f"/v1/place-names/{feat['id']}/review"
    body = {"decision": "approve", "comment": "符合规范"}
    assert fresh_client.post(url, json=body, headers=auth(keys["surveyor"])).status_code == 403
    assert fresh_client.post(url, json=body, headers=auth(keys["reviewer"])).status_code == 428
    stale = fresh_client.post(url, json=body, headers={**auth(keys["reviewer"]), "If-Match": '"7"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 1
    ok = fresh_client.post(url, json=body, headers={**auth(keys["reviewer"]), "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    props = ok.json()["properties"]
    assert props["status"] == "approved" and props["version"] == 2 and props["reviewed_by"] == "test-reviewer"
    again = fresh_client.post(url, json=body, headers={**auth(keys["reviewer"]), "If-Match": "2"})
    assert again.status_code == 409 and "already decided" in again.json()["detail"]
    assert (
        query(fresh_url, "SELECT count(*) FROM audit_log WHERE entity = 'place_name' AND action = 'approve'")[
            0
        ][0]
        == 1
    )


def test_two_reviewers_at_the_same_moment(fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    with LiveServer(fresh_url) as server, httpx.Client(base_url=server.base) as http:
        line = line_in(fresh_url, big_village(fresh_url))
        body = {"type": "Feature", "geometry": line, "properties": {"name": "禾雀中路", "category": "road"}}
        pid = http.post("/v1/place-names", json=body, headers=auth(keys["surveyor"])).json()["id"]

        async def decide(decision: str) -> int:
            async with httpx.AsyncClient(base_url=server.base) as client:
                resp = await client.post(
                    f"/v1/place-names/{pid}/review",
                    json={"decision": decision},
                    headers={**auth(keys["reviewer"]), "If-Match": "1"},
                )
                return resp.status_code

        async def race() -> list[int]:
            return list(await asyncio.gather(*(decide(d) for d in ["approve", "reject"] * 4)))

        statuses = asyncio.run(race())
    assert statuses.count(200) == 1, statuses
    assert all(s in (409, 412) for s in statuses if s != 200)
    status, version = query(fresh_url, "SELECT status, version FROM place_names WHERE id = :i", i=pid)[0]
    assert status in ("approved", "rejected") and version == 2
    assert (
        query(
            fresh_url,
            "SELECT count(*) FROM audit_log WHERE entity = 'place_name' AND entity_id = :i "
            "AND action IN ('approve', 'reject')",
            i=str(pid),
        )[0][0]
        == 1
    )


def _approve(client: TestClient, keys: dict[str, str], pid: int, version: int) -> httpx.Response:
    return client.post(
        f"/v1/place-names/{pid}/review",
        json={"decision": "approve"},
        headers={**auth(keys["reviewer"]), "If-Match": str(version)},
    )


def test_rename_moves_the_old_name_into_history_and_flags_signs(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    pid, old, pinyin = query(
        fresh_url,
        "SELECT id, name, pinyin FROM place_names WHERE status = 'approved' "
        "AND category = 'road' ORDER BY id LIMIT 1",
    )[0]
    x, y = query(
        fresh_url,
        "SELECT ST_X(ST_StartPoint(geom)), ST_Y(ST_StartPoint(geom)) FROM place_names WHERE id = :i",
        i=pid,
    )[0]
    sign = fresh_client.post(
        "/v1/place-name-signs",
        headers=auth(keys["surveyor"]),
        json={
            "place_name_id": pid,
            "position": {"type": "Point", "coordinates": [x, y]},
            "installed_on": "2024-03-01",
            "text": old,
            "pinyin": pinyin.upper(),
        },
    )
    assert sign.status_code == 201, sign.text
    before = fresh_client.get("/v1/place-names", params={"q": "禾雀新路"}).json()["features"]
    assert "禾雀新路" not in [f["properties"]["name"] for f in before]  # and this answer is now cached
    rename = fresh_client.post(
        f"/v1/place-names/{pid}/rename", json={"name": "禾雀新路"}, headers=auth(keys["surveyor"])
    )
    assert rename.status_code == 201, rename.text
    proposal = rename.json()
    assert proposal["properties"]["rename_of"] == pid and proposal["properties"]["status"] == "proposed"
    approved = _approve(fresh_client, keys, proposal["id"], 1)
    assert approved.status_code == 200, approved.text
    renamed = approved.json()
    assert renamed["id"] == pid  # the place keeps its id
    assert renamed["properties"]["name"] == "禾雀新路" and renamed["properties"]["pinyin"] == "Hequexin Lu"
    assert renamed["properties"]["history"][0]["name"] == old
    assert renamed["properties"]["history"][0]["valid_to"] is not None
    assert [
        f["properties"]["text"]
        for f in fresh_client.get("/v1/place-name-signs?to_replace=true").json()["features"]
    ] == [old]
    names = [
        f["properties"]["name"]
        for f in fresh_client.get("/v1/place-names", params={"q": "禾雀新路"}).json()["features"]
    ]
    assert names.count("禾雀新路") == 1  # the applied proposal does not show twice


def test_renaming_a_protected_name_needs_a_justification(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    pid, name = query(
        fresh_url, "SELECT id, name FROM place_names WHERE status = 'approved' ORDER BY id LIMIT 1"
    )[0]
    added = fresh_client.post(
        "/v1/admin/protected-names", json={"name": name, "reason": "历史地名"}, headers=auth(keys["admin"])
    )
    assert added.status_code == 201
    bare = fresh_client.post(
        f"/v1/place-names/{pid}/rename", json={"name": "禾雀旧路"}, headers=auth(keys["surveyor"])
    )
    assert bare.status_code == 422 and bare.json()["errors"][0]["rule"] == "protected"
    justified = fresh_client.post(
        f"/v1/place-names/{pid}/rename",
        headers=auth(keys["surveyor"]),
        json={"name": "禾雀旧路", "justification": "道路拓宽改线，原名移至新址"},
    )
    assert justified.status_code == 201
    assert "protected" in [w["rule"] for w in justified.json()["properties"]["warnings"]]


def test_admin_readings_change_romanisation(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    reading = fresh_client.post(
        "/v1/admin/readings", json={"phrase": "乐丰", "reading": "yue feng"}, headers=auth(keys["admin"])
    )
    assert reading.status_code == 201
    bad = fresh_client.post(
        "/v1/admin/readings", json={"phrase": "乐丰", "reading": "yue"}, headers=auth(keys["admin"])
    )
    assert bad.status_code == 400
    feat = propose(
        fresh_client, keys["surveyor"], "乐丰大道", "road", line_in(fresh_url, big_village(fresh_url))
    )
    assert feat.json()["properties"]["pinyin"] == "Yuefeng Dadao"
