"""What the maps show is what the API answers: one record read through OGC items, a map's data, nearest and the
place-name reads has the same property values (their SQL has one source, ``services/feature_properties.py``).
Also: a map with nothing of its own to show frames the loaded data, Folium's shared Jinja environment is left
as Folium made it, and the maps' errors speak the reader's language.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import sql

_DECODER = json.JSONDecoder()


def map_layers(page: str) -> list[dict[str, Any]]:
    """The GeoJSON layers a Folium page draws (``geo_json_…_add({...})``)."""
    layers = []
    for found in re.finditer(r"_add\(\{", page):
        data, _ = _DECODER.raw_decode(page, found.end() - 1)
        if data.get("type") == "FeatureCollection":
            layers.append(data)
    return layers


def map_feature(page: str, feature_id: str | int) -> dict[str, Any]:
    """The properties (unescaped) of the feature ``feature_id`` on a map page."""
    for layer in map_layers(page):
        for f in layer["features"]:
            if f.get("id") == feature_id:
                return {k: html.unescape(v) if isinstance(v, str) else v for k, v in f["properties"].items()}
    raise AssertionError(f"no feature {feature_id!r} on the page")


def item(client: TestClient, collection: str, item_id: str | int) -> dict[str, Any]:
    resp = client.get(f"/collections/{collection}/items/{item_id}")
    assert resp.status_code == 200, resp.text
    props: dict[str, Any] = resp.json()["properties"]
    return props


def test_a_boundary_line_and_its_markers_read_the_same_on_the_map_and_through_ogc(
    client: TestClient, sample_url: str
) -> None:
    # A line whose markers are in several states and were inspected: every count and date differs from the others.
    code, district = sql(
        sample_url,
        "SELECT l.code, l.left_code FROM boundary_lines l JOIN boundary_markers m ON m.line_code = l.code "
        "JOIN divisions d ON d.code = l.left_code AND d.level = 'district' GROUP BY l.code "
        "HAVING count(*) FILTER (WHERE m.status = 'intact') BETWEEN 1 AND count(*) - 1 "
        "AND max(m.last_inspected_on) IS NOT NULL ORDER BY l.code LIMIT 1",
    )[0]
    page = client.get("/maps/boundaries", params={"district": district})
    assert page.status_code == 200
    on_map, ogc = map_feature(page.text, code), item(client, "boundary-lines", code)
    assert 0 < ogc["markers_intact"] < ogc["marker_count"]
    for name in ("name", "code", "marker_count", "markers_intact", "last_inspected_on"):
        assert on_map[name] == ogc[name], name
    assert on_map["length_km"] == f"{ogc['length_m'] / 1000:.1f}"

    marker_ids = [
        r[0] for r in sql(sample_url, "SELECT id FROM boundary_markers WHERE line_code = :c", c=code)
    ]
    for marker_id in marker_ids:
        on_map, ogc = map_feature(page.text, marker_id), item(client, "boundary-markers", marker_id)
        for name in ("number", "kind", "installed_on"):
            assert on_map[name] == ogc[name], name
        assert on_map["last_inspected_on"] == (ogc["last_inspected_on"] or "–")
        assert on_map["status"].endswith(ogc["status"])  # 完好 intact …


def test_a_facility_reads_the_same_through_nearest_ogc_and_the_finder_map(
    client: TestClient, sample_url: str
) -> None:
    fid, lon, lat = sql(
        sample_url,
        "SELECT id, ST_X(geom), ST_Y(geom) FROM facilities WHERE type = 'elderly_canteen' AND status = 'active' "
        "AND address IS NOT NULL AND village_code IS NOT NULL ORDER BY id LIMIT 1",
    )[0]
    query = {"lon": lon, "lat": lat, "type": "elderly_canteen", "k": 1}
    found = client.get("/v1/facilities/nearest", params=query).json()["features"]
    assert [f["id"] for f in found] == [fid]
    ogc = item(client, "elderly-canteens", fid)
    nearest = found[0]["properties"]
    assert set(nearest) - {"distance_m"} <= set(ogc)
    for name in set(nearest) - {"distance_m"}:
        assert nearest[name] == ogc[name], name
    assert ogc["address"] and ogc["village_code"]

    on_map = map_feature(client.get("/maps/finder", params=query).text, fid)
    assert (on_map["name"], on_map["address"]) == (ogc["name"], ogc["address"])


def test_a_place_name_reads_the_same_through_its_endpoint_and_ogc(
    client: TestClient, sample_url: str
) -> None:
    (place_id,) = sql(
        sample_url,
        "SELECT id FROM place_names WHERE status = 'approved' AND rename_of IS NULL AND approved_on IS NOT NULL "
        "ORDER BY id LIMIT 1",
    )[0]
    ogc = item(client, "place-names", place_id)
    own = client.get(f"/v1/place-names/{place_id}").json()["properties"]
    assert set(ogc) <= set(own)
    for name in ogc:
        assert own[name] == ogc[name], name


def test_a_map_with_nothing_of_its_own_frames_the_loaded_data(
    fresh_client: TestClient, fresh_url: str
) -> None:
    # No divisions at all, and the facilities moved 10° east of Guangzhou: the boundaries map has no district to
    # frame, so it frames the data there is, not a place written in the code.
    sql(fresh_url, "TRUNCATE divisions CASCADE")
    sql(fresh_url, "UPDATE facilities SET geom = ST_Translate(geom, 10, 0)")
    west, east = sql(fresh_url, "SELECT min(ST_X(geom)), max(ST_X(geom)) FROM facilities")[0]
    page = fresh_client.get("/maps/boundaries")
    assert page.status_code == 200
    framed = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", page.text, re.S)
    assert framed is not None
    south_west, north_east = json.loads(framed[1])
    assert (
        abs(south_west[1] - west) < 1e-3 and abs(north_east[1] - east) < 1e-3
    )  # ST_Extent is single precision


def test_folium_s_shared_jinja_environment_is_not_changed_by_the_service() -> None:
    # Folium's templates share one Jinja environment; the service's maps must not change it for every other user
    # of Folium in the process (issue #18).
    probe = (
        "import folium, json; env = folium.Map._template.environment\n"
        "def state(): return json.dumps([env.autoescape if isinstance(env.autoescape, bool) else 'fn', "
        "sorted(env.filters), sorted(env.globals), sorted(env.tests), repr(env.finalize), sorted(env.policies), "
        "[getattr(env, a) for a in ('block_start_string', 'variable_start_string', 'trim_blocks', 'lstrip_blocks')], "
        "repr(folium.Map._template.render)])\n"
        "before = state()\n"
        "import geo_service.api.app, geo_service.services.maps, geo_service.services.coverage_map\n"
        "import geo_service.services.map_tiles, geo_service.cli.main\n"
        "print(before == state())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


def test_map_errors_speak_the_readers_language(client: TestClient) -> None:
    zh = {"Accept-Language": "zh"}
    unknown = client.get("/maps/boundaries", params={"district": "449999"}, headers=zh)
    assert unknown.status_code == 404 and html.escape("未知的区代码 '449999'") in unknown.text
    english = client.get("/maps/boundaries", params={"district": "449999"})
    assert html.escape("unknown district code '449999'") in english.text
    basemap = client.get("/maps/boundaries", params={"basemap": "bing"}, headers=zh)
    assert basemap.status_code == 400 and html.escape("未知的底图 'bing'：请使用 osm 或 amap") in basemap.text
