"""The f=html views of the OGC pages: every stored text escaped, no inline script, the small map drawn in Chromium."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from selenium import webdriver

from tests.conftest import LiveServer
from tests.conftest import sql as query
from tests.test_maps_browser import start_chromium

VIEWS = [
    "/?f=html",
    "/collections?f=html",
    "/collections/villages?f=html",
    "/collections/villages/items?f=html&limit=20",
    "/collections/districts/items/440106?f=html",
    "/collections/elderly-canteens/items?f=html&filter=district_code%3D%27440106%27&sortby=-capacity",
]
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def _script_src(policy: str) -> str:
    return next(p for p in policy.split(";") if p.strip().startswith("script-src"))


@pytest.mark.parametrize("path", VIEWS)
def test_views_are_html_with_scripts_from_files_only(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    policy = resp.headers["content-security-policy"]
    assert "'unsafe-inline'" not in _script_src(policy) and "'self'" in _script_src(policy)
    assert not _INLINE_SCRIPT.search(resp.text)
    assert 'rel="alternate"' in resp.text and "f=json" in resp.text


def test_items_view_lists_the_page_and_links_the_next(client: TestClient) -> None:
    html = client.get("/collections/villages/items?f=html&limit=20").text
    page = client.get("/collections/villages/items?limit=20").json()
    for feature in page["features"]:
        assert f">{feature['properties']['name']}<" in html
    assert 'data-testid="ogc-next"' in html and "f=html" in html.split('data-testid="ogc-next"')[1][:400]
    assert client.get("/collections?f=xml").status_code == 400


def test_stored_texts_are_escaped(fresh_url: str, fresh_client: TestClient) -> None:
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    fid = query(
        fresh_url,
        "UPDATE facilities SET name = :n, address = :n WHERE id = "
        "(SELECT min(id) FROM facilities WHERE type = 'elderly_canteen') RETURNING id",
        n=evil,
    )[0][0]
    for path in (
        f"/collections/elderly-canteens/items/{fid}?f=html",
        "/collections/elderly-canteens/items?f=html&limit=5",
    ):
        html = fresh_client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_empty_collection_claims_no_extent(fresh_url: str, fresh_client: TestClient) -> None:
    query(fresh_url, "DELETE FROM facilities WHERE type = 'wedding_cert_point'")
    body = fresh_client.get("/collections/wedding-cert-points").json()
    assert "extent" not in body
    assert "(empty)" in fresh_client.get("/collections/wedding-cert-points?f=html").text


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    drv = start_chromium(tmp_path_factory.mktemp("chromium-ogc"))
    yield drv
    drv.quit()


@pytest.mark.browser
def test_the_items_map_draws_the_page_in_chromium(
    live_server: LiveServer, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    url = f"{live_server.base}/collections/elderly-canteens/items?f=html&limit=25"
    browser.get_log("browser")
    browser.get(url)
    deadline = time.monotonic() + 20
    loaded = None
    while loaded is None and time.monotonic() < deadline:
        loaded = browser.execute_script("return document.getElementById('map').getAttribute('data-loaded')")
        time.sleep(0.1)
    browser.save_screenshot(str(tmp_path / "ogc-items.png"))
    assert loaded == "25"
    expected = httpx.get(url.replace("f=html", "f=json")).json()["numberReturned"]
    assert expected == 25
    errors = [
        e
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "openstreetmap" not in e["message"]
    ]
    assert errors == [], errors  # among them: any CSP violation
