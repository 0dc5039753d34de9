"""No text that staff can set runs as script on any page, and every page allows only its own inline scripts.

Every text an admin, editor or surveyor can set carries script payloads (set through the API with keys where a
route sets it, by SQL where none does yet); each map page is opened in Chromium, popups, tooltips and the layer
control opened: nothing ran, the payloads read as text, the map drew, and no policy violation was reported.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from selenium import webdriver

from geo_service.services import csp
from tests.conftest import LiveServer, Server
from tests.conftest import sql as query
from tests.test_maps_browser import geojson_layers, open_page, start_chromium
from tests.writes_helpers import auth, make_keys, point_in

pytestmark = pytest.mark.browser

PWN = "window.__pwned=1"
PAYLOADS = (
    f'<img src=x onerror="{PWN}">',
    f"<script>{PWN}</script>",
    f'"><svg onload={PWN}>',
    f"javascript:{PWN}",
    f"`${{{PWN}}}`",  # a JS template literal's substitution
    f"'\";{PWN};//",  # out of a JS string
    f"</script><script>{PWN}</script>",
)
EVERY = "".join(PAYLOADS)
TYPE_ZH = "测类" + PAYLOADS[0] + PAYLOADS[2] + PAYLOADS[4]  # at most 100 characters
TYPE_EN = "Probe" + PAYLOADS[1] + PAYLOADS[6]
FACILITY = "测站" + "".join(PAYLOADS[:5])  # at most 200
ADDRESS = "测址" + EVERY
DISTRICT, TOWNSHIP, VILLAGE = "测区" + EVERY, "测镇" + EVERY, "测村" + EVERY
LINE, NOTE = "测线" + EVERY, "测检" + EVERY
MARKER = "<b>测桩</b>"  # a marker number has at most 16 characters
TYPE = "probe_station"


@dataclass
class Poisoned:
    """The service on a database whose staff-set texts are all payloads."""

    base: str
    url: str
    village: str
    township: str
    line: str
    marker: int
    facilities: list[int]
    point: tuple[float, float]


@pytest.fixture(scope="module")
def poisoned(pg_server: Server, template_db: str) -> Iterator[Poisoned]:
    name = f"gs_xss{os.getpid()}"
    url = pg_server.create(name, template=template_db)
    # Division and boundary texts come from imports (no route sets them yet): by SQL.
    village, township = query(
        url,
        "SELECT code, parent_code FROM divisions WHERE level = 'village' "
        "AND code LIKE '440106%' ORDER BY area_m2 DESC LIMIT 1",
    )[0]
    query(url, "UPDATE divisions SET name = :n WHERE code = '440106'", n=DISTRICT)
    query(url, "UPDATE divisions SET name = :n WHERE code = :c", n=TOWNSHIP, c=township)
    query(url, "UPDATE divisions SET name = :n WHERE code = :c", n=VILLAGE, c=village)
    line = query(
        url,
        "SELECT code FROM boundary_lines WHERE '440106' IN (left_code, right_code) "
        "AND EXISTS (SELECT 1 FROM boundary_markers m WHERE m.line_code = code) ORDER BY code LIMIT 1",
    )[0][0]
    query(url, "UPDATE boundary_lines SET name = :n WHERE code = :c", n=LINE, c=line)
    marker = query(url, "SELECT min(id) FROM boundary_markers WHERE line_code = :c", c=line)[0][0]
    query(url, "UPDATE boundary_markers SET number = :n WHERE id = :i", n=MARKER, i=marker)
    keys = make_keys(url, "xss")
    here = point_in(url, village)
    other = point_in(
        url,
        query(
            url,
            "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440106%' "
            "AND code <> :c ORDER BY code LIMIT 1",
            c=village,
        )[0][0],
    )
    with LiveServer(url) as server, httpx.Client(base_url=server.base) as http:
        created = http.post(
            "/v1/admin/facility-types",
            headers=auth(keys["admin"]),
            json={
                "code": TYPE,
                "collection": "probe-stations",
                "name_zh": TYPE_ZH,
                "name_en": TYPE_EN,
                "default_radius_m": 500,
            },
        )
        assert created.status_code == 201, created.text
        facilities = []
        for geometry in (here, other):
            resp = http.post(
                "/v1/facilities",
                headers=auth(keys["editor"]),
                json={
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": {"type": TYPE, "name": FACILITY, "address": ADDRESS},
                },
            )
            assert resp.status_code == 201, resp.text
            facilities.append(resp.json()["id"])
        inspected = http.post(
            f"/v1/boundary-markers/{marker}/inspections",
            headers=auth(keys["surveyor"]),
            json={"status": "damaged", "inspected_on": "2026-05-04", "note": NOTE},
        )
        assert inspected.status_code == 201, inspected.text
        yield Poisoned(
            server.base, url, village, township, line, marker, facilities, tuple(here["coordinates"])
        )
    pg_server.drop(name)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    drv = start_chromium(tmp_path_factory.mktemp("chromium-xss"))
    # Runs before every page's own scripts and is not subject to the page's policy.
    drv.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {
            "source": """
        window.__violations = [];
        document.addEventListener('securitypolicyviolation',
            e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
    """
        },
    )
    yield drv
    drv.quit()


def fire(browser: webdriver.Chrome, feature_id: str | int, event: str) -> str:
    """Fire a mouse event on the feature with this id; the text of the popups and tooltips then open."""
    return browser.execute_script(
        """
        const [id, event] = arguments;
        for (const v of Object.values(window)) {
          if (!(v instanceof L.GeoJSON)) continue;
          for (const layer of v.getLayers()) {
            if (String(layer.feature.id) !== id) continue;
            const map = Object.values(window).find(m => m instanceof L.Map);
            if (layer.getLatLng && !map.hasLayer(layer)) map.setView(layer.getLatLng(), 18, {animate: false});
            const latlng = layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng();
            layer.fire(event, {latlng: latlng}, true);
            return [...document.querySelectorAll('.leaflet-popup-content, .leaflet-tooltip')]
                .map(e => e.innerText).join('\\n');
          }
        }
        throw new Error('no feature ' + id);
        """,
        str(feature_id),
        event,
    )


def layer_control(browser: webdriver.Chrome) -> str:
    return browser.execute_script("return document.querySelector('.leaflet-control-layers').innerText")


def body_text(browser: webdriver.Chrome) -> str:
    return browser.execute_script("return document.title + '\\n' + document.body.innerText")


def assert_nothing_ran(browser: webdriver.Chrome) -> None:
    """No payload ran, and the policy blocked nothing (so none was let into the page as markup)."""
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.execute_script("return window.__violations") == []
    assert not browser.find_elements(
        "css selector", ".gs-panel img, .gs-panel svg, .leaflet-pane img[src='x']"
    )


def assert_policy(resp: httpx.Response, inline_scripts: int = 2) -> None:
    """The page's CSP allows scripts from the service and its own inline scripts, by hash: nothing else."""
    policy = resp.headers["content-security-policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src")).split()[1:]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    inline = re.findall(r"<script>(.*?)</script>", resp.text, re.S)
    assert len(inline) == inline_scripts and sorted(script_src) == sorted(
        ["'self'", *map(csp.script_hash, inline)]
    )
    assert "<script src=" in resp.text and not re.search(r'<script src="(?!/static/)', resp.text)


def load(browser: webdriver.Chrome, base: str, path: str, shot: Path) -> httpx.Response:
    resp = httpx.get(base + path)
    assert resp.status_code == 200, resp.text
    assert_policy(resp)
    open_page(browser, base + path, shot)
    return resp


def test_coverage_page(browser: webdriver.Chrome, poisoned: Poisoned, tmp_path: Path) -> None:
    path = f"/maps/coverage?type={TYPE}&level=village&within=440106"
    load(browser, poisoned.base, path, tmp_path / "coverage.png")
    layers = sorted(layer["count"] for layer in geojson_layers(browser))
    villages = query(
        poisoned.url, "SELECT count(*) FROM divisions WHERE level = 'village' AND code LIKE '440106%'"
    )
    assert villages[0][0] in layers and 2 in layers  # the map drew: every village, both facilities
    assert f"设施 Facilities ({TYPE_ZH})" in layer_control(browser)
    shown = body_text(browser)
    assert TYPE_ZH in shown and TYPE_EN in shown  # title, heading and parameters
    assert VILLAGE in fire(browser, poisoned.village, "click")
    assert VILLAGE in fire(browser, poisoned.village, "mouseover")
    facility = fire(browser, poisoned.facilities[0], "click")
    assert FACILITY in facility and ADDRESS in facility and VILLAGE in facility
    assert_nothing_ran(browser)


def test_boundaries_page(browser: webdriver.Chrome, poisoned: Poisoned, tmp_path: Path) -> None:
    load(browser, poisoned.base, "/maps/boundaries?district=440106", tmp_path / "boundaries.png")
    kinds = {tuple(layer["kinds"]): layer["count"] for layer in geojson_layers(browser)}
    assert kinds[("Point",)] > 0 and kinds[("MultiLineString",)] > 0
    assert DISTRICT in body_text(browser)  # the title
    assert DISTRICT in fire(browser, "440106", "mouseover")
    assert TOWNSHIP in fire(browser, poisoned.township, "mouseover")
    assert LINE in fire(browser, poisoned.line, "click")
    marker = fire(browser, poisoned.marker, "click")
    assert MARKER in marker and LINE in marker
    assert NOTE not in marker  # inspection notes are for staff; the public map shows dates and statuses
    assert_nothing_ran(browser)


def test_finder_page(browser: webdriver.Chrome, poisoned: Poisoned, tmp_path: Path) -> None:
    lon, lat = poisoned.point
    load(browser, poisoned.base, f"/maps/finder?lon={lon}&lat={lat}&type={TYPE}&k=2", tmp_path / "finder.png")
    assert sorted(layer["count"] for layer in geojson_layers(browser)) == [2]
    assert f"{TYPE_ZH} Facilities (2)" in layer_control(browser)
    shown = body_text(browser)
    assert TYPE_ZH in shown and TYPE_EN.lower() in shown and f"最近 Nearest: {FACILITY}" in shown
    assert f"#1 {FACILITY}" in fire(browser, poisoned.facilities[0], "mouseover")
    popup = fire(browser, poisoned.facilities[0], "click")
    assert FACILITY in popup and ADDRESS in popup
    assert_nothing_ran(browser)


def test_the_query_string_is_not_echoed(poisoned: Poisoned) -> None:
    """The download links are built from the validated parameters, not from the raw query string."""
    resp = httpx.get(
        f'{poisoned.base}/maps/coverage?type={TYPE}&level=district&x="><script>window.__echo=1</script>'
    )
    assert resp.status_code == 200 and "__echo" not in resp.text
    assert f'href="/v1/coverage?type={TYPE}&amp;level=district&amp;format=csv"' in resp.text


def test_error_pages_run_no_script(poisoned: Poisoned) -> None:
    resp = httpx.get(f"{poisoned.base}/maps/boundaries?district=<script>{PWN}</script>")
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("text/html")
    assert "<script>" not in resp.text and resp.headers["content-security-policy"] == csp.NO_SCRIPTS


def test_map_files_are_escaped_and_carry_their_policy(
    browser: webdriver.Chrome, poisoned: Poisoned, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from geo_service.cli.main import app as cli

    monkeypatch.setenv("GEO_DATABASE_URL", poisoned.url)
    lon, lat = poisoned.point
    for name, args in (
        ("coverage", ["coverage", "--type", TYPE, "--level", "village", "--within", "440106"]),
        ("boundaries", ["boundaries", "--district", "440106"]),
        ("finder", ["finder", "--lon", str(lon), "--lat", str(lat), "--type", TYPE, "--k", "2"]),
    ):
        out = tmp_path / f"{name}.html"
        result = CliRunner().invoke(cli, ["map", *args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
        assert policy and "unsafe-inline" not in policy.group(1).split("script-src")[1].split(";")[0]
        open_page(browser, out.as_uri(), tmp_path / f"{name}.png")
        assert geojson_layers(browser)
        assert TYPE_ZH in layer_control(browser) if name != "boundaries" else DISTRICT in body_text(browser)
        assert_nothing_ran(browser)


def test_a_page_with_script_markup_it_did_not_write_is_refused() -> None:
    page = "<html><head><script>var a = 1;</script></head><body>{}</body><script>go()</script></html>"
    assert len(csp.page(page.format("<p>ok</p>"), inline_scripts=2).script_hashes) == 2
    for stray in ("<script>evil()</script>", "<SCRIPT>", "</script>", "<script src=x></script>", "<scRipt >"):
        with pytest.raises(csp.UnexpectedScript):
            csp.page(page.format(stray), inline_scripts=2)


def test_the_policy_blocks_what_escaping_might_miss(
    browser: webdriver.Chrome, poisoned: Poisoned, tmp_path: Path
) -> None:
    """Markup that got into a served page anyway (here: put there after it loaded) runs no handler."""
    lon, lat = poisoned.point
    open_page(browser, f"{poisoned.base}/maps/finder?lon={lon}&lat={lat}&type={TYPE}&k=1", tmp_path / "f.png")
    browser.execute_script(
        f"document.body.insertAdjacentHTML('beforeend', '<img src=\"data:,\" onerror=\"{PWN}\">'"
        f" + '<a id=\"go\" href=\"javascript:{PWN}\">go</a>'); document.getElementById('go').click();"
    )
    time.sleep(0.3)
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    blocked = browser.execute_script("return window.__violations")
    assert [v.split()[0] for v in blocked] == ["script-src-attr", "script-src-elem"]  # the handler, the link


def test_the_api_docs_run_from_the_service(
    browser: webdriver.Chrome, poisoned: Poisoned, tmp_path: Path
) -> None:
    """/docs: Swagger UI from the vendored copy (no CDN), its one inline script hashed; /redoc: Redoc from its
    vendored copy, no inline script at all."""
    resp = httpx.get(poisoned.base + "/docs")
    assert resp.status_code == 200
    assert_policy(resp, inline_scripts=1)
    browser.get_log("browser")
    browser.get(poisoned.base + "/docs")
    deadline = time.monotonic() + 20
    while not browser.execute_script("return document.querySelectorAll('.opblock').length"):
        assert time.monotonic() < deadline, "Swagger UI never listed the operations"
        time.sleep(0.1)
    browser.save_screenshot(str(tmp_path / "docs.png"))
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [u for u in fetched if not u.startswith((poisoned.base, "data:"))] == []
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert browser.execute_script("return window.__violations") == []

    redoc = httpx.get(poisoned.base + "/redoc")
    assert redoc.status_code == 200 and "<script>" not in redoc.text
    browser.get(poisoned.base + "/redoc")
    deadline = time.monotonic() + 30
    while not browser.execute_script("return document.querySelectorAll('[data-section-id]').length > 10"):
        assert time.monotonic() < deadline, "Redoc never listed the operations"
        time.sleep(0.2)
    browser.save_screenshot(str(tmp_path / "redoc.png"))
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [u for u in fetched if not u.startswith((poisoned.base, "data:", "blob:"))] == []
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert browser.execute_script("return window.__violations") == []


def test_every_html_page_has_a_policy_without_inline_scripts(client: TestClient) -> None:
    """Every GET route that answers HTML (pages, and the HTML errors of map routes) names what may run."""
    paths = client.get("/openapi.json").json()["paths"]
    pages = 0
    for path in ["/docs", *(p for p, ops in paths.items() if "get" in ops and "{" not in p)]:
        resp = client.get(path)
        if not resp.headers.get("content-type", "").startswith("text/html"):
            continue
        pages += 1
        policy = resp.headers["content-security-policy"]
        assert "'unsafe-inline'" not in next((d for d in policy.split(";") if "script-src" in d), ""), path
        assert "default-src 'none'" in policy or "script-src 'self'" in policy, path
    assert pages >= 4  # /docs and the three map routes (an HTML error without their parameters)
