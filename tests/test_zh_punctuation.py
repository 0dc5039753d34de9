"""Chinese sentences list with 、 and put a number where Chinese puts it (issue #14); English is unchanged."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import sql as query
from tests.writes_helpers import auth, make_keys

ZH = {"Accept-Language": "zh"}


def test_formats_are_listed_with_the_chinese_comma(client: TestClient) -> None:
    url, params = "/collections/villages/items", {"f": "pdf"}
    en, zh = client.get(url, params=params), client.get(url, params=params, headers=ZH)
    assert en.status_code == zh.status_code == 400
    assert en.json()["detail"] == "f must be one of json, geojson, html"
    assert zh.json()["detail"] == "f 必须是以下之一：json、geojson、html"


def test_a_far_move_names_the_marker_by_its_number(fresh_client: TestClient, fresh_url: str) -> None:
    key = auth(make_keys(fresh_url)["surveyor"])
    marker, x, y = query(
        fresh_url, "SELECT id, ST_X(geom), ST_Y(geom) FROM boundary_markers ORDER BY id LIMIT 1"
    )[0]
    body = {
        "status": "moved",
        "inspected_on": "2024-05-01",
        "position": {"type": "Point", "coordinates": [x + 0.05, y]},
    }
    resp = fresh_client.post(f"/v1/boundary-markers/{marker}/inspections", json=body, headers={**key, **ZH})
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["message"].startswith(f"所报位置距 {marker} 号界桩 ")
