"""Map pages in a real headless Chromium: they load, draw what they should, show the right figures, no JS errors."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from geo_service.domain.crs import wgs84_to_gcj02
from tests.conftest import IN_CI, LiveServer

pytestmark = pytest.mark.browser

TILE_HOSTS = ("tile.openstreetmap.org", "autonavi.com")
FIND_MAP = "return Object.values(window).find(v => v instanceof L.Map)"


def start_chromium(user_data_dir: Path) -> webdriver.Chrome:
    """Debian's headless Chromium (skips the test without it; fails in CI)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        message = "Debian's chromium and chromium-driver are needed: apt-get install chromium chromium-driver"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={user_data_dir}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.page_load_strategy = "none"  # basemap tiles cannot load offline: wait for Leaflet, not for them
    drv = webdriver.Chrome(options=options, service=Service(driver))
    drv.set_page_load_timeout(60)
    return drv


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    drv = start_chromium(tmp_path_factory.mktemp("chromium"))
    yield drv
    drv.quit()


def open_page(browser: webdriver.Chrome, url: str, shot: Path) -> None:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(url)
    deadline = time.monotonic() + 20
    ready = "return document.readyState !== 'loading' && typeof L !== 'undefined' && !!(" + FIND_MAP[7:] + ")"
    while not browser.execute_script(ready):
        if time.monotonic() > deadline:
            raise AssertionError(f"Leaflet never drew a map at {url}")
        time.sleep(0.1)
    time.sleep(0.5)  # let the canvas render
    browser.save_screenshot(str(shot))
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    foreign = [
        u
        for u in fetched
        if not u.startswith((url.split("/maps/")[0], "data:")) and not any(host in u for host in TILE_HOSTS)
    ]
    assert foreign == [], foreign  # no CDN: every script, stylesheet and image comes from the service
    errors = [
        e
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and not any(host in e["message"] for host in TILE_HOSTS)
    ]
    assert errors == [], errors


def geojson_layers(browser: webdriver.Chrome) -> list[dict[str, Any]]:
    """Every GeoJSON layer on the page: its overlay name (when listed) and its feature count."""
    return browser.execute_script(
        """
        const out = [];
        for (const [name, v] of Object.entries(window)) {
          if (v instanceof L.GeoJSON) out.push({var: name, count: v.getLayers().length,
              kinds: [...new Set(v.getLayers().map(l => l.feature.geometry.type))]});
        }
        return out;
        """
    )


def overlays(browser: webdriver.Chrome) -> list[str]:
    return browser.execute_script(
        "return [...document.querySelectorAll('.leaflet-control-layers-overlays label')].map(l => l.innerText.trim())"
    )


def popup_of(browser: webdriver.Chrome, feature_id: str) -> str:
    return browser.execute_script(
        """
        const id = arguments[0];
        for (const v of Object.values(window)) {
          if (!(v instanceof L.GeoJSON)) continue;
          for (const layer of v.getLayers()) {
            if (String(layer.feature.id) === id) {
              // The popup is bound to the GeoJSON group: a click on the feature propagates to it.
              layer.fire('click', {latlng: layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng()}, true);
              const el = document.querySelector('.leaflet-popup-content');
              return el ? el.innerText : '';
            }
          }
        }
        return null;
        """,
        feature_id,
    )


def test_coverage_map(browser: webdriver.Chrome, live_server: LiveServer, tmp_path: Path) -> None:
    params = "type=elderly_canteen&level=village&within=440106"
    api = httpx.get(f"{live_server.base}/v1/coverage?{params}").json()
    open_page(browser, f"{live_server.base}/maps/coverage?{params}", tmp_path / "coverage.png")
    layers = geojson_layers(browser)
    counts = sorted(layer["count"] for layer in layers)
    uncovered = sum(1 for r in api["divisions"] if r["covered_area_ratio"] == 0)
    facilities = sum(r["facilities"] for r in api["divisions"])
    assert len(api["divisions"]) in counts  # one shape per division
    assert uncovered in counts
    assert facilities in counts
    clustered = browser.execute_script(
        "return Object.values(window).filter(v => v instanceof L.MarkerClusterGroup).map(c => c.getLayers().length)"
    )
    assert clustered == [facilities]
    names = overlays(browser)
    assert (
        len(names) == 6 and any("Facilities" in n for n in names) and any("Service area" in n for n in names)
    )
    assert any("Uncovered areas" in n for n in names) and any("Names" in n for n in names)
    row = max(api["divisions"], key=lambda r: r["population"])
    text = popup_of(browser, row["code"])
    assert row["name"] in text and f"{row['covered_area_ratio'] * 100:.1f}%" in text
    assert f"{row['population']:,}".replace(",", "") in text.replace(",", "")
    assert row["parent_name"] in text  # the township it belongs to
    summary = browser.find_element("id", "gs-summary").text
    s = api["summary"]
    assert f"{s['covered_population']:,}" in summary
    assert (
        f"全覆盖 fully {s['fully_covered_divisions']} · 部分 partly {s['partly_covered_divisions']} · "
        f"未覆盖 not {s['uncovered_divisions']}" in summary
    )


def test_coverage_map_of_every_village_point(
    browser: webdriver.Chrome, live_server: LiveServer, tmp_path: Path
) -> None:
    open_page(browser, f"{live_server.base}/maps/coverage?type=social_work_point", tmp_path / "points.png")
    counts = sorted(layer["count"] for layer in geojson_layers(browser))
    assert counts == [44, 2807, 2851, 2851]  # uncovered villages, points, villages, their names
    assert len(overlays(browser)) == 4  # presence mode: no service or uncovered areas


VISIBLE_NAMES = (
    "return [...document.querySelectorAll('.gs-label')]"
    ".filter(e => e.style.display !== 'none').map(e => e.innerText)"
)


def test_division_names_show_where_they_fit(
    browser: webdriver.Chrome, live_server: LiveServer, tmp_path: Path
) -> None:
    params = "type=elderly_canteen&level=village&within=%E5%A4%A9%E6%B2%B3%E5%8C%BA"  # within=天河区
    api = httpx.get(f"{live_server.base}/v1/coverage?{params}").json()
    open_page(browser, f"{live_server.base}/maps/coverage?{params}", tmp_path / "names.png")
    shown: dict[int, list[str]] = {}
    for zoom in (10, 13, 15, 17):
        browser.execute_script(
            "const m = Object.values(window).find(v => v instanceof L.Map);"
            "m.setView(m.getCenter(), arguments[0], {animate: false});",
            zoom,
        )
        time.sleep(0.4)
        shown[zoom] = browser.execute_script(VISIBLE_NAMES)
    assert shown[10] == []  # 230 names over a district would be a smear
    assert 0 < len(shown[13]) < len(shown[15]) <= len(shown[17])
    names = {r["name"].removesuffix("居民委员会").removesuffix("居委会") for r in api["divisions"]}
    assert all(any(n.startswith(label.removesuffix("村")) for n in names) for label in shown[17])


def test_the_coverage_page_on_a_phone(
    browser: webdriver.Chrome, live_server: LiveServer, tmp_path: Path
) -> None:
    browser.set_window_size(360, 740)
    try:
        open_page(browser, f"{live_server.base}/maps/coverage?type=elderly_canteen", tmp_path / "phone.png")
        opened = "return [...document.querySelectorAll('details.gs-panel')].map(d => d.open)"
        assert browser.execute_script(opened) == [False, False]  # figures and legend folded
        assert browser.find_elements("css selector", ".leaflet-control-layers") and not browser.find_elements(
            "css selector", ".leaflet-control-layers-expanded"
        )
        browser.find_element("css selector", "details.gs-title > summary").click()
        assert browser.execute_script(opened) == [True, False]
        box = browser.execute_script(
            "const r = document.querySelector('details.gs-title').getBoundingClientRect(); return [r.right, innerWidth]"
        )
        assert box[0] <= box[1]  # the open panel fits the screen
    finally:
        browser.set_window_size(1280, 900)
    open_page(browser, f"{live_server.base}/maps/coverage?type=elderly_canteen", tmp_path / "desktop.png")
    assert browser.execute_script(
        "return [...document.querySelectorAll('details.gs-panel')].map(d => d.open)"
    ) == [
        True,
        True,
    ]


def test_the_coverage_page_without_a_type(
    browser: webdriver.Chrome, live_server: LiveServer, tmp_path: Path
) -> None:
    resp = httpx.get(f"{live_server.base}/maps/coverage")
    assert resp.status_code == 200 and "长者饭堂覆盖" in resp.text
    open_page(browser, f"{live_server.base}/maps/coverage", tmp_path / "default.png")
    assert any("Facilities (长者饭堂)" in n for n in overlays(browser))


def test_proposed_sites_on_the_coverage_page(
    browser: webdriver.Chrome, live_server: LiveServer, tmp_path: Path
) -> None:
    params = "type=elderly_canteen&within=440106"
    sites = httpx.get(f"{live_server.base}/v1/coverage/siting?{params}&n=3").json()
    open_page(browser, f"{live_server.base}/maps/coverage?{params}&sites=3", tmp_path / "sites.png")
    ranks = browser.execute_script("return [...document.querySelectorAll('.gs-site')].map(e => e.innerText)")
    assert ranks == ["1", "2", "3"]
    assert any("Proposed sites (3)" in n for n in overlays(browser))
    first = sites["features"][0]
    text = popup_of(browser, first["id"])
    assert f"+{first['properties']['gain_population']:,}" in text
    s = sites["summary"]
    summary = browser.find_element("id", "gs-summary").text
    assert f"+{s['covered_population_after'] - s['covered_population_before']:,}" in summary
    links = browser.execute_script(
        "return [...document.querySelectorAll('.gs-links a')].map(a => a.getAttribute('href'))"
    )
    assert "/v1/coverage/siting?type=elderly_canteen&level=township&within=440106&n=3&format=xlsx" in links


def test_boundaries_map(browser: webdriver.Chrome, live_server: LiveServer, tmp_path: Path) -> None:
    lines = httpx.get(f"{live_server.base}/v1/boundary-lines").json()["features"]
    markers = httpx.get(f"{live_server.base}/v1/boundary-markers").json()["features"]
    open_page(browser, f"{live_server.base}/maps/boundaries", tmp_path / "boundaries.png")
    layers = {tuple(layer["kinds"]): layer["count"] for layer in geojson_layers(browser)}
    assert layers[("Point",)] == len(markers) == 137
    assert layers[("MultiLineString",)] == len(lines) == 21
    assert sum(v for k, v in layers.items() if "MultiPolygon" in k) == 11
    damaged = next(m for m in markers if m["properties"]["status"] != "intact")
    text = popup_of(browser, str(damaged["id"]))
    assert damaged["properties"]["number"] in text and "联检" in text
    assert damaged["properties"]["last_inspected_on"] in text
    colours = browser.execute_script(
        "return Object.values(window).filter(v => v instanceof L.GeoJSON).flatMap(g => g.getLayers())"
        ".filter(l => l instanceof L.CircleMarker).map(l => l.options.fillColor)"
    )
    assert len(set(colours)) >= 2  # coloured by status


def test_finder_map(browser: webdriver.Chrome, live_server: LiveServer, tmp_path: Path) -> None:
    q = "lon=113.32&lat=23.12&type=elderly_canteen&k=5"
    api = httpx.get(f"{live_server.base}/v1/facilities/nearest?{q}").json()["features"]
    open_page(browser, f"{live_server.base}/maps/finder?{q}", tmp_path / "finder.png")
    labels = browser.execute_script(
        "return [...document.querySelectorAll('.gs-distance')].map(e => e.innerText.trim())"
    )
    expected = [f"{f['properties']['distance_m']:,.0f} m" for f in api]
    assert labels == expected
    markers = browser.execute_script(
        "const m = Object.values(window).find(v => v instanceof L.Map); const out = [];"
        "m.eachLayer(l => { if (l instanceof L.Marker) out.push([l.getLatLng().lng, l.getLatLng().lat]); });"
        "return out;"
    )
    assert len(markers) == 6  # the query point and five facilities


def test_amap_basemap_draws_facilities_in_gcj02(
    browser: webdriver.Chrome, live_server: LiveServer, tmp_path: Path
) -> None:
    q = "lon=113.32&lat=23.12&type=elderly_canteen&k=1"
    facility = httpx.get(f"{live_server.base}/v1/facilities/nearest?{q}").json()["features"][0]
    open_page(browser, f"{live_server.base}/maps/finder?{q}&basemap=amap", tmp_path / "amap.png")
    drawn = browser.execute_script(
        "return Object.values(window).filter(v => v instanceof L.GeoJSON).flatMap(g => g.getLayers())"
        ".filter(l => l.feature.properties.rank === 1).map(l => [l.getLatLng().lng, l.getLatLng().lat])"
    )
    gx, gy = (float(v) for v in wgs84_to_gcj02(*facility["geometry"]["coordinates"]))
    assert drawn == [[pytest.approx(gx, abs=2e-6), pytest.approx(gy, abs=2e-6)]]
    tiles = browser.execute_script(
        "return [...document.querySelectorAll('img.leaflet-tile')].map(i => i.src)"
    )
    assert tiles and all("autonavi.com" in t for t in tiles)


def test_cli_pages_work_from_disk(
    browser: webdriver.Chrome, tmp_path: Path, sample_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from geo_service.cli.main import app as cli

    monkeypatch.setenv("GEO_DATABASE_URL", sample_url)
    runner = CliRunner()
    for name, args in (
        ("boundaries", ["map", "boundaries", "--district", "440106"]),
        ("finder", ["map", "finder", "--lon", "113.32", "--lat", "23.12", "--type", "elderly_canteen"]),
    ):
        out = tmp_path / f"{name}.html"
        result = runner.invoke(cli, [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        assert "<script src=" not in page and 'rel="stylesheet" href=' not in page  # everything inline
        open_page(browser, out.as_uri(), tmp_path / f"{name}-from-disk.png")
        assert geojson_layers(browser)
        broken = browser.execute_script(
            "return [...document.querySelectorAll('img.leaflet-marker-icon')]"
            ".filter(i => !i.complete || !i.naturalWidth).length"
        )
        assert broken == 0  # marker images inlined too


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/maps/coverage?type=nope", 400),
        ("/maps/coverage?type=elderly_canteen&level=city", 422),
        ("/maps/coverage?type=elderly_canteen&basemap=google", 400),
        ("/maps/boundaries?district=440199", 404),
        ("/maps/coverage?type=elderly_canteen&within=440199", 404),
        ("/maps/finder?lon=200&lat=23&type=elderly_canteen", 422),
    ],
)
def test_bad_map_requests_get_an_html_error(live_server: LiveServer, path: str, status: int) -> None:
    resp = httpx.get(live_server.base + path)
    assert resp.status_code == status
    assert resp.headers["content-type"].startswith("text/html")
    assert "leaflet" not in resp.text.lower()  # never a half-drawn map
