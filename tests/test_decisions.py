"""Decisions on proposals and what proposers do next, over HTTP against PostGIS: approve (with 批准文号), reject,
return with a comment; the proposer sees the decision, withdraws, or changes a returned proposal and resubmits
it (PUT, If-Match), checked again by every rule. District-limited callers act only in their district."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import sql as query
from tests.media_helpers import png
from tests.writes_helpers import auth, big_village, line_in, make_keys, point_in


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def feature(geometry: dict[str, Any], name: str, category: str = "road", **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"name": name, "category": category, **props},
    }


def propose(client: TestClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/v1/place-names", json=body, headers=auth(key))
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


def review(
    client: TestClient, key: str, pid: int, version: int, decision: str, **extra: Any
) -> httpx.Response:
    return client.post(
        f"/v1/place-names/{pid}/review",
        json={"decision": decision, **extra},
        headers={**auth(key), "If-Match": f'"{version}"'},
    )


def wkt(line: dict[str, Any]) -> str:
    return "LINESTRING (" + ", ".join(f"{x} {y}" for x, y in line["coordinates"]) + ")"


def put(client: TestClient, key: str, pid: int, body: dict[str, Any], version: int | None) -> httpx.Response:
    headers = {**auth(key), **({"If-Match": f'"{version}"'} if version is not None else {})}
    return client.put(f"/v1/place-names/{pid}", json=body, headers=headers)


def test_return_resubmit_approve_with_reference(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, surveyor, reviewer = fresh_client, keys["surveyor"], keys["reviewer"]
    line = line_in(fresh_url, big_village(fresh_url))
    pid = propose(c, surveyor, feature(line, "禾雀退回路", note="初稿"))["id"]

    without_comment = review(c, reviewer, pid, 1, "return")
    assert without_comment.status_code == 400 and "comment" in without_comment.json()["detail"]
    ref_on_return = review(c, reviewer, pid, 1, "return", comment="x", approval_ref="穗府地名〔2026〕1号")
    assert ref_on_return.status_code == 400 and "approval" in ref_on_return.json()["detail"]
    returned = review(c, reviewer, pid, 1, "return", comment="请补充命名由来")
    assert returned.status_code == 200, returned.text
    assert returned.json()["properties"]["status"] == "returned"

    seen = c.get(f"/v1/place-names/{pid}", headers=auth(surveyor)).json()["properties"]  # the proposer's view
    assert (seen["status"], seen["review_comment"], seen["reviewed_by"]) == (
        "returned",
        "请补充命名由来",
        "test-reviewer",
    )
    assert seen["decided_at"] is not None and seen["version"] == 2
    again = review(c, keys["admin"], pid, 2, "approve")
    assert again.status_code == 409 and "returned" in again.json()["detail"]  # waits for its proposer

    changed = feature(line, "禾雀归来路", origin="以禾雀岭命名", note="第二稿")
    assert put(c, surveyor, pid, changed, None).status_code == 428
    stale = put(c, surveyor, pid, changed, 1)
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    assert put(c, keys["editor"], pid, changed, 2).status_code == 403  # not its proposer
    weak = c.put(f"/v1/place-names/{pid}", json=changed, headers={**auth(surveyor), "If-Match": 'W/"2"'})
    assert weak.status_code == 412  # If-Match compares strongly
    resubmitted = put(c, surveyor, pid, changed, 2)
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.headers["ETag"] == '"3"'
    props = resubmitted.json()["properties"]
    assert (props["status"], props["name"], props["pinyin"], props["version"]) == (
        "proposed",
        "禾雀归来路",
        "Hequeguilai Lu",
        3,
    )
    assert props["origin"] == "以禾雀岭命名" and resubmitted.json()["id"] == pid
    assert put(c, surveyor, pid, changed, 3).status_code == 409  # pending again: nothing to resubmit

    ref = "穗府地名〔2026〕12号"
    approved = review(c, reviewer, pid, 3, "approve", comment="同意", approval_ref=ref)
    assert approved.status_code == 200, approved.text
    public = c.get(f"/v1/place-names/{pid}").json()["properties"]
    assert (public["status"], public["name"], public["approval_ref"]) == ("approved", "禾雀归来路", ref)
    actions = query(
        fresh_url,
        "SELECT action FROM audit_log WHERE entity = 'place_name' AND entity_id = :i ORDER BY id",
        i=str(pid),
    )
    assert [a for (a,) in actions] == ["propose", "return", "resubmit", "approve"]


def test_reject_shows_the_reason_to_the_proposer_only(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c = fresh_client
    pid = propose(c, keys["surveyor"], feature(line_in(fresh_url, big_village(fresh_url)), "禾雀驳回路"))[
        "id"
    ]
    assert review(c, keys["reviewer"], pid, 1, "reject", comment="与现有路名重复").status_code == 200
    mine = c.get("/v1/place-names", params={"mine": "true"}, headers=auth(keys["surveyor"])).json()[
        "features"
    ]
    assert [(f["id"], f["properties"]["status"], f["properties"]["review_comment"]) for f in mine] == [
        (pid, "rejected", "与现有路名重复")
    ]
    other = auth(make_keys(fresh_url, prefix="other")["surveyor"])
    assert "review_comment" not in c.get(f"/v1/place-names/{pid}", headers=other).json()["properties"]
    assert c.get(f"/v1/place-names/{pid}").status_code == 404
    assert review(c, keys["reviewer"], pid, 2, "return", comment="x").status_code == 409


def test_withdraw_frees_the_name(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    c, surveyor = fresh_client, keys["surveyor"]
    line = line_in(fresh_url, big_village(fresh_url))
    pid = propose(c, surveyor, feature(line, "禾雀撤回路"))["id"]
    taken = c.post("/v1/place-names", json=feature(line, "禾雀撤回路"), headers=auth(keys["editor"]))
    assert taken.status_code == 409 and taken.json()["conflicting_ids"] == [pid]
    assert c.post(f"/v1/place-names/{pid}/withdraw", headers=auth(keys["editor"])).status_code == 403
    stale = c.post(f"/v1/place-names/{pid}/withdraw", headers={**auth(surveyor), "If-Match": '"5"'})
    assert stale.status_code == 412
    malformed = c.post(f"/v1/place-names/{pid}/withdraw", headers={**auth(surveyor), "If-Match": "not a tag"})
    assert malformed.status_code == 400
    withdrawn = c.post(f"/v1/place-names/{pid}/withdraw", headers={**auth(surveyor), "If-Match": '"1"'})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.headers["ETag"] == '"2"'
    assert withdrawn.json()["properties"]["status"] == "withdrawn"
    assert c.post(f"/v1/place-names/{pid}/withdraw", headers=auth(surveyor)).status_code == 409
    assert review(c, keys["reviewer"], pid, 2, "approve").status_code == 409
    assert (
        c.post("/v1/place-names", json=feature(line, "禾雀撤回路"), headers=auth(keys["editor"])).status_code
        == 201
    )


def test_a_returned_proposal_can_be_withdrawn_and_holds_its_name_until_then(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, surveyor = fresh_client, keys["surveyor"]
    line = line_in(fresh_url, big_village(fresh_url))
    pid = propose(c, surveyor, feature(line, "禾雀待改路"))["id"]
    assert review(c, keys["reviewer"], pid, 1, "return", comment="线形不对").status_code == 200
    held = c.post("/v1/place-names", json=feature(line, "禾雀待改路"), headers=auth(keys["editor"]))
    assert held.status_code == 409  # a returned proposal still holds its name
    assert c.post(f"/v1/place-names/{pid}/withdraw", headers=auth(surveyor)).status_code == 200
    assert (
        c.post("/v1/place-names", json=feature(line, "禾雀待改路"), headers=auth(keys["editor"])).status_code
        == 201
    )


def test_a_resubmission_is_checked_again(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, surveyor = fresh_client, keys["surveyor"]
    line = line_in(fresh_url, big_village(fresh_url))
    pid = propose(c, surveyor, feature(line, "禾雀重审路"))["id"]
    assert review(c, keys["reviewer"], pid, 1, "return", comment="改名").status_code == 200
    bad = put(c, surveyor, pid, feature(line, "纽约大道"), 2)
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "forbidden"
    existing_id, existing = query(
        fresh_url,
        "SELECT id, name FROM place_names WHERE status = 'approved' AND "
        "category = 'road' ORDER BY id LIMIT 1",
    )[0]
    duplicate = put(c, surveyor, pid, feature(line, existing), 2)
    assert duplicate.status_code == 409 and duplicate.json()["conflicting_ids"] == [existing_id]
    same_name = put(c, surveyor, pid, feature(line, "禾雀重审路", origin="不改名，补由来"), 2)
    assert same_name.status_code == 200, same_name.text  # its own name is no conflict of itself
    incomplete = {"properties": {"name": "禾雀重审路"}}
    assert review(c, keys["reviewer"], pid, 3, "return", comment="再改").status_code == 200
    assert put(c, surveyor, pid, incomplete, 4).status_code == 400
    as_chinese = put(
        c, surveyor, pid, feature(point_in(fresh_url, big_village(fresh_url)), "禾雀重审村", "行政村"), 4
    )
    assert as_chinese.status_code == 200, as_chinese.text
    assert as_chinese.json()["properties"]["category"] == "village"
    assert query(fresh_url, "SELECT status, ST_GeometryType(geom) FROM place_names WHERE id = :i", i=pid) == [
        ("proposed", "ST_Point")
    ]


def test_a_returned_rename_is_resubmitted_with_its_new_name(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, surveyor = fresh_client, keys["surveyor"]
    place, old = query(
        fresh_url,
        "SELECT id, name FROM place_names WHERE status = 'approved' AND category = 'road' "
        "ORDER BY id LIMIT 1",
    )[0]
    rename = c.post(f"/v1/place-names/{place}/rename", json={"name": "禾雀更名路"}, headers=auth(surveyor))
    assert rename.status_code == 201, rename.text
    rid = rename.json()["id"]
    assert review(c, keys["reviewer"], rid, 1, "return", comment="名称欠妥").status_code == 200
    with_geometry = put(
        c, surveyor, rid, feature(line_in(fresh_url, big_village(fresh_url)), "禾雀新名路"), 2
    )
    assert with_geometry.status_code == 400 and "place's" in with_geometry.json()["detail"]
    changed = put(c, surveyor, rid, {"properties": {"name": "禾雀新名路", "note": "改了"}}, 2)
    assert changed.status_code == 200, changed.text
    assert (
        changed.json()["properties"]["rename_of"] == place
        and changed.json()["properties"]["status"] == "proposed"
    )
    approved = review(c, keys["reviewer"], rid, 3, "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["id"] == place and approved.json()["properties"]["name"] == "禾雀新名路"
    assert approved.json()["properties"]["history"][0]["name"] == old


def test_numbered_alleys_make_one_series_not_many_warnings(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c = fresh_client
    village = big_village(fresh_url)
    warnings = []
    for n in "一二三四五六七八九十":
        made = propose(c, keys["surveyor"], feature(line_in(fresh_url, village), f"罗仙{n}巷", "alley"))
        warnings += made["properties"]["warnings"]
    eleventh = propose(c, keys["surveyor"], feature(line_in(fresh_url, village), "罗仙十一巷", "alley"))
    assert warnings == [] and eleventh["properties"]["warnings"] == []
    assert eleventh["properties"]["pinyin"] == "Luoxian Shiyixiang"
    road = propose(
        c, keys["surveyor"], feature(line_in(fresh_url, village), "罗仙大道")
    )  # another place: warned
    assert [w["rule"] for w in road["properties"]["warnings"]] == ["specific_repeats"] * 11


def test_district_limited_surveyors_and_reviewers(fresh_client: TestClient, fresh_url: str) -> None:
    c = fresh_client
    admin = auth(make_keys(fresh_url, prefix="boss")["admin"])
    limited: dict[str, str] = {}
    for role in ("surveyor", "reviewer"):
        made = c.post(
            "/v1/admin/keys", json={"name": f"zc-{role}", "role": role, "district": "440118"}, headers=admin
        )
        assert made.status_code == 201, made.text
        limited[role] = made.json()["key"]
    others = make_keys(fresh_url)
    inside = line_in(fresh_url, big_village(fresh_url, "440118"))
    outside = line_in(fresh_url, big_village(fresh_url, "440117"))

    refused = c.post(
        "/v1/place-names", json=feature(outside, "禾雀越界路"), headers=auth(limited["surveyor"])
    )
    assert (
        refused.status_code == 403
        and "440118" in refused.json()["detail"]
        and "440117" in refused.json()["detail"]
    )
    home = propose(c, limited["surveyor"], feature(inside, "禾雀本区路"))
    assert home["properties"]["district_code"] == "440118"
    check = c.post(
        "/v1/place-names/check", json=feature(outside, "禾雀越界路"), headers=auth(limited["surveyor"])
    )
    assert check.status_code == 200 and [p["rule"] for p in check.json()["problems"]] == ["district"]

    csv = f'name,wkt\n禾雀批内路,"{wkt(inside)}"\n禾雀批外路,"{wkt(outside)}"\n'
    upload = c.post(
        "/v1/submissions",
        headers=auth(limited["surveyor"]),
        data={"crs": "wgs84", "category": "road"},
        files={"file": ("names.csv", csv.encode(), "text/csv")},
    )
    assert upload.status_code == 403, upload.text
    assert [(e["row"], e["name"], e["rule"]) for e in upload.json()["errors"]] == [
        (3, "禾雀批外路", "district")
    ]
    assert query(fresh_url, "SELECT count(*) FROM place_names WHERE name LIKE '禾雀批%'")[0][0] == 0

    theirs = propose(c, others["surveyor"], feature(outside, "禾雀外区路"))["id"]
    denied = review(c, limited["reviewer"], theirs, 1, "approve")
    assert denied.status_code == 403 and "440117" in denied.json()["detail"]
    assert review(c, limited["reviewer"], home["id"], 1, "approve").status_code == 200
    queue = c.get("/v1/place-names", params={"status": "proposed"}, headers=auth(limited["reviewer"]))
    assert theirs in [f["id"] for f in queue.json()["features"]]  # reads everything staff may read
    place = query(
        fresh_url,
        "SELECT id FROM place_names WHERE status = 'approved' AND district_code = '440117' "
        "AND category = 'road' ORDER BY id LIMIT 1",
    )[0][0]
    rename = c.post(
        f"/v1/place-names/{place}/rename", json={"name": "禾雀外改路"}, headers=auth(limited["surveyor"])
    )
    assert rename.status_code == 403


def test_a_resubmission_takes_attachments_and_leaves_the_old_decision_to_the_history(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, surveyor, reviewer = fresh_client, keys["surveyor"], keys["reviewer"]
    line = line_in(fresh_url, big_village(fresh_url))
    photos = []
    for seed in (1, 2):
        made = c.post(
            "/v1/attachments",
            files={"file": (f"p{seed}.png", png(seed=seed), "image/png")},
            headers=auth(surveyor),
        )
        assert made.status_code == 201, made.text
        photos.append(made.json()["id"])
    body = {**feature(line, "禾雀附件路"), "attachment_ids": [photos[0]]}
    pid = propose(c, surveyor, body)["id"]
    assert review(c, reviewer, pid, 1, "return", comment="请补现场照片").status_code == 200

    again = put(c, surveyor, pid, {**feature(line, "禾雀附件路"), "attachment_ids": photos}, 2)
    assert again.status_code == 200, again.text
    props = again.json()["properties"]
    assert props["attachment_ids"] == photos  # the new photo added, the first kept once
    assert (props["status"], props["review_comment"], props["reviewed_by"], props["decided_at"]) == (
        "proposed",
        None,
        None,
        None,
    )  # pending again: the comment that returned it is not its current decision
    assert review(c, reviewer, pid, 3, "return", comment="照片不清").status_code == 200
    unknown = put(c, surveyor, pid, {**feature(line, "禾雀附件路"), "attachment_ids": [999999]}, 4)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["rule"] == "attachment_ids"
    assert query(fresh_url, "SELECT status, version FROM place_names WHERE id = :i", i=pid) == [
        ("returned", 4)
    ]
    history = query(
        fresh_url,
        "SELECT action, before, after FROM audit_log WHERE entity = 'place_name' AND entity_id = :i ORDER BY id",
        i=str(pid),
    )
    assert [h[0] for h in history] == ["propose", "return", "resubmit", "return"]
    assert history[1][2]["comment"] == "请补现场照片"
    assert (
        history[2][1]["review_comment"] == "请补现场照片" and history[2][1]["reviewed_by"] == "test-reviewer"
    )


def test_specific_parts_repeat_only_among_places_of_one_kind(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, surveyor = fresh_client, keys["surveyor"]
    village = big_village(fresh_url)
    road = propose(c, surveyor, feature(line_in(fresh_url, village), "罗仙路"))
    bridge = propose(c, surveyor, feature(line_in(fresh_url, village, 0.001), "罗仙桥", "bridge"))
    hamlet = propose(c, surveyor, feature(point_in(fresh_url, village), "罗仙村", "village"))
    assert road["properties"]["warnings"] == bridge["properties"]["warnings"] == []  # a road and its bridge
    assert hamlet["properties"]["warnings"] == []
    street = propose(c, surveyor, feature(line_in(fresh_url, village, 0.004), "罗仙街", "street"))
    assert [(w["rule"], w["message"]) for w in street["properties"]["warnings"]] == [
        ("specific_repeats", f"the specific part '罗仙' is used by '罗仙路' (id {road['id']})")
    ]  # a road and a street are both streets: their specific parts may not repeat
