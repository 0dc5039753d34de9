"""People: accounts made by the CLI or an admin, sign-in with Argon2 passwords, session cookies with CSRF
tokens, slowed and refused repeated failures, HTTP Basic for GIS clients, one namespace with keys."""

from __future__ import annotations

import base64
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geo_service.cli.main import app as cli
from tests.conftest import sql as query
from tests.writes_helpers import auth, line_in, make_keys

PASSWORD = "correct horse battery"


def village_line(url: str) -> dict[str, object]:
    code = query(url, "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440118%' LIMIT 1")[
        0
    ][0]
    return line_in(url, code)


def proposal(url: str, name: str) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": village_line(url),
        "properties": {"name": name, "category": "road"},
    }


def create_user(client: TestClient, admin_key: str, name: str, role: str, **extra: str) -> None:
    resp = client.post(
        "/v1/admin/users",
        json={"name": name, "role": role, "password": PASSWORD, **extra},
        headers=auth(admin_key),
    )
    assert resp.status_code == 201, resp.text


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> object:
    return client.post("/v1/session", json={"name": name, "password": password})


def test_cli_creates_lists_and_disables_accounts(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEO_DATABASE_URL", fresh_url)
    runner = CliRunner()
    result = runner.invoke(
        cli, ["users", "create", "王工", "--role", "reviewer", "--district", "440118"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    row = query(fresh_url, "SELECT role, district_code, password_hash FROM users WHERE name = '王工'")[0]
    assert row[:2] == ("reviewer", "440118")
    assert row[2].startswith("$argon2id$") and PASSWORD not in row[2]
    result = runner.invoke(cli, ["users", "create", "李工", "--role", "surveyor"], input="short\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    result = runner.invoke(cli, ["users", "create", "王工", "--role", "surveyor"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "taken" in result.output
    result = runner.invoke(cli, ["users", "list"])
    assert result.exit_code == 0 and "王工" in result.output and "440118" in result.output
    assert runner.invoke(cli, ["users", "disable", "王工"]).exit_code == 0
    assert query(fresh_url, "SELECT disabled_at IS NOT NULL FROM users WHERE name = '王工'")[0][0] is True


def test_sign_in_sets_safe_cookies_and_writes_need_the_csrf_token(
    fresh_client: TestClient, fresh_url: str
) -> None:
    keys = make_keys(fresh_url)
    create_user(fresh_client, keys["admin"], "张测量", "surveyor")
    resp = sign_in(fresh_client, "张测量")
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "张测量" and resp.json()["role"] == "surveyor"
    cookies = resp.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("geo_session="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie and "Path=/" in session_cookie
    csrf_cookie = next(c for c in cookies if c.startswith("csrf_token="))
    assert "HttpOnly" not in csrf_cookie
    csrf = resp.json()["csrf_token"]
    assert fresh_client.get("/v1/session").json()["name"] == "张测量"

    body = proposal(fresh_url, "鹤鸣路")
    refused = fresh_client.post("/v1/place-names", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = fresh_client.post("/v1/place-names", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    made = fresh_client.post("/v1/place-names", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    assert (
        query(fresh_url, "SELECT proposed_by FROM place_names WHERE id = :i", i=made.json()["id"])[0][0]
        == "张测量"
    )
    assert (
        fresh_client.post(
            "/v1/admin/readings", json={"phrase": "花都", "reading": "hua du"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )  # a surveyor, not an admin

    out = fresh_client.delete("/v1/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert fresh_client.get("/v1/session").status_code == 401
    again = fresh_client.post(
        "/v1/place-names", json=proposal(fresh_url, "松涛路"), headers={"X-CSRF-Token": csrf}
    )
    assert again.status_code == 401


def test_failed_sign_ins_are_slowed_refused_and_logged(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    create_user(fresh_client, keys["admin"], "赵审核", "reviewer")
    t = time.perf_counter()
    for _ in range(3):
        assert sign_in(fresh_client, "赵审核", "wrong password!").status_code == 401
    assert time.perf_counter() - t >= 3.0  # a second's pause each
    refused = sign_in(fresh_client, "赵审核")  # even the right password must wait now
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == "too_many_attempts"
    unknown = sign_in(fresh_client, "无此人", "whatever password")
    assert unknown.status_code == 401 and unknown.json()["detail"] == "unknown name or wrong password"
    failures = query(fresh_url, "SELECT count(*) FROM audit_log WHERE action = 'sign_in_failed'")[0][0]
    assert failures == 4
    query(fresh_url, "UPDATE users SET last_failed_at = now() - interval '1 hour' WHERE name = '赵审核'")
    assert sign_in(fresh_client, "赵审核").status_code == 200


def test_disabling_an_account_ends_its_sessions_at_once(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    create_user(fresh_client, keys["admin"], "钱测量", "surveyor")
    csrf = sign_in(fresh_client, "钱测量").json()["csrf_token"]
    resp = fresh_client.patch("/v1/admin/users/钱测量", json={"disabled": True}, headers=auth(keys["admin"]))
    assert resp.status_code == 200, resp.text
    assert fresh_client.get("/v1/session").status_code == 401
    write = fresh_client.post(
        "/v1/place-names", json=proposal(fresh_url, "鹤鸣路"), headers={"X-CSRF-Token": csrf}
    )
    assert write.status_code == 401
    assert sign_in(fresh_client, "钱测量").status_code == 401


def test_an_admin_sets_a_new_password(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    create_user(fresh_client, keys["admin"], "孙巡查", "surveyor")
    new = "another long password"
    resp = fresh_client.patch("/v1/admin/users/孙巡查", json={"password": new}, headers=auth(keys["admin"]))
    assert resp.status_code == 200
    assert sign_in(fresh_client, "孙巡查").status_code == 401
    assert sign_in(fresh_client, "孙巡查", new).status_code == 200
    short = fresh_client.patch(
        "/v1/admin/users/孙巡查", json={"password": "short"}, headers=auth(keys["admin"])
    )
    assert short.status_code == 422


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_http_basic_with_a_password_or_a_key(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    create_user(fresh_client, keys["admin"], "qgis-user", "reviewer")
    for headers in (basic("qgis-user", PASSWORD), basic("anything", keys["reviewer"])):
        resp = fresh_client.get("/v1/session", headers=headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["role"] == "reviewer"
    for headers in (
        basic("qgis-user", "wrong password"),
        basic("anything", "gs_not-a-key"),
        {"Authorization": "Basic !!!"},
    ):
        resp = fresh_client.get("/v1/session", headers=headers)
        assert resp.status_code == 401, headers
        assert "Basic" in resp.headers["WWW-Authenticate"]
    fresh_client.patch("/v1/admin/users/qgis-user", json={"disabled": True}, headers=auth(keys["admin"]))
    assert fresh_client.get("/v1/session", headers=basic("qgis-user", PASSWORD)).status_code == 401


def test_admins_keep_keys_and_one_namespace(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    admin = auth(keys["admin"])
    made = fresh_client.post(
        "/v1/admin/keys", json={"name": "etl", "role": "editor", "district": "440106"}, headers=admin
    )
    assert made.status_code == 201 and made.json()["key"].startswith("gs_")
    assert "no-store" in made.headers["Cache-Control"]
    listing = fresh_client.get("/v1/admin/keys", headers=admin)
    assert made.json()["key"] not in listing.text
    assert {"name": "etl", "district_code": "440106"}.items() <= next(
        k for k in listing.json()["keys"] if k["name"] == "etl"
    ).items()
    clash = fresh_client.post(
        "/v1/admin/users", json={"name": "etl", "role": "surveyor", "password": PASSWORD}, headers=admin
    )
    assert clash.status_code == 409
    assert (
        fresh_client.post(
            "/v1/admin/keys", json={"name": "x", "role": "editor", "district": "999999"}, headers=admin
        ).status_code
        == 400
    )
    assert fresh_client.get("/v1/session", headers=auth(made.json()["key"])).json()["district"] == "440106"
    assert fresh_client.patch("/v1/admin/keys/etl", json={"revoked": True}, headers=admin).status_code == 200
    assert fresh_client.get("/v1/session", headers=auth(made.json()["key"])).status_code == 401
    assert fresh_client.get("/v1/admin/users", headers=auth(keys["surveyor"])).status_code == 403
