"""Admin lists (protected names, forbidden terms, readings: list with ids, add, delete by id, each with its
effect on the rules) and the audit log (filters by time, person and table; JSON and formula-safe CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, line_in, make_keys


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def _propose(client: TestClient, url: str, key: str, name: str) -> httpx.Response:
    body = {
        "type": "Feature",
        "geometry": line_in(url, big_village(url)),
        "properties": {"name": name, "category": "road"},
    }
    return client.post("/v1/place-names", json=body, headers=auth(key))


def _ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def test_protected_names_listed_with_ids_and_removed_by_id(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, admin = fresh_client, auth(keys["admin"])
    pid, name = query(
        fresh_url,
        "SELECT id, name FROM place_names WHERE status = 'approved' AND category = 'road' "
        "ORDER BY id LIMIT 1",
    )[0]
    added = _ok(
        c.post("/v1/admin/protected-names", json={"name": name, "reason": "历史地名"}, headers=admin), 201
    )
    assert (
        isinstance(added["id"], int)
        and added["name"] == name
        and added["listed_on"] == dt.date.today().isoformat()
    )
    listed = _ok(c.get("/v1/admin/protected-names", headers=admin))["protected_names"]
    assert {"id": added["id"], "name": name, "reason": "历史地名"}.items() <= listed[-1].items()
    assert c.post("/v1/admin/protected-names", json={"name": name}, headers=admin).status_code == 409
    assert c.get(f"/v1/place-names/{pid}").json()["properties"]["protected"] is True
    bare = c.post(
        f"/v1/place-names/{pid}/rename", json={"name": "禾雀护名路"}, headers=auth(keys["surveyor"])
    )
    assert bare.status_code == 422 and bare.json()["errors"][0]["rule"] == "protected"

    removed = _ok(c.delete(f"/v1/admin/protected-names/{added['id']}", headers=admin))["deleted"]
    assert removed["name"] == name
    assert name not in [
        p["name"] for p in _ok(c.get("/v1/admin/protected-names", headers=admin))["protected_names"]
    ]
    assert (
        c.get(f"/v1/place-names/{pid}").json()["properties"]["protected"] is False
    )  # the cached answer moved
    free = c.post(
        f"/v1/place-names/{pid}/rename", json={"name": "禾雀护名路"}, headers=auth(keys["surveyor"])
    )
    assert free.status_code == 201, free.text
    gone = c.delete(f"/v1/admin/protected-names/{added['id']}", headers=admin)
    assert gone.status_code == 404 and str(added["id"]) in gone.json()["detail"]


def test_forbidden_terms_added_and_removed_change_the_rules(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, admin = fresh_client, auth(keys["admin"])
    seeded = _ok(c.get("/v1/admin/forbidden-terms", headers=admin))["forbidden_terms"]
    assert {"term": "星巴克", "kind": "company"}.items() <= next(
        t for t in seeded if t["term"] == "星巴克"
    ).items()
    assert all(isinstance(t["id"], int) for t in seeded)
    added = _ok(
        c.post("/v1/admin/forbidden-terms", json={"term": "喜茶", "kind": "company"}, headers=admin), 201
    )
    refused = _propose(c, fresh_url, keys["surveyor"], "喜茶路")
    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "forbidden"
    _ok(c.delete(f"/v1/admin/forbidden-terms/{added['id']}", headers=admin))
    assert _propose(c, fresh_url, keys["surveyor"], "喜茶路").status_code == 201


def test_readings_added_and_removed_change_romanisation(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, admin = fresh_client, auth(keys["admin"])
    added = _ok(
        c.post("/v1/admin/readings", json={"phrase": "乐丰", "reading": "yue feng"}, headers=admin), 201
    )
    assert {"phrase": "乐丰", "reading": "yue feng"}.items() <= added.items()
    readings = _ok(c.get("/v1/admin/readings", headers=admin))["readings"]
    assert [r["id"] for r in readings if r["phrase"] == "乐丰"] == [added["id"]]
    assert (
        _ok(_propose(c, fresh_url, keys["surveyor"], "乐丰大道"), 201)["properties"]["pinyin"]
        == "Yuefeng Dadao"
    )
    _ok(c.delete(f"/v1/admin/readings/{added['id']}", headers=admin))
    assert _ok(_propose(c, fresh_url, keys["surveyor"], "乐丰北大道"), 201)["properties"]["pinyin"] == (
        "Lefengbei Dadao"
    )


def test_admin_lists_are_for_admins(fresh_client: TestClient, keys: dict[str, str]) -> None:
    for path in (
        "/v1/admin/protected-names",
        "/v1/admin/forbidden-terms",
        "/v1/admin/readings",
        "/v1/admin/audit",
    ):
        assert fresh_client.get(path).status_code == 401
        assert fresh_client.get(path, headers=auth(keys["reviewer"])).status_code == 403
    for path in ("/v1/admin/protected-names/1", "/v1/admin/forbidden-terms/1", "/v1/admin/readings/1"):
        assert fresh_client.delete(path, headers=auth(keys["editor"])).status_code == 403
        assert fresh_client.delete(path.replace("/1", "/x"), headers=auth(keys["admin"])).status_code == 422


def test_audit_log_filters_by_time_person_and_table(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, admin = fresh_client, auth(keys["admin"])
    made = _ok(_propose(c, fresh_url, keys["surveyor"], "禾雀审计路"), 201)
    term = _ok(
        c.post("/v1/admin/forbidden-terms", json={"term": "喜茶", "kind": "company"}, headers=admin), 201
    )
    _ok(c.delete(f"/v1/admin/forbidden-terms/{term['id']}", headers=admin))

    names = _ok(c.get("/v1/admin/audit", params={"table": "place_names"}, headers=admin))["entries"]
    assert {e["table"] for e in names} == {"place_names"}
    assert {"action": "propose", "actor": "test-surveyor", "entity_id": str(made["id"])}.items() <= names[
        0
    ].items()
    terms = _ok(c.get("/v1/admin/audit", params={"table": "forbidden_terms"}, headers=admin))["entries"]
    assert [e["action"] for e in terms] == ["delete", "create"]  # newest first
    assert terms[0]["before"]["term"] == "喜茶" and terms[0]["after"] is None
    by_admin = _ok(c.get("/v1/admin/audit", params={"actor": "test-admin"}, headers=admin))["entries"]
    assert by_admin and {e["actor"] for e in by_admin} == {"test-admin"}
    now = query(fresh_url, "SELECT max(at) FROM audit_log")[0][0]
    later = (now + dt.timedelta(seconds=1)).isoformat()
    assert _ok(c.get("/v1/admin/audit", params={"since": later}, headers=admin))["entries"] == []
    today = _ok(c.get("/v1/admin/audit", params={"since": now.date().isoformat()}, headers=admin))["entries"]
    assert {e["id"] for e in names} <= {e["id"] for e in today}
    unknown = c.get("/v1/admin/audit", params={"table": "place_name; DROP TABLE x"}, headers=admin)
    assert unknown.status_code == 400 and "place_names" in unknown.json()["detail"]
    assert c.get("/v1/admin/audit", params={"since": "yesterday"}, headers=admin).status_code == 422


def test_audit_csv_is_formula_safe(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url, prefix="@SUM(1+1)")  # a name a spreadsheet would run as a formula
    admin = auth(keys["admin"])
    _ok(fresh_client.post("/v1/admin/protected-names", json={"name": '=HYPERLINK("x")'}, headers=admin), 201)
    resp = fresh_client.get(
        "/v1/admin/audit", params={"format": "csv", "table": "protected_names"}, headers=admin
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号 id", "时间 at", "操作人 actor"]
    assert rows[1][2] == "'@SUM(1+1)-admin" and rows[1][4] == "protected_names"
    assert '"=HYPERLINK' in rows[1][7]  # inside the JSON text, which starts with {


def test_a_signed_in_person_is_recorded_by_name(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    password = "correct horse battery"
    _ok(
        fresh_client.post(
            "/v1/admin/users",
            json={"name": "周测量", "role": "surveyor", "password": password},
            headers=auth(keys["admin"]),
        ),
        201,
    )
    csrf = _ok(fresh_client.post("/v1/session", json={"name": "周测量", "password": password}))["csrf_token"]
    body = {
        "type": "Feature",
        "geometry": line_in(fresh_url, big_village(fresh_url)),
        "properties": {"name": "禾雀会话路", "category": "road"},
    }
    made = _ok(fresh_client.post("/v1/place-names", json=body, headers={"X-CSRF-Token": csrf}), 201)
    fresh_client.cookies.clear()
    entries = _ok(
        fresh_client.get(
            "/v1/admin/audit", params={"table": "place_names", "actor": "周测量"}, headers=auth(keys["admin"])
        )
    )["entries"]
    assert [(e["action"], e["entity_id"]) for e in entries] == [("propose", str(made["id"]))]
