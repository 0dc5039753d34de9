"""The workbench clicked through in a real headless Chromium, on a 360 × 740 phone and on a desktop.

A surveyor proposes (the live check shows the pinyin the service stores), sees it in "mine"; a reviewer returns
it with a comment; the surveyor edits and resubmits; a reviewer approves while a second reviewer's page is stale
(412 shown, nothing overwritten); an upload is checked then committed; an inspection with a photo; an admin adds a
protected name, a person and a key; a planner changes type, level and area and runs siting. Payload texts never
run. Assertions are on data and states (data-* attributes, values from the API or the database), not on wording.
Screenshots go to ``$GEO_SCREENSHOTS`` when set (docs/screenshots is made that way), else to a temporary folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from geo_service.api.workbench import PAGES
from geo_service.domain.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geo_service.settings import PROJECT_ROOT
from tests.conftest import LiveServer, Server
from tests.conftest import sql as query
from tests.test_maps_browser import start_chromium
from tests.writes_helpers import auth, line_in, make_keys, point_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
PWN = "window.__pwned=1"
PAYLOAD = f'<img src=x onerror="{PWN}"><script>{PWN}</script>'
PEOPLE = {
    "surveyor": "wb-surveyor",
    "reviewer": "wb-reviewer",
    "reviewer2": "wb-reviewer-2",
    "admin": "wb-admin",
    "payload": "测" + PAYLOAD[:60],
}
ROLES = {
    "surveyor": "surveyor",
    "reviewer": "reviewer",
    "reviewer2": "reviewer",
    "admin": "admin",
    "payload": "surveyor",
}
PHONE, DESKTOP = (360, 740), (1280, 900)
SHOTS = Path(os.environ["GEO_SCREENSHOTS"]) if os.environ.get("GEO_SCREENSHOTS") else None
#: Chrome logs every 4xx answer of a fetch as an error; the tests provoke some (412, 409, 422) on purpose.
EXPECTED = "Failed to load resource: the server responded with a status of 4"


@dataclass
class Bench:
    """The service on a database of its own, with one person per role."""

    base: str
    url: str
    keys: dict[str, str]
    village: str  # a village of 天河区 (440106) to propose in


@pytest.fixture(scope="module")
def bench(pg_server: Server, template_db: str) -> Iterator[Bench]:
    name = f"gs_wbb{os.getpid()}"
    url = pg_server.create(name, template=template_db)
    keys = make_keys(url, "wbb")
    village = query(
        url,
        "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440106%' "
        "ORDER BY area_m2 DESC LIMIT 1",
    )[0][0]
    with LiveServer(url, sign_in_failure_pause_s=0) as server, httpx.Client(base_url=server.base) as http:
        for who, person in PEOPLE.items():
            resp = http.post(
                "/v1/admin/users",
                headers=auth(keys["admin"]),
                json={"name": person, "role": ROLES[who], "password": PASSWORD},
            )
            assert resp.status_code == 201, resp.text
        yield Bench(server.base, url, keys, village)
    pg_server.drop(name)


def _chromium(tmp_path_factory: pytest.TempPathFactory, name: str) -> webdriver.Chrome:
    drv = start_chromium(tmp_path_factory.mktemp(name))
    for attempt in range(5):  # a browser still starting on a busy machine can drop its first commands
        try:
            drv.get("about:blank")
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
            drv.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "deny"})
            return drv
        except TimeoutException:
            if attempt == 4:
                raise
            time.sleep(2)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    drv = _chromium(tmp_path_factory, "wb-chromium")
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def browser2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """A second person's browser (cookies of its own)."""
    drv = _chromium(tmp_path_factory, "wb-chromium-2")
    yield drv
    drv.quit()


def until(drv: webdriver.Chrome, script: str, *args: Any, timeout: float = 25) -> Any:
    """Wait until a script returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = drv.execute_script(script, *args)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {script} {args}")
        time.sleep(0.1)


def tid(drv: webdriver.Chrome | WebElement, testid: str) -> WebElement:
    return drv.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def attr(drv: webdriver.Chrome, testid: str, name: str) -> str | None:
    return drv.execute_script(
        'const e = document.querySelector(`[data-testid="${arguments[0]}"]`); '
        "return e && e.getAttribute(arguments[1]);",
        testid,
        name,
    )


def wait_attr(drv: webdriver.Chrome, testid: str, name: str, values: tuple[str, ...]) -> str:
    """Wait until an element's attribute takes one of ``values``; that value."""
    return until(
        drv,
        'const e = document.querySelector(`[data-testid="${arguments[0]}"]`);'
        "const v = e && e.getAttribute(arguments[1]); return arguments[2].includes(v) ? v : null;",
        testid,
        name,
        list(values),
    )


def size(drv: webdriver.Chrome, viewport: tuple[int, int]) -> None:
    width, height = viewport
    drv.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def sign_in(drv: webdriver.Chrome, bench: Bench, who: str, page: str, viewport: tuple[int, int]) -> None:
    """Sign in through the login page and land on ``page``, ready."""
    size(drv, viewport)
    drv.get(f"{bench.base}/workbench/login")
    drv.delete_all_cookies()
    drv.get(f"{bench.base}/workbench/login?next=/workbench/{page}")
    until(drv, "return document.readyState === 'complete'")
    tid(drv, "login-user").send_keys(PEOPLE[who])
    tid(drv, "login-password").send_keys(PASSWORD)
    tid(drv, "login-submit").click()
    until(
        drv,
        "return location.pathname === arguments[0] && document.readyState === 'complete'",
        f"/workbench/{page}",
    )
    drv.get_log("browser")


def goto(drv: webdriver.Chrome, bench: Bench, path: str) -> None:
    drv.get(bench.base + path)
    until(drv, "return document.readyState === 'complete'")


def shot(drv: webdriver.Chrome, name: str, tmp_path: Path) -> None:
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    time.sleep(0.4)  # let the map draw
    drv.save_screenshot(str(folder / f"{name}.png"))


def assert_clean(drv: webdriver.Chrome) -> None:
    """No script error, no payload ran, the policy blocked nothing."""
    errors = [
        e["message"]
        for e in drv.get_log("browser")
        if e["level"] == "SEVERE" and EXPECTED not in e["message"]
    ]
    assert errors == []
    assert drv.execute_script("return typeof window.__pwned") == "undefined"
    assert drv.execute_script("return window.__violations") == []


def rows(drv: webdriver.Chrome, testid: str) -> list[dict[str, str]]:
    """The data-* attributes of every element with this test id."""
    return drv.execute_script(
        'return [...document.querySelectorAll(`[data-testid="${arguments[0]}"]`)]'
        ".map(e => Object.assign({}, e.dataset));",
        testid,
    )


def place(bench: Bench, place_id: int) -> dict[str, Any]:
    row = query(
        bench.url,
        "SELECT name, status, pinyin, proposed_by, reviewed_by, review_comment, version, note "
        "FROM place_names WHERE id = :i",
        i=place_id,
    )[0]
    keys = ("name", "status", "pinyin", "proposed_by", "reviewed_by", "review_comment", "version", "note")
    return dict(zip(keys, row, strict=True))


def propose(
    drv: webdriver.Chrome, bench: Bench, name: str, geometry: dict[str, Any], shots: Path | None = None
) -> tuple[int, str]:
    """Fill the proposal form (the geometry typed, as a keyboard user would), wait for the live check, submit."""
    tid(drv, "propose-name").send_keys(name)
    Select(tid(drv, "propose-category")).select_by_value("road")
    field = tid(drv, "propose-geometry")
    field.clear()
    field.send_keys(json.dumps(geometry))
    drv.execute_script("arguments[0].dispatchEvent(new Event('change'))", field)
    until(
        drv,
        "const c = document.querySelector('[data-testid=\"propose-check\"]').dataset;"
        "return c.name === arguments[0] && c.placed === 'yes' && c.state !== 'busy'",
        name,
    )
    assert attr(drv, "propose-check", "data-state") == "ok", tid(drv, "propose-check").text
    pinyin = tid(drv, "check-pinyin").text
    if shots:
        drv.execute_script("document.querySelector('[data-testid=\"propose-check\"]').scrollIntoView()")
        shot(drv, "flow-propose-check-phone", shots)
    tid(drv, "propose-submit").click()
    wait_attr(drv, "propose-result", "data-state", ("ok", "error"))
    assert attr(drv, "propose-result", "data-status") == "201", tid(drv, "propose-result").text
    assert tid(drv, "propose-name").get_attribute("value") == ""  # cleared for the next one
    return int(attr(drv, "propose-result", "data-id") or 0), pinyin


def open_review(drv: webdriver.Chrome, place_id: int) -> None:
    until(
        drv,
        'return document.querySelector(`[data-testid="review-row"][data-id="${arguments[0]}"]`)',
        str(place_id),
    )
    row = drv.find_element(By.CSS_SELECTOR, f'[data-testid="review-row"][data-id="{place_id}"]')
    tid(row, "review-open").click()
    until(
        drv,
        "return document.querySelector('[data-testid=\"review-detail\"]').dataset.id === arguments[0]"
        " && !document.querySelector('[data-testid=\"review-approve\"]').disabled",
        str(place_id),
    )
    # The map shows the proposal up close, even when the reviewer has scrolled the map out of sight.
    until(drv, "return WB.maps[0].map.getZoom() >= 15")


def test_a_proposal_from_phone_to_approval(
    browser: webdriver.Chrome, browser2: webdriver.Chrome, bench: Bench, tmp_path: Path
) -> None:
    name = "棠德试验路"
    road = line_in(bench.url, bench.village)
    # The surveyor, on a phone: the live check shows the pinyin the service then stores.
    sign_in(browser, bench, "surveyor", "propose", PHONE)
    place_id, checked_pinyin = propose(browser, bench, name, road, tmp_path)
    stored = place(bench, place_id)
    assert stored["status"] == "proposed" and stored["proposed_by"] == PEOPLE["surveyor"]
    assert checked_pinyin == stored["pinyin"] != ""
    goto(browser, bench, "/workbench/mine")
    wait_attr(browser, "mine-list", "data-state", ("ready",))
    mine = {r["id"]: r for r in rows(browser, "mine-row")}
    assert mine[str(place_id)]["status"] == "proposed"
    assert_clean(browser)

    # A reviewer, at a desk: returns it with a comment.
    sign_in(browser2, bench, "reviewer", "review", DESKTOP)
    wait_attr(browser2, "review-queue", "data-state", ("ready",))
    open_review(browser2, place_id)
    comment = "请补充命名由来"
    tid(browser2, "review-comment").send_keys(comment)
    tid(browser2, "review-return").click()
    assert wait_attr(browser2, "review-message", "data-state", ("ok", "error", "stale", "conflict")) == "ok"
    assert place(bench, place_id)["status"] == "returned"
    assert str(place_id) not in [r["id"] for r in rows(browser2, "review-row")]
    assert_clean(browser2)

    # The surveyor sees the comment, edits and resubmits (PUT with If-Match).
    goto(browser, bench, "/workbench/mine")
    wait_attr(browser, "mine-list", "data-state", ("ready",))
    row = browser.find_element(By.CSS_SELECTOR, f'[data-testid="mine-row"][data-id="{place_id}"]')
    assert row.get_attribute("data-status") == "returned" and tid(row, "mine-comment").text == comment
    shot(browser, "flow-mine-returned-phone", tmp_path)
    tid(row, "mine-edit").click()
    until(
        browser,
        "return document.querySelector('[data-testid=\"propose-name\"]').value === arguments[0]",
        name,
    )
    tid(browser, "propose-origin").send_keys("以棠德村得名")
    tid(browser, "propose-submit").click()
    assert wait_attr(browser, "propose-result", "data-state", ("ok", "error")) == "ok"
    assert place(bench, place_id)["status"] == "proposed"

    # A second reviewer opens it; meanwhile the first approves it; the second's page is stale: 412, shown.
    sign_in(browser2, bench, "reviewer2", "review", DESKTOP)
    wait_attr(browser2, "review-queue", "data-state", ("ready",))
    open_review(browser2, place_id)
    sign_in(browser, bench, "reviewer", "review", DESKTOP)
    wait_attr(browser, "review-queue", "data-state", ("ready",))
    open_review(browser, place_id)
    shot(browser, "flow-review-proposal-desktop", tmp_path)
    tid(browser, "review-approve").click()
    assert wait_attr(browser, "review-message", "data-state", ("ok", "error", "stale", "conflict")) == "ok"
    tid(browser2, "review-comment").send_keys("同意")
    tid(browser2, "review-approve").click()
    assert (
        wait_attr(browser2, "review-message", "data-state", ("ok", "error", "stale", "conflict")) == "stale"
    )
    assert attr(browser2, "review-message", "data-status") == "412"
    shot(browser2, "flow-review-stale-412-desktop", tmp_path)
    decided = place(bench, place_id)
    assert decided["status"] == "approved" and decided["reviewed_by"] == PEOPLE["reviewer"]
    assert decided["review_comment"] != "同意"  # the stale decision wrote nothing
    assert_clean(browser)
    assert_clean(browser2)


def test_reviewers_approve_several_clean_proposals_at_once(browser: webdriver.Chrome, bench: Bench) -> None:
    with httpx.Client(base_url=bench.base, headers=auth(bench.keys["surveyor"])) as http:
        ids = []
        for i, name in enumerate(("榕荫试验路", "松园试验路")):
            x, y = point_in(bench.url, bench.village)["coordinates"]
            line = {"type": "LineString", "coordinates": [[x + i * 0.003, y], [x + i * 0.003 + 0.001, y]]}
            resp = http.post(
                "/v1/place-names",
                json={"type": "Feature", "geometry": line, "properties": {"name": name, "category": "road"}},
            )
            assert resp.status_code == 201, resp.text
            ids.append(resp.json()["id"])
    sign_in(browser, bench, "reviewer", "review", DESKTOP)
    Select(tid(browser, "review-filter-district")).select_by_value("440106")
    until(
        browser,
        "const q = document.querySelector('[data-testid=\"review-queue\"]').dataset;"
        "return q.state === 'ready' && (q.query || '').includes('district=440106')",
    )
    listed = [r["id"] for r in rows(browser, "review-row")]
    assert {str(i) for i in ids} <= set(listed)
    for i in ids:
        row = browser.find_element(By.CSS_SELECTOR, f'[data-testid="review-row"][data-id="{i}"]')
        assert tid(row, "review-select").is_enabled()  # clean: no warnings
        tid(row, "review-select").click()
    tid(browser, "review-approve-selected").click()
    assert wait_attr(browser, "review-message", "data-state", ("ok", "error")) == "ok"
    assert [place(bench, i)["status"] for i in ids] == ["approved", "approved"]
    assert_clean(browser)


def write_csv(path: Path, rows_: list[tuple[float, float, str, str]]) -> Path:
    """A spreadsheet of names, each a short east-west line from its point (roads and alleys are lines)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["wkt", "名称", "类别"])
        writer.writerows([(f"LINESTRING({x} {y}, {x + 0.001} {y})", name, cat) for x, y, name, cat in rows_])
    return path


def test_an_upload_is_checked_then_committed(browser: webdriver.Chrome, bench: Bench, tmp_path: Path) -> None:
    villages = [
        r[0]
        for r in query(
            bench.url,
            "SELECT code FROM divisions WHERE level = 'village' AND code LIKE "
            "'440118%' ORDER BY code LIMIT 2",
        )
    ]
    (x1, y1), (x2, y2) = (point_in(bench.url, v)["coordinates"] for v in villages)
    bad = write_csv(tmp_path / "bad.csv", [(x1, y1, "增江试验一路", "road"), (x2, y2, "ABC路", "road")])
    good = write_csv(
        tmp_path / "names.csv", [(x1, y1, "增江试验一路", "road"), (x2, y2, "增江试验二巷", "alley")]
    )
    sign_in(browser, bench, "surveyor", "upload", PHONE)
    Select(tid(browser, "upload-crs")).select_by_value("wgs84")
    tid(browser, "upload-file").send_keys(str(bad))
    tid(browser, "upload-check").click()
    assert wait_attr(browser, "upload-preview", "data-state", ("ok", "problems", "error")) == "problems"
    assert [r["state"] for r in rows(browser, "upload-row")][-1] == "problems"
    assert tid(browser, "upload-commit").get_attribute("disabled") is not None  # nothing to commit
    # The fixed file: every row with its pinyin and division, as the service's dry run gives them.
    tid(browser, "upload-file").send_keys(str(good))
    tid(browser, "upload-check").click()
    assert wait_attr(browser, "upload-preview", "data-state", ("ok", "problems", "error")) == "ok", tid(
        browser, "upload-preview"
    ).text
    with good.open("rb") as f:
        dry = httpx.post(
            f"{bench.base}/v1/submissions",
            headers=auth(bench.keys["surveyor"]),
            files={"file": ("names.csv", f)},
            data={"crs": "wgs84", "dry_run": "true"},
        ).json()
    shown = browser.execute_script(
        "return [...document.querySelectorAll('[data-testid=\"upload-row\"]')]"
        ".map(r => [...r.cells].map(c => c.textContent))"
    )
    assert [[c[0], c[1], c[2]] for c in shown] == [
        [str(f["row"]), f["name"], f["pinyin"]] for f in dry["features"]
    ]
    assert all(f["division_code"] in c[3] for c, f in zip(shown, dry["features"], strict=True))
    shot(browser, "flow-upload-preview-phone", tmp_path)
    tid(browser, "upload-commit").click()
    assert (
        wait_attr(browser, "upload-preview", "data-state", ("committed", "error", "problems")) == "committed"
    )
    stored = query(
        bench.url,
        "SELECT name, status, proposed_by FROM place_names WHERE name IN ('增江试验一路', "
        "'增江试验二巷') ORDER BY name",
    )
    assert stored == [
        ("增江试验一路", "proposed", PEOPLE["surveyor"]),
        ("增江试验二巷", "proposed", PEOPLE["surveyor"]),
    ]
    assert_clean(browser)


def test_an_inspection_with_a_photo(browser: webdriver.Chrome, bench: Bench, tmp_path: Path) -> None:
    sign_in(browser, bench, "surveyor", "inspect", PHONE)
    wait_attr(browser, "inspect-list", "data-state", ("ready", "error"))
    due = [r for r in rows(browser, "inspect-row") if r["kind"] == "marker"]
    assert due, "markers are due"
    marker = int(due[0]["id"])
    before = query(bench.url, "SELECT count(*) FROM marker_inspections WHERE marker_id = :m", m=marker)[0][0]
    row = browser.find_element(By.CSS_SELECTOR, f'[data-testid="inspect-row"][data-key="marker:{marker}"]')
    tid(row, "inspect-pick").click()
    Select(tid(browser, "inspect-status")).select_by_value("damaged")
    tid(browser, "inspect-note").send_keys("界桩底座开裂")
    photo = PROJECT_ROOT / "geo_service/static/vendor/leaflet-1.9.4/images/marker-icon.png"
    tid(browser, "inspect-photo").send_keys(str(photo))
    shot(browser, "flow-inspect-photo-phone", tmp_path)
    tid(browser, "inspect-submit").click()
    assert wait_attr(browser, "inspect-message", "data-state", ("ok", "error")) == "ok", tid(
        browser, "inspect-message"
    ).text
    latest = query(
        bench.url,
        "SELECT id, status, note FROM marker_inspections WHERE marker_id = :m ORDER BY id DESC LIMIT 1",
        m=marker,
    )[0]
    assert latest[1:] == ("damaged", "界桩底座开裂")
    assert (
        query(bench.url, "SELECT count(*) FROM marker_inspections WHERE marker_id = :m", m=marker)[0][0]
        == before + 1
    )
    assert query(bench.url, "SELECT status FROM boundary_markers WHERE id = :m", m=marker) == [("damaged",)]
    # The photo was uploaded and linked to this inspection, byte for byte.
    linked = query(
        bench.url,
        "SELECT a.sha256 FROM attachment_links l JOIN attachments a ON a.id = l.attachment_id "
        "WHERE l.marker_inspection_id = :i",
        i=latest[0],
    )
    assert linked == [(hashlib.sha256(photo.read_bytes()).hexdigest(),)]
    assert_clean(browser)


def test_a_sign_is_retired_from_the_inspect_page(browser: webdriver.Chrome, bench: Bench) -> None:
    place = query(
        bench.url,
        "SELECT id, name, pinyin, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
        "FROM place_names WHERE status = 'approved' AND category = 'road' ORDER BY id LIMIT 1",
    )[0]
    position = {"type": "Point", "coordinates": [place[3], place[4]]}
    body = {"place_name_id": place[0], "position": position, "installed_on": "2020-05-01"}
    body |= {"text": place[1], "pinyin": place[2]}
    made = httpx.post(f"{bench.base}/v1/place-name-signs", json=body, headers=auth(bench.keys["surveyor"]))
    assert made.status_code == 201, made.text
    sign = made.json()["id"]
    sign_in(browser, bench, "surveyor", "inspect", DESKTOP)
    tid(browser, "inspect-retire-sign").send_keys(str(sign))
    Select(tid(browser, "inspect-retire-reason")).select_by_value("removed")
    tid(browser, "inspect-retire-submit").click()
    assert wait_attr(browser, "inspect-retire-message", "data-state", ("ok", "error")) == "ok", tid(
        browser, "inspect-retire-message"
    ).text
    retired = query(
        bench.url, "SELECT retired_reason, retired_on, version FROM place_name_signs WHERE id = :i", i=sign
    )
    assert retired == [("removed", dt.date.today(), 2)]
    tid(browser, "inspect-retire-submit").click()  # again: already retired, the API's 409 is shown
    assert wait_attr(browser, "inspect-retire-message", "data-status", ("409",)) == "409"
    assert_clean(browser)


def test_an_admin_adds_a_protected_name_a_person_and_a_key(
    browser: webdriver.Chrome, bench: Bench, tmp_path: Path
) -> None:
    sign_in(browser, bench, "admin", "admin", DESKTOP)
    tid(browser, "admin-protected-name").send_keys("沙面")
    tid(browser, "admin-protected-reason").send_keys("历史文化街区")
    tid(browser, "admin-protected-add").click()
    assert wait_attr(browser, "admin-message", "data-state", ("ok", "error")) == "ok"
    until(
        browser,
        "return [...document.querySelectorAll('[data-testid=\"admin-protected-row\"]')]"
        ".some(r => r.textContent.includes('沙面'))",
    )
    assert query(bench.url, "SELECT reason FROM protected_names WHERE name = '沙面'") == [("历史文化街区",)]
    # The same name again: the API's 409, in the page's language (Chinese here), shown as the API words it.
    tid(browser, "admin-protected-name").send_keys("沙面")
    tid(browser, "admin-protected-add").click()
    assert wait_attr(browser, "admin-message", "data-state", ("error",)) == "error"
    assert attr(browser, "admin-message", "data-status") == "409"
    assert tid(browser, "admin-message").text == "受保护地名 '沙面' 已在列表中"
    tid(browser, "admin-protected-name").clear()

    tid(browser, "admin-user-name").send_keys("wb-new-surveyor")
    tid(browser, "admin-user-password").send_keys(PASSWORD)
    Select(tid(browser, "admin-user-role")).select_by_value("surveyor")
    Select(tid(browser, "admin-user-district")).select_by_value("440106")
    tid(browser, "admin-user-add").click()
    until(
        browser,
        'return document.querySelector(\'[data-testid="admin-user-row"][data-name="wb-new-surveyor"]\')',
    )
    signed = httpx.post(f"{bench.base}/v1/session", json={"name": "wb-new-surveyor", "password": PASSWORD})
    assert signed.status_code == 200 and signed.json()["district"] == "440106"

    tid(browser, "admin-key-name").send_keys("wb-gis-app")
    tid(browser, "admin-key-add").click()
    key = until(
        browser,
        "const e = document.querySelector('[data-testid=\"admin-key-value\"]'); return e && e.textContent",
    )
    who = httpx.get(f"{bench.base}/v1/session", headers=auth(key))
    assert who.status_code == 200 and who.json()["name"] == "wb-gis-app"
    assert "wb-gis-app" in [r["name"] for r in rows(browser, "admin-key-row")]
    wait_attr(browser, "audit-table", "data-state", ("ready", "error"))
    shot(browser, "flow-admin-added-desktop", tmp_path)
    assert (
        attr(browser, "audit-table", "data-state") == "ready"
        and int(attr(browser, "audit-table", "data-count") or 0) > 0
    )
    assert_clean(browser)


def test_a_planner_changes_the_controls_and_runs_siting(
    browser: webdriver.Chrome, bench: Bench, tmp_path: Path
) -> None:
    sign_in(browser, bench, "reviewer", "plan", DESKTOP)
    wait_attr(browser, "plan-message", "data-state", ("ok",))
    Select(tid(browser, "plan-type")).select_by_value("elderly_canteen")
    Select(tid(browser, "plan-level")).select_by_value("village")
    tid(browser, "plan-within").send_keys("天河区")
    tid(browser, "plan-radius").send_keys("800")
    browser.execute_script("document.querySelector('[data-testid=\"plan-message\"]').dataset.state = ''")
    tid(browser, "plan-apply").click()
    wait_attr(browser, "plan-message", "data-state", ("ok", "error"))
    api = httpx.get(
        f"{bench.base}/v1/coverage",
        params={"type": "elderly_canteen", "level": "village", "within": "440106", "radius_m": 800},
    ).json()
    assert attr(browser, "plan-message", "data-rows") == str(len(api["divisions"]))
    bars = rows(browser, "plan-bar")
    worst = sorted(api["divisions"], key=lambda r: (r["covered_area_ratio"], -r["population"]))
    assert [b["code"] for b in bars] == [r["code"] for r in worst[:40]]
    assert tid(browser, "plan-covered-population").text.startswith(
        f"{api['summary']['covered_population']:,}"
    )
    csv_link = tid(browser, "plan-dl-csv").get_attribute("href")
    assert csv_link is not None and "within=440106" in csv_link and "level=village" in csv_link
    assert httpx.get(csv_link).status_code == 200
    assert browser.execute_script("return location.search").startswith("?type=elderly_canteen&level=village")

    # What if one more canteen stood at the map's centre?
    tid(browser, "plan-add-centre").click()
    tid(browser, "plan-scenario-run").click()
    until(
        browser, "return document.querySelector('[data-testid=\"plan-scenario-delta\"]').dataset.population"
    )
    asked = json.loads(attr(browser, "plan-scenario-delta", "data-request") or "{}")
    assert len(asked["add"]) == 1 and asked["within"] == "440106" and asked["level"] == "village"
    delta = httpx.post(f"{bench.base}/v1/coverage/scenario", json=asked).json()["delta"]
    assert (
        float(attr(browser, "plan-scenario-delta", "data-population") or "nan") == delta["covered_population"]
    )

    n_sites = tid(browser, "plan-siting-n")
    n_sites.clear()
    n_sites.send_keys("2")
    tid(browser, "plan-siting-run").click()
    wait_attr(browser, "plan-sites", "data-state", ("ready", "error"))
    siting = httpx.get(
        f"{bench.base}/v1/coverage/siting",
        params={
            "type": "elderly_canteen",
            "n": 2,
            "within": "440106",
            "radius_m": 800,
            "candidates": "villages",
        },
    ).json()
    sites = rows(browser, "plan-site")
    assert [s["rank"] for s in sites] == ["1", "2"]
    assert [float(s["gain"]) for s in sites] == [
        f["properties"]["gain_population"] for f in siting["features"]
    ]
    shot(browser, "flow-plan-siting-desktop", tmp_path)
    assert_clean(browser)


def test_the_page_converts_for_amap_as_the_service_does(browser: webdriver.Chrome, bench: Bench) -> None:
    sign_in(browser, bench, "surveyor", "propose", DESKTOP)
    points = [(121.5272106, 31.1774276), (113.912316, 22.543847), (113.32, 23.12), (183.0, 45.0)]
    page = browser.execute_script(
        "return arguments[0].map(p => [GCJ02.toGcj02(p[0], p[1]), GCJ02.toWgs84(p[0], p[1])])",
        [list(p) for p in points],
    )
    for (lon, lat), (forward, back) in zip(points, page, strict=True):
        gx, gy = (float(v) for v in wgs84_to_gcj02(lon, lat))
        wx, wy = (float(v) for v in gcj02_to_wgs84(lon, lat))
        assert forward == pytest.approx([gx, gy], abs=1e-9) and back == pytest.approx([wx, wy], abs=1e-8)


def test_tapping_drawing_and_my_location_fill_the_geometry(browser: webdriver.Chrome, bench: Bench) -> None:
    sign_in(browser, bench, "surveyor", "propose", PHONE)
    until(browser, "return document.querySelector('[data-testid=\"propose-map\"]').dataset.ready")

    def geometry() -> dict[str, Any]:
        return json.loads(tid(browser, "propose-geometry").get_attribute("value") or "null")

    # A tap on the map: a point where the map says that pixel is.
    expected = browser.execute_script("""
        const m = document.querySelector('[data-testid="propose-map"]');
        const r = m.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 3];""")
    webdriver.ActionChains(browser).move_to_element_with_offset(
        tid(browser, "propose-map"),
        0,
        -int(
            browser.execute_script(
                "return document.querySelector('[data-testid=\"propose-map\"]').getBoundingClientRect().height"
            )
            / 6
        ),
    ).click().perform()
    tapped = until(browser, "return document.querySelector('[data-testid=\"propose-geometry\"]').value")
    assert json.loads(tapped)["type"] == "Point" and expected
    # A line drawn with Leaflet-Geoman: two taps, then a tap on the last point finishes it.
    tid(browser, "propose-mode-line").click()
    chain = webdriver.ActionChains(browser)
    chain.move_to_element_with_offset(tid(browser, "propose-map"), -60, 20).click().pause(0.3)
    chain.move_to_element_with_offset(tid(browser, "propose-map"), 60, 30).click().pause(
        0.3
    ).double_click().perform()
    until(
        browser,
        "return (document.querySelector('[data-testid=\"propose-geometry\"]').value || '').includes('LineString')",
    )
    line = geometry()
    assert line["type"] == "LineString" and len(line["coordinates"]) >= 2
    assert attr(browser, "propose-mode-point", "aria-pressed") == "true"
    # "Use my location" with the browser's position (127.0.0.1 counts as a secure context).
    browser.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": bench.base, "permissions": ["geolocation"]}
    )
    browser.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": 23.1291, "longitude": 113.2644, "accuracy": 8}
    )
    tid(browser, "propose-locate").click()
    wait_attr(browser, "propose-locate-message", "data-state", ("ok", "error"))
    assert geometry() == {"type": "Point", "coordinates": [113.2644, 23.1291]}
    browser.execute_cdp_cmd("Emulation.clearGeolocationOverride", {})
    assert_clean(browser)


def test_the_language_switch(browser: webdriver.Chrome, bench: Bench) -> None:
    sign_in(browser, bench, "surveyor", "upload", PHONE)
    assert browser.execute_script("return document.documentElement.lang") == "zh-CN"
    tid(browser, "lang-switch").click()
    until(browser, "return document.documentElement.lang === 'en'")
    assert browser.execute_script("return location.pathname") == "/workbench/upload"
    goto(browser, bench, "/workbench/mine")
    assert browser.execute_script("return document.documentElement.lang") == "en"  # remembered
    tid(browser, "lang-switch").click()
    until(browser, "return document.documentElement.lang === 'zh-CN'")


def test_payload_texts_never_run(browser: webdriver.Chrome, bench: Bench, tmp_path: Path) -> None:
    """Every text staff can type (a person's name, notes, comments, reasons, type names) shown as text."""
    with httpx.Client(base_url=bench.base) as http:
        signed = http.post("/v1/session", json={"name": PEOPLE["payload"], "password": PASSWORD})
        assert signed.status_code == 200
        csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
        x, y = point_in(bench.url, bench.village)["coordinates"]
        line = {"type": "LineString", "coordinates": [[x, y + 0.002], [x + 0.001, y + 0.002]]}
        made = http.post(
            "/v1/place-names",
            headers=csrf,
            json={
                "type": "Feature",
                "geometry": line,
                "properties": {"name": "棠东试验路", "category": "road", "note": PAYLOAD, "origin": PAYLOAD},
            },
        )
        assert made.status_code == 201, made.text
        place_id = made.json()["id"]
    admin = auth(bench.keys["admin"])
    assert (
        httpx.post(
            f"{bench.base}/v1/admin/protected-names",
            headers=admin,
            json={"name": "测保护", "reason": PAYLOAD},
        ).status_code
        == 201
    )
    assert (
        httpx.post(
            f"{bench.base}/v1/admin/facility-types",
            headers=admin,
            json={
                "code": "probe_type",
                "collection": "probe-types",
                "name_zh": "测" + PAYLOAD[:90],
                "name_en": PAYLOAD[:100],
                "default_radius_m": 500,
            },
        ).status_code
        == 201
    )
    sign_in(browser, bench, "reviewer", "review", DESKTOP)
    open_review(browser, place_id)
    assert PAYLOAD in tid(browser, "review-facts").text  # shown as text
    tid(browser, "review-comment").send_keys(PAYLOAD)
    tid(browser, "review-return").click()
    wait_attr(browser, "review-message", "data-state", ("ok", "error"))
    assert_clean(browser)
    sign_in(browser, bench, "payload", "mine", PHONE)
    wait_attr(browser, "mine-list", "data-state", ("ready",))
    assert PAYLOAD in tid(browser, "mine-list").text and PEOPLE["payload"] in tid(browser, "who").text
    assert_clean(browser)
    sign_in(browser, bench, "admin", "admin", DESKTOP)
    until(browser, "return document.querySelector('[data-testid=\"admin-user-row\"]')")
    wait_attr(browser, "audit-table", "data-state", ("ready", "error"))
    assert (
        PEOPLE["payload"] in tid(browser, "admin-users").text
        and PAYLOAD in tid(browser, "admin-protected-list").text
    )
    browser.execute_script("document.querySelector('#admin-protected').scrollIntoView()")
    shot(browser, "flow-payloads-as-text-desktop", tmp_path)
    goto(browser, bench, "/workbench/plan")
    assert PAYLOAD[:90] in tid(browser, "plan-type").text
    assert not browser.find_elements(By.CSS_SELECTOR, "main img[src='x'], main script:not([src])")
    assert_clean(browser)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP, (640, 450)], ids=["phone", "desktop", "desktop-200pc"])
def test_every_page_fits_and_runs_clean(
    browser: webdriver.Chrome, bench: Bench, tmp_path: Path, viewport: tuple[int, int]
) -> None:
    """Every page at a phone's width, a desktop's and a desktop at 200 % zoom (640 CSS pixels): no sideways
    scrolling, every control reachable, no script error; screenshots of each."""
    sign_in(browser, bench, "admin", "propose", viewport)
    label = {PHONE: "phone", DESKTOP: "desktop"}.get(viewport)
    for page in ("login", *PAGES):
        if page == "login":
            browser.delete_all_cookies()
        goto(browser, bench, f"/workbench/{page}")
        time.sleep(1.5)  # the page's own requests
        width = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width[0] <= width[1], (page, width)
        if label:
            shot(browser, f"{page}-{label}", tmp_path)
        focusable = browser.execute_script(
            "return [...document.querySelectorAll('main [data-testid]')]"
            ".filter(e => e.matches('input, select, textarea, "
            "button, a') && !e.disabled).every(e => e.tabIndex >= 0)"
        )
        assert focusable, page
        assert_clean(browser)
        if page == "login":
            sign_in(browser, bench, "admin", "propose", viewport)


def test_a_proposal_with_the_keyboard_only(browser: webdriver.Chrome, bench: Bench) -> None:
    """Tab to the fields, type the name and the position, Enter: proposed (no pointer, no map)."""
    sign_in(browser, bench, "surveyor", "propose", DESKTOP)
    browser.execute_script("document.activeElement.blur()")
    actions = webdriver.ActionChains(browser)
    for _ in range(60):
        actions.send_keys(Keys.TAB).perform()
        if browser.execute_script("return document.activeElement.dataset.testid") == "propose-name":
            break
    else:
        raise AssertionError("Tab never reached the name field")
    actions.send_keys("棠安试验路").perform()
    assert browser.execute_script("return document.activeElement.dataset.testid") == "propose-name"
    actions.send_keys(Keys.TAB).perform()
    assert browser.execute_script("return document.activeElement.dataset.testid") == "propose-category"
    actions.send_keys(Keys.TAB).perform()
    assert browser.execute_script("return document.activeElement.dataset.testid") == "propose-geometry"
    x, y = point_in(bench.url, bench.village)["coordinates"]
    actions.send_keys(
        json.dumps({"type": "LineString", "coordinates": [[x, y - 0.003], [x + 0.001, y - 0.003]]})
    )
    actions.send_keys(Keys.ENTER).perform()
    assert wait_attr(browser, "propose-result", "data-state", ("ok", "error")) == "ok", tid(
        browser, "propose-result"
    ).text
    place_id = int(attr(browser, "propose-result", "data-id") or 0)
    assert place(bench, place_id)["name"] == "棠安试验路"
    assert_clean(browser)


def test_on_amap_tiles_the_page_draws_in_gcj02_and_sends_wgs84(
    browser: webdriver.Chrome, bench: Bench
) -> None:
    """AMap tiles are GCJ-02: what the page draws is converted to it, what is tapped is converted back."""
    with LiveServer(bench.url, basemap="amap", sign_in_failure_pause_s=0) as amap:
        sign_in(
            browser, Bench(amap.base, bench.url, bench.keys, bench.village), "surveyor", "propose", DESKTOP
        )
        assert (
            browser.execute_script(
                "return JSON.parse(document.getElementById('wb-config').textContent).basemap.kind"
            )
            == "amap"
        )
        field = tid(browser, "propose-geometry")
        field.send_keys(json.dumps({"type": "Point", "coordinates": [113.32, 23.12]}))
        browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", field)
        drawn = until(
            browser,
            """
            let out = null;
            WB.maps[0].map.eachLayer(l => { if (l instanceof L.Marker) out = [l.getLatLng().lng, l.getLatLng().lat]; });
            return out;
        """,
        )
        gx, gy = (float(v) for v in wgs84_to_gcj02(113.32, 23.12))
        assert drawn == pytest.approx([gx, gy], abs=1e-9)  # drawn where AMap shows that place
        # A tap: the map's position (GCJ-02) goes out as WGS84.
        webdriver.ActionChains(browser).move_to_element_with_offset(
            tid(browser, "propose-map"), 40, -40
        ).click().perform()
        tapped = until(
            browser,
            """
            let out = null;
            WB.maps[0].map.eachLayer(l => { if (l instanceof L.Marker) out = [l.getLatLng().lng, l.getLatLng().lat]; });
            const g = JSON.parse(document.querySelector('[data-testid="propose-geometry"]').value);
            return out && g.coordinates[0] !== 113.32 ? [out, g.coordinates] : null;
        """,
        )
        (map_x, map_y), sent = tapped
        wx, wy = (float(v) for v in gcj02_to_wgs84(map_x, map_y))
        assert sent == pytest.approx([wx, wy], abs=2e-7)
