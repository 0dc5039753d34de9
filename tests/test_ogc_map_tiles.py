"""Served map pages draw a type with many facilities from vector tiles (protomaps-leaflet), clicks open its popup.

The sample has thousands, not a million, facilities: the threshold is lowered for the test (the live server runs
in this process). Files written for disk keep inline GeoJSON.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains

from geo_service.db.engine import create_engine
from geo_service.services import coverage_map, map_tiles
from geo_service.services.coverage import CoverageParams
from tests.conftest import LiveServer, run
from tests.conftest import sql as query
from tests.test_maps_browser import geojson_layers, open_page, overlays, start_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    drv = start_chromium(tmp_path_factory.mktemp("chromium-tiles"))
    yield drv
    drv.quit()


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(map_tiles, "TILED_FROM", 1000)


def _wait(browser: webdriver.Chrome, script: str, what: str, *args: object) -> object:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        value = browser.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(what)


def test_many_facilities_come_from_tiles_and_answer_clicks(
    browser: webdriver.Chrome, live_server: LiveServer, sample_url: str, tmp_path: Path, low_threshold: None
) -> None:
    fid, name, lon, lat = query(
        sample_url,
        "SELECT id, name, lon, lat FROM facilities WHERE type = 'social_work_point' AND status = 'active' "
        "ORDER BY id LIMIT 1",
    )[0]
    url = f"{live_server.base}/maps/coverage?type=social_work_point&level=district"
    open_page(browser, url, tmp_path / "tiled.png")
    # no inline layer holds the facilities: they are a tile layer in the layer control
    assert all(layer["count"] < 100 for layer in geojson_layers(browser))
    assert any("Facilities" in n for n in overlays(browser))
    _wait(
        browser,
        "return performance.getEntriesByType('resource').some(e => e.name.includes("
        "'/collections/social-work-points/tiles/WebMercatorQuad/'))",
        "no tile was fetched",
    )
    # zoom to one facility at a detail zoom, then click it where it is drawn
    find_map = "Object.values(window).find(v => v instanceof L.Map)"
    browser.execute_script(
        f"{find_map}.setView([arguments[0], arguments[1]], 17, {{animate: false}})", lat, lon
    )
    time.sleep(2.0)  # the z15 tiles arrive and are painted
    x, y = browser.execute_script(
        f"const m = {find_map}; const p = m.latLngToContainerPoint([arguments[0], arguments[1]]); return [p.x, p.y]",
        lat,
        lon,
    )
    container = browser.find_element("css selector", ".folium-map")
    size = container.size
    ActionChains(browser).move_to_element_with_offset(
        container, int(x - size["width"] / 2), int(y - size["height"] / 2)
    ).click().perform()
    debug = browser.execute_script(
        "const m = Object.values(window).find(v => v instanceof L.Map);"
        "const t = Object.values(window).find(v => v && v.queryTileFeaturesDebug);"
        "const r = t.queryTileFeaturesDebug(arguments[1], arguments[0], 12); const out = [];"
        "r.forEach((fs, k) => fs.forEach(p => out.push([k, p.layerName, p.feature.props.name])));"
        "return [m.getZoom(), out, document.querySelector('.folium-map').getAttribute('data-picked')]",
        lat,
        lon,
    )
    popup = _wait(
        browser,
        "const el = document.querySelector('.leaflet-popup-content'); "
        "return el && el.innerText.includes(arguments[0]) && el.innerText",
        f"no popup opened on the facility: {debug}",
        name,
    )
    assert name in str(popup)
    browser.save_screenshot(str(tmp_path / "tiled-popup.png"))
    errors = [
        e
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "openstreetmap" not in e["message"]
    ]
    assert errors == [], errors
    assert fid


def test_written_files_stay_inline(sample_url: str, low_threshold: None) -> None:
    async def page() -> str:
        engine = create_engine(sample_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return (
                    await coverage_map.coverage_map(
                        conn, CoverageParams("social_work_point", level="district")
                    )
                ).html
        finally:
            await engine.dispose()

    html = run(page())
    assert "protomaps" not in html and "/tiles/" not in html
    assert html.count('"type": "Feature"') + html.count('"type":"Feature"') > 2000
