"""The workbench's pages over HTTP: sign-in redirects, role limits, the language switch, escaping, the policy,
the translation catalogue and offline /redoc. (What the pages do in a browser: tests/test_workbench_browser.py.)"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo_service import i18n
from geo_service.api.app import create_app
from geo_service.api.workbench import PAGES
from tests.conftest import settings_for
from tests.writes_helpers import auth, make_keys

PASSWORD = "correct horse battery"
PACKAGE = Path(__file__).resolve().parent.parent / "geo_service"
PAYLOAD = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def people(pg_server, template_db) -> Iterator[tuple[TestClient, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """A client on a database of its own with one person per role (and one whose name is a payload)."""
    name = "gs_wbpages"
    url = pg_server.create(name, template=template_db)
    keys = make_keys(url, "wbp")
    with TestClient(create_app(settings_for(url, sign_in_failure_pause_s=0))) as client:
        for person, role in (
            ("wb-surveyor", "surveyor"),
            ("wb-reviewer", "reviewer"),
            ("wb-admin", "admin"),
            (PAYLOAD, "surveyor"),
        ):
            resp = client.post(
                "/v1/admin/users",
                headers=auth(keys["admin"]),
                json={"name": person, "role": role, "password": PASSWORD},
            )
            assert resp.status_code == 201, resp.text
        yield client, keys
    pg_server.drop(name)


def signed_in(client: TestClient, person: str) -> TestClient:
    client.cookies.clear()
    resp = client.post("/v1/session", json={"name": person, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return client


def test_pages_ask_to_sign_in_and_come_back(people: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = people
    client.cookies.clear()
    for page in PAGES:
        resp = client.get(f"/workbench/{page}?lon=113.3&lat=23.1", follow_redirects=False)
        assert resp.status_code == 303
        assert (
            resp.headers["location"]
            == f"/workbench/login?next=%2Fworkbench%2F{page}%3Flon%3D113.3%26lat%3D23.1"
        )
    login = client.get("/workbench/login?next=/workbench/review")
    assert login.status_code == 200 and 'data-next="/workbench/review"' in login.text
    # Only a workbench path is a place to come back to: no other site, no protocol-relative trick.
    for target in (
        "https://evil.example/",
        "//evil.example/workbench/",
        "/v1/admin/users",
        "/workbench/\\evil",
    ):
        assert 'data-next=""' in client.get("/workbench/login", params={"next": target}).text


def test_each_role_sees_and_opens_only_its_pages(people: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = people
    allowed = {
        "wb-surveyor": {"propose", "mine", "upload", "inspect", "plan"},
        "wb-reviewer": {"propose", "mine", "upload", "inspect", "plan", "review"},
        "wb-admin": set(PAGES),
    }
    for person, pages in allowed.items():
        signed_in(client, person)
        for page in PAGES:
            resp = client.get(f"/workbench/{page}")
            nav = set(re.findall(r'data-testid="nav-([a-z]+)"', resp.text))
            assert nav == pages, (person, page)
            assert resp.status_code == (200 if page in pages else 403), (person, page)
            assert resp.headers["cache-control"] == "private, no-store"
    home = {
        "wb-surveyor": "/workbench/propose",
        "wb-reviewer": "/workbench/review",
        "wb-admin": "/workbench/admin",
    }
    for person, target in home.items():
        assert (
            signed_in(client, person).get("/workbench/", follow_redirects=False).headers["location"] == target
        )
    assert client.get("/workbench/nothing-here").status_code == 404


def test_a_page_runs_only_script_files_of_this_service(people: tuple[TestClient, dict[str, str]]) -> None:
    client = signed_in(people[0], "wb-admin")
    for page in ("login", *PAGES):
        resp = client.get(f"/workbench/{page}")
        policy = resp.headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]*)", policy)
        assert script_src is not None and script_src.group(1).strip() == "'self'", policy
        assert "frame-ancestors 'self'" in policy and "connect-src 'self'" in policy
        scripts = re.findall(r"<script([^>]*)>", resp.text)
        # Every script is a file under /static, except the page's settings: JSON data, which does not run.
        for attrs in scripts:
            assert re.fullmatch(r' src="/static/[a-z0-9./_-]+"( defer)?', attrs) or attrs == (
                ' type="application/json" id="wb-config"'
            ), attrs
        assert not re.search(r"\son[a-z]+=", resp.text), "no inline event handlers"
        assert not re.search(r'(src|href)="(https?:)?//', resp.text), "every asset is local"


def test_stored_text_is_escaped_in_pages(people: tuple[TestClient, dict[str, str]]) -> None:
    client = signed_in(people[0], PAYLOAD)
    page = client.get("/workbench/propose").text
    assert PAYLOAD not in page
    assert "&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;" in page


def test_the_language_switch_is_remembered(people: tuple[TestClient, dict[str, str]]) -> None:
    client = signed_in(people[0], "wb-surveyor")
    page = client.get("/workbench/plan?type=elderly_canteen&level=village").text
    assert '<html lang="zh-CN">' in page
    link = re.search(r'data-testid="lang-switch"[^>]*href="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    back = client.get(html.unescape(link), follow_redirects=False)
    assert (
        back.headers["location"] == "/workbench/plan?type=elderly_canteen&level=village"
    )  # every parameter kept
    client.cookies.delete("wb_lang")
    resp = client.get("/workbench/lang?to=en&next=/workbench/upload", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/workbench/upload"
    assert "wb_lang=en" in resp.headers["set-cookie"]
    page = client.get("/workbench/upload").text
    assert '<html lang="en">' in page and i18n.gettext("en", "upload.check") in page
    config = json.loads(re.search(r'id="wb-config">(.*?)</script>', page).group(1))  # type: ignore[union-attr]
    assert config["lang"] == "en" and config["messages"] == i18n.messages("en")
    # Elsewhere, and an unknown language: Chinese.
    assert (
        client.get("/workbench/lang?to=fr&next=https://evil.example/", follow_redirects=False).headers[
            "location"
        ]
        == "/workbench/"
    )
    assert '<html lang="zh-CN">' in client.get("/workbench/upload").text


def test_the_selects_offer_codes(people: tuple[TestClient, dict[str, str]]) -> None:
    client = signed_in(people[0], "wb-admin")

    def options(page: str, testid: str) -> list[str]:
        html = client.get(f"/workbench/{page}").text
        select = re.search(rf'<select[^>]*data-testid="{testid}"[^>]*>(.*?)</select>', html, re.S)
        assert select is not None, testid
        return re.findall(r'<option value="([^"]*)"', select.group(1))

    assert options("propose", "propose-category")[:3] == ["road", "street", "alley"]
    assert options("upload", "upload-crs") == ["wgs84", "cgcs2000", "gcj02", "bd09"]
    assert options("review", "review-filter-district")[1:3] == ["440103", "440104"]
    assert "natural_village" in options("review", "review-filter-category")
    assert options("inspect", "inspect-status") == ["intact", "damaged", "missing", "moved"]
    assert "elderly_canteen" in options("plan", "plan-type")
    assert options("plan", "plan-level") == ["district", "township", "village"]


def test_every_text_is_in_both_catalogues() -> None:
    zh, en = i18n.messages("zh"), i18n.messages("en")
    assert zh.keys() == en.keys()
    assert all(v.strip() for v in (*zh.values(), *en.values()))
    used: set[str] = set()
    for path in (PACKAGE / "templates" / "workbench").glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_]+\.[a-z_.0-9]+)'\)", path.read_text(encoding="utf-8")))
    for path in (PACKAGE / "static" / "workbench").glob("*.js"):
        used |= set(re.findall(r"WB\.t\('([a-z_]+\.[a-z_.0-9]+)'", path.read_text(encoding="utf-8")))
    assert len(used) > 150
    assert sorted(used - zh.keys()) == []


def test_redoc_is_served_offline(people: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = people
    client.cookies.clear()
    resp = client.get("/redoc")
    assert resp.status_code == 200
    policy = resp.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "worker-src blob:" in policy and "unsafe-eval" not in policy
    (bundle,) = re.findall(r'<script src="([^"]+)"></script>', resp.text)
    assert bundle.startswith("/static/vendor/redoc-") and client.get(bundle).status_code == 200
    assert "//" not in resp.text.replace("http://www.w3.org", "")
