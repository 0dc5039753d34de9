"""Caches see every write, made through the service or not: the database bumps the data-set versions they key on.

Writes here go through a plain asyncpg connection (as from psql or an ETL job), never through the service.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from tests.conftest import run

CANTEENS = "facilities:elderly_canteen"
STATIONS = "facilities:social_work_station"
WEDDING = "facilities:wedding_cert_point"


def _execute(url: str, *statements: str) -> list[list[tuple[Any, ...]]]:
    """Run statements in one transaction on a plain asyncpg connection; the rows of each."""

    async def go() -> list[list[tuple[Any, ...]]]:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                return [[tuple(r) for r in await conn.fetch(s)] for s in statements]
        finally:
            await conn.close()

    return run(go())


def _versions(url: str) -> dict[str, int]:
    return {str(name): int(v) for name, v in _execute(url, "SELECT name, version FROM data_versions")[0]}


def test_a_write_outside_the_service_shows_at_once(fresh_client: TestClient, fresh_url: str) -> None:
    http = fresh_client
    # A village no canteen reaches: a canteen opening there changes nearest, coverage, items and the map.
    village = http.get("/v1/coverage/gaps", params={"type": "elderly_canteen", "level": "village"})
    code = village.json()["features"][0]["id"]
    centre = f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM divisions WHERE code = '{code}') s"
    ((lon, lat),) = _execute(fresh_url, centre)[0]
    box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    name = "触发器测试路"
    reads = {
        "nearest": ("/v1/facilities/nearest", {"lon": lon, "lat": lat, "type": "elderly_canteen", "k": 1}),
        "coverage": ("/v1/coverage", {"type": "elderly_canteen", "level": "township"}),
        "coverage csv": ("/v1/coverage", {"type": "elderly_canteen", "level": "township", "format": "csv"}),
        "items": ("/collections/elderly-canteens/items", {"bbox": box}),
        "coverage map": ("/maps/coverage", {"type": "elderly_canteen", "level": "district"}),
        "boundaries map": ("/maps/boundaries", {}),
        "place names": ("/v1/place-names", {"q": name}),
    }
    before = {}
    for what, (path, params) in reads.items():
        first = http.get(path, params=params)
        assert first.status_code == 200, (what, first.text)
        again = http.get(path, params=params, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, what  # kept: the same answer (map pages hold random ids otherwise)
        before[what] = first
    _execute(
        fresh_url,
        "INSERT INTO facilities (type, name, status, geometry_source, geom, district_code, township_code, "
        "village_code) SELECT 'elderly_canteen', '外部导入饭堂', 'active', 'etl', ST_PointOnSurface(geom), "
        f"left(code, 6), left(code, 9), code FROM divisions WHERE code = '{code}'",
        "UPDATE boundary_markers SET status = 'missing' WHERE id = (SELECT min(id) FROM boundary_markers "
        "WHERE status = 'intact')",
        "INSERT INTO place_names (name, specific, generic, category, pinyin, pinyin_key, status, division_code, "
        f"district_code, geometry_source, geom) VALUES ('{name}', '触发器测试', '路', 'road', "
        f"'Chufaqiceshi Lu', 'chu fa qi ce shi lu', 'approved', '{code}', '{code[:6]}', 'etl', "
        f"ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326))",
    )
    for what, (path, params) in reads.items():
        after = http.get(path, params=params, headers={"If-None-Match": before[what].headers["etag"]})
        assert after.status_code == 200, what
        assert after.headers["etag"] != before[what].headers["etag"], what
        assert after.content != before[what].content, what
    for what, expected in (("nearest", "外部导入饭堂"), ("items", "外部导入饭堂"), ("place names", name)):
        path, params = reads[what]
        assert expected in http.get(path, params=params).text, what


def test_a_facilities_write_bumps_only_the_types_it_touches(fresh_url: str) -> None:
    start = _versions(fresh_url)
    insert = (
        "INSERT INTO facilities (type, name, status, geometry_source, geom) "
        "VALUES ('elderly_canteen', 'x', 'active', 'etl', ST_SetSRID(ST_MakePoint(113.3, 23.1), 4326)) RETURNING id"
    )
    fid = _execute(fresh_url, insert)[0][0][0]
    inserted = _versions(fresh_url)
    assert inserted[CANTEENS] == start[CANTEENS] + 1 and inserted["facilities"] == start["facilities"] + 1
    assert inserted[STATIONS] == start[STATIONS] and inserted[WEDDING] == start[WEDDING]
    # A type change bumps both the old and the new type, and no other.
    _execute(fresh_url, f"UPDATE facilities SET type = 'social_work_station' WHERE id = {fid}")
    moved = _versions(fresh_url)
    assert moved[CANTEENS] == inserted[CANTEENS] + 1 and moved[STATIONS] == inserted[STATIONS] + 1
    assert moved[WEDDING] == start[WEDDING]
    _execute(fresh_url, f"DELETE FROM facilities WHERE id = {fid}")
    deleted = _versions(fresh_url)
    assert deleted[STATIONS] == moved[STATIONS] + 1 and deleted[CANTEENS] == moved[CANTEENS]
    # A statement that changes no row changes no version.
    _execute(fresh_url, "UPDATE facilities SET name = 'y' WHERE id = -1")
    assert _versions(fresh_url) == deleted
    _execute(fresh_url, "TRUNCATE facilities")
    emptied = _versions(fresh_url)
    for data_set in ("facilities", CANTEENS, STATIONS, WEDDING, "facilities:social_work_point"):
        assert emptied[data_set] == deleted[data_set] + 1, data_set


def test_a_write_to_one_type_keeps_another_types_answers(fresh_client: TestClient, fresh_url: str) -> None:
    stations = {"type": "social_work_station", "level": "township"}
    first = fresh_client.get("/v1/coverage", params=stations)
    _execute(
        fresh_url,
        "UPDATE facilities SET status = 'closed' WHERE id = (SELECT min(id) FROM facilities "
        "WHERE type = 'elderly_canteen' AND status = 'active')",
    )
    again = fresh_client.get(
        "/v1/coverage", params=stations, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


#: Every table a cache reads, with the data set its writes bump; one row of each is rewritten as it is.
TABLES = [
    ("divisions", "code", "divisions"),
    ("facility_types", "code", "facilities"),
    ("facility_types", "code", CANTEENS),
    ("boundary_lines", "code", "boundaries"),
    ("boundary_markers", "id", "boundaries"),
    ("marker_inspections", "id", "boundaries"),
    ("place_names", "id", "place_names"),
    ("place_name_history", "id", "place_names"),
    ("place_name_signs", "id", "signs"),
    ("sign_inspections", "id", "signs"),
]
#: Rows for the tables the sample leaves empty.
SEED = [
    "INSERT INTO place_name_history (place_name_id, name, pinyin) SELECT min(id), '旧名', 'Jiuming' FROM place_names",
    "INSERT INTO place_name_signs (place_name_id, text, pinyin, status, geom) "
    "SELECT id, name, pinyin, 'intact', ST_PointOnSurface(geom) FROM place_names ORDER BY id LIMIT 1",
    "INSERT INTO sign_inspections (sign_id, status, inspected_on) SELECT min(id), 'intact', current_date "
    "FROM place_name_signs",
]


@pytest.mark.parametrize(("table", "key", "data_set"), TABLES)
def test_every_table_a_cache_reads_bumps_its_data_set(
    fresh_url: str, table: str, key: str, data_set: str
) -> None:
    _execute(fresh_url, *SEED)
    before = _versions(fresh_url).get(data_set, 0)
    rewritten = _execute(
        fresh_url,
        f"UPDATE {table} SET {key} = {key} WHERE {key} = (SELECT min({key}) FROM {table}) RETURNING {key}",
    )[0]
    assert rewritten, f"no row in {table}"
    assert _versions(fresh_url).get(data_set, 0) == before + 1
