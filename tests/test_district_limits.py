"""Callers limited to one district write signs, inspections and facilities only there (403 outside, nothing
written); city-wide callers write anywhere; lists of work start from the limited caller's district. Real HTTP on
real PostGIS; the districts of the records are read from the database (the oracle), not assumed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from geo_service.db.engine import create_engine
from geo_service.services import keys as api_keys
from tests.conftest import run
from tests.conftest import sql as query
from tests.writes_helpers import auth, make_keys, point_in

HOME, AWAY = "440118", "440117"  # 从化区, 增城区 (the sample names places in the outer districts)
ZH = {"Accept-Language": "zh"}


def _limited_keys(url: str, district: str) -> dict[str, str]:
    """A surveyor and an editor key limited to ``district``."""

    async def go() -> dict[str, str]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                return {
                    role: await api_keys.create(conn, f"zone-{role}", role, district=district)
                    for role in ("surveyor", "editor")
                }
        finally:
            await engine.dispose()

    return run(go())


@pytest.fixture
def city(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


@pytest.fixture
def zone(fresh_url: str) -> dict[str, str]:
    return _limited_keys(fresh_url, HOME)


def _count(url: str, table: str) -> int:
    return int(query(url, f"SELECT count(*) FROM {table}")[0][0])


# --- signs --------------------------------------------------------------------------------------------------


def _road_in(url: str, district: str) -> tuple[int, str, str, dict[str, Any]]:
    """An approved road of a district and a point on it that lies in the same district."""
    row = query(
        url,
        "SELECT p.id, p.name, p.pinyin, ST_X(s.pt), ST_Y(s.pt) FROM place_names p "
        "CROSS JOIN LATERAL (SELECT ST_PointOnSurface(p.geom) AS pt) s "
        "JOIN divisions d ON d.code = :d AND ST_Contains(d.geom, s.pt) "
        "WHERE p.status = 'approved' AND p.rename_of IS NULL AND p.category = 'road' AND p.district_code = :d "
        "ORDER BY p.id LIMIT 1",
        d=district,
    )[0]
    return row[0], row[1], row[2], {"type": "Point", "coordinates": [row[3], row[4]]}


def _sign(c: TestClient, key: str, road: tuple[int, str, str, dict[str, Any]], **headers: str) -> Any:
    body = {
        "place_name_id": road[0],
        "position": road[3],
        "installed_on": "2024-03-01",
        "text": road[1],
        "pinyin": road[2],
    }
    return c.post("/v1/place-name-signs", json=body, headers={**auth(key), **headers})


def test_signs_of_a_limited_surveyor_stay_in_its_district(
    fresh_client: TestClient, fresh_url: str, city: dict[str, str], zone: dict[str, str]
) -> None:
    c = fresh_client
    home, away = _road_in(fresh_url, HOME), _road_in(fresh_url, AWAY)
    before = _count(fresh_url, "place_name_signs")
    refused = _sign(c, zone["surveyor"], away)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == (
        f"'zone-surveyor' acts in district {HOME} only: the sign's place, place name {away[0]}, "
        f"lies in district {AWAY}"
    )
    chinese = _sign(c, zone["surveyor"], away, **ZH)
    assert chinese.status_code == 403
    assert chinese.json()["detail"] == (
        f"'zone-surveyor' 只能在行政区 {HOME} 内办理：该标志所指的地名（编号 {away[0]}）位于行政区 {AWAY}"
    )
    assert _count(fresh_url, "place_name_signs") == before

    mine = _sign(c, zone["surveyor"], home)
    assert mine.status_code == 201, mine.text
    assert mine.json()["properties"]["district_code"] == HOME
    theirs = _sign(c, city["surveyor"], away)  # a city-wide surveyor registers anywhere
    assert theirs.status_code == 201, theirs.text
    mine_id, their_id = mine.json()["id"], theirs.json()["id"]

    # Retiring and inspecting: only the signs standing in the district.
    retire = {"reason": "removed", "on": "2025-01-02"}
    denied = c.post(
        f"/v1/place-name-signs/{their_id}/retire",
        json=retire,
        headers={**auth(zone["surveyor"]), "If-Match": '"1"'},
    )
    assert (
        denied.status_code == 403
        and f"place-name sign {their_id} stands in district {AWAY}" in denied.json()["detail"]
    )
    assert query(fresh_url, "SELECT retired_on, version FROM place_name_signs WHERE id = :i", i=their_id)[
        0
    ] == (
        None,
        1,
    )
    inspection = {"status": "intact", "inspected_on": "2025-01-01"}
    count = "SELECT count(*) FROM sign_inspections WHERE sign_id = :i"
    assert (
        c.post(
            f"/v1/place-name-signs/{their_id}/inspections", json=inspection, headers=auth(zone["surveyor"])
        ).status_code
        == 403
    )
    assert query(fresh_url, count, i=their_id)[0][0] == 0
    assert (
        c.post(
            f"/v1/place-name-signs/{mine_id}/inspections", json=inspection, headers=auth(zone["surveyor"])
        ).status_code
        == 201
    )
    retired = c.post(
        f"/v1/place-name-signs/{mine_id}/retire",
        json=retire,
        headers={**auth(zone["surveyor"]), "If-Match": '"2"'},
    )
    assert retired.status_code == 200, retired.text
    assert (
        c.post(
            f"/v1/place-name-signs/{their_id}/retire",
            json=retire,
            headers={**auth(city["surveyor"]), "If-Match": '"1"'},
        ).status_code
        == 200
    )


def test_a_sign_of_a_home_place_standing_over_the_border_is_refused(
    fresh_client: TestClient, fresh_url: str, zone: dict[str, str]
) -> None:
    """The place is in the district, but the sign would stand in the neighbouring one (within 500 m)."""
    found = query(
        fresh_url,
        "SELECT p.id, p.name, p.pinyin, ST_X(q.pt), ST_Y(q.pt), o.code FROM place_names p "
        "JOIN divisions o ON o.level = 'district' AND o.code <> :d "
        "AND ST_DWithin(o.geom::geography, p.geom::geography, 200) "
        "CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_Intersection(o.geom, "
        "ST_Buffer(p.geom::geography, 250)::geometry)) AS pt) q "
        "WHERE p.status = 'approved' AND p.rename_of IS NULL AND p.district_code = :d "
        "AND ST_Distance(p.geom::geography, q.pt::geography) < 450 "
        "AND NOT EXISTS (SELECT 1 FROM divisions h WHERE h.code = :d AND ST_Covers(h.geom, q.pt)) "
        "ORDER BY p.id LIMIT 1",
        d=HOME,
    )[0]
    place = (found[0], found[1], found[2], {"type": "Point", "coordinates": [found[3], found[4]]})
    before = _count(fresh_url, "place_name_signs")
    refused = _sign(fresh_client, zone["surveyor"], place)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == (
        f"'zone-surveyor' acts in district {HOME} only: the sign would stand in district {found[5]}"
    )
    assert _count(fresh_url, "place_name_signs") == before


def test_the_work_order_of_a_limited_caller_is_its_district(
    fresh_client: TestClient, fresh_url: str, city: dict[str, str], zone: dict[str, str]
) -> None:
    c = fresh_client
    for district in (HOME, AWAY):
        assert _sign(c, city["surveyor"], _road_in(fresh_url, district)).status_code == 201

    def districts(key: str | None, **params: str) -> set[str]:
        resp = c.get("/v1/place-name-signs", params=params, headers=auth(key) if key else {})
        assert resp.status_code == 200, resp.text
        return {f["properties"]["district_code"] for f in resp.json()["features"]}

    assert districts(zone["surveyor"]) == {HOME}
    assert districts(zone["surveyor"], district=AWAY) == {AWAY}  # reads stay open when asked
    assert districts(city["surveyor"]) == districts(None) == {HOME, AWAY}


# --- inspections --------------------------------------------------------------------------------------------


def _markers(url: str) -> tuple[int, int, str, str]:
    """A marker on a line HOME is a side of, and one on a line it is not (with that line's sides)."""
    side = query(
        url,
        "SELECT m.id FROM boundary_markers m JOIN boundary_lines l ON l.code = m.line_code "
        "WHERE left(l.left_code, 6) = :d OR left(l.right_code, 6) = :d ORDER BY m.id LIMIT 1",
        d=HOME,
    )[0][0]
    other = query(
        url,
        "SELECT m.id, l.left_code, l.right_code FROM boundary_markers m JOIN boundary_lines l "
        "ON l.code = m.line_code WHERE left(l.left_code, 6) <> :d AND left(l.right_code, 6) <> :d "
        "ORDER BY m.id LIMIT 1",
        d=HOME,
    )[0]
    return side, other[0], other[1], other[2]


def test_either_side_inspects_a_marker_and_no_one_else(
    fresh_client: TestClient, fresh_url: str, city: dict[str, str], zone: dict[str, str]
) -> None:
    c = fresh_client
    side, other, left, right = _markers(fresh_url)
    count = "SELECT count(*) FROM marker_inspections WHERE marker_id = :m"
    before = query(fresh_url, count, m=other)[0][0]
    body = {"status": "intact", "inspected_on": "2025-06-01"}
    url = "/v1/boundary-markers/{}/inspections"
    refused = c.post(url.format(other), json=body, headers=auth(zone["surveyor"]))
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == (
        f"'zone-surveyor' acts in district {HOME} only: boundary marker {other} lies between districts "
        f"{left[:6]} and {right[:6]}"
    )
    chinese = c.post(url.format(other), json=body, headers={**auth(zone["surveyor"]), **ZH})
    assert chinese.status_code == 403 and chinese.json()["detail"] == (
        f"'zone-surveyor' 只能在行政区 {HOME} 内办理：界桩 {other} 位于行政区 {left[:6]} 与 {right[:6]} 之间，"
        "只有这两侧的人员可以检查"
    )
    joint = {**body, "inspectors": [{"name": "甲", "side": left}, {"name": "乙", "side": right}]}
    assert c.post(url.format(other), json=joint, headers=auth(zone["surveyor"])).status_code == 403
    assert query(fresh_url, count, m=other)[0][0] == before

    assert c.post(url.format(side), json=body, headers=auth(zone["surveyor"])).status_code == 201
    sides = query(
        fresh_url,
        "SELECT l.left_code, l.right_code FROM boundary_markers m JOIN boundary_lines l ON l.code = m.line_code "
        "WHERE m.id = :m",
        m=side,
    )[0]
    people = [{"name": "甲", "side": sides[0]}, {"name": "乙", "side": sides[1]}]
    joint_home = c.post(url.format(side), json={**body, "inspectors": people}, headers=auth(zone["surveyor"]))
    assert joint_home.status_code == 201, joint_home.text
    assert c.post(url.format(other), json=joint, headers=auth(city["surveyor"])).status_code == 201


def test_what_is_due_for_a_limited_inspector_is_its_district(
    fresh_client: TestClient, fresh_url: str, city: dict[str, str], zone: dict[str, str]
) -> None:
    c = fresh_client
    for district in (HOME, AWAY):  # signs never inspected: due
        assert _sign(c, city["surveyor"], _road_in(fresh_url, district)).status_code == 201
    query(fresh_url, "UPDATE boundary_markers SET last_inspected_on = NULL")  # every marker due

    def due(key: str, **params: str) -> list[dict[str, Any]]:
        resp = c.get("/v1/inspections/due", params={"limit": "1000", **params}, headers=auth(key))
        assert resp.status_code == 200, resp.text
        return [f["properties"] for f in resp.json()["features"]]

    home_markers = {
        r[0]
        for r in query(
            fresh_url,
            "SELECT m.id FROM boundary_markers m JOIN boundary_lines l ON l.code = m.line_code "
            "WHERE left(l.left_code, 6) = :d OR left(l.right_code, 6) = :d",
            d=HOME,
        )
    }
    mine = due(zone["surveyor"], near="113.59,23.55")
    assert {p["record_id"] for p in mine if p["kind"] == "marker"} == home_markers
    assert {p["district_code"] for p in mine if p["kind"] == "sign"} == {HOME}
    everywhere = due(city["surveyor"])
    assert {p["district_code"] for p in everywhere if p["kind"] == "sign"} == {HOME, AWAY}
    asked = due(zone["surveyor"], district=AWAY)
    assert {p["district_code"] for p in asked if p["kind"] == "sign"} == {AWAY}


# --- facilities ---------------------------------------------------------------------------------------------


def _facility(point: dict[str, Any], name: str) -> dict[str, Any]:
    return {"type": "Feature", "geometry": point, "properties": {"type": "elderly_canteen", "name": name}}


def test_facilities_of_a_limited_editor_stay_in_its_district(
    fresh_client: TestClient, fresh_url: str, city: dict[str, str], zone: dict[str, str]
) -> None:
    c = fresh_client
    home, away = point_in(fresh_url, HOME), point_in(fresh_url, AWAY)
    before = _count(fresh_url, "facilities")
    refused = c.post("/v1/facilities", json=_facility(away, "越界长者饭堂"), headers=auth(zone["editor"]))
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == (
        f"'zone-editor' acts in district {HOME} only: the facility would stand in district {AWAY}"
    )
    chinese = c.post(
        "/v1/facilities", json=_facility(away, "越界长者饭堂"), headers={**auth(zone["editor"]), **ZH}
    )
    assert chinese.status_code == 403
    assert chinese.json()["detail"] == f"'zone-editor' 只能在行政区 {HOME} 内办理：该设施将位于行政区 {AWAY}"
    assert _count(fresh_url, "facilities") == before

    mine = c.post("/v1/facilities", json=_facility(home, "本区长者饭堂"), headers=auth(zone["editor"]))
    assert mine.status_code == 201, mine.text
    mine_id = mine.json()["id"]
    theirs = c.post("/v1/facilities", json=_facility(away, "海珠长者饭堂"), headers=auth(city["editor"]))
    assert theirs.status_code == 201, theirs.text
    their_id = theirs.json()["id"]
    version = "SELECT version, name, district_code, status FROM facilities WHERE id = :i"

    # A move out of the district: refused, the facility as it was.
    moved = c.patch(
        f"/v1/facilities/{mine_id}",
        json={"geometry": away},
        headers={**auth(zone["editor"]), "If-Match": '"1"'},
    )
    assert moved.status_code == 403 and moved.json()["detail"] == (
        f"'zone-editor' acts in district {HOME} only: the new position lies in district {AWAY}"
    )
    assert query(fresh_url, version, i=mine_id)[0] == (1, "本区长者饭堂", HOME, "active")
    # Another district's facility: no edit, no move into the district, no closing.
    for attempt in (
        c.patch(
            f"/v1/facilities/{their_id}",
            json={"name": "改名饭堂"},
            headers={**auth(zone["editor"]), "If-Match": '"1"'},
        ),
        c.patch(
            f"/v1/facilities/{their_id}",
            json={"geometry": home},
            headers={**auth(zone["editor"]), "If-Match": '"1"'},
        ),
        c.delete(f"/v1/facilities/{their_id}", headers={**auth(zone["editor"]), "If-Match": '"1"'}),
    ):
        assert attempt.status_code == 403, attempt.text
        assert f"facility {their_id} stands in district {AWAY}" in attempt.json()["detail"]
    assert query(fresh_url, version, i=their_id)[0] == (1, "海珠长者饭堂", AWAY, "active")

    renamed = c.patch(
        f"/v1/facilities/{mine_id}",
        json={"name": "本区颐康饭堂"},
        headers={**auth(zone["editor"]), "If-Match": '"1"'},
    )
    assert renamed.status_code == 200, renamed.text
    closed = c.delete(f"/v1/facilities/{mine_id}", headers={**auth(zone["editor"]), "If-Match": '"2"'})
    assert closed.status_code == 200, closed.text
    assert (
        c.patch(
            f"/v1/facilities/{their_id}",
            json={"geometry": home},
            headers={**auth(city["editor"]), "If-Match": '"1"'},
        ).status_code
        == 200
    )


def _import(c: TestClient, key: str, rows: list[tuple[str, dict[str, Any]]], **headers: str) -> Any:
    lines = ["名称,经度,纬度"] + [f"{n},{p['coordinates'][0]},{p['coordinates'][1]}" for n, p in rows]
    return c.post(
        "/v1/facilities/import",
        headers={**auth(key), **headers},
        data={"type": "elderly_canteen", "crs": "wgs84"},
        files={"file": ("canteens.csv", ("\n".join(lines) + "\n").encode(), "text/csv")},
    )


def test_an_import_with_a_row_outside_the_district_writes_nothing(
    fresh_client: TestClient, fresh_url: str, city: dict[str, str], zone: dict[str, str]
) -> None:
    c = fresh_client
    home, away = point_in(fresh_url, HOME), point_in(fresh_url, AWAY)
    rows = [("本区导入饭堂", home), ("外区导入饭堂", away)]
    before = _count(fresh_url, "facilities")
    refused = _import(c, zone["editor"], rows)
    assert refused.status_code == 403, refused.text
    body = refused.json()
    assert body["detail"] == f"1 of 2 row(s) lie outside district {HOME}, where you act: nothing was written"
    assert [(e["index"], e["row"], e["name"], e["rule"]) for e in body["errors"]] == [
        (1, 3, "外区导入饭堂", "district")
    ]
    assert (
        body["errors"][0]["message"]
        == f"'外区导入饭堂' lies in district {AWAY}, outside district {HOME} where you act"
    )
    chinese = _import(c, zone["editor"], rows, **ZH).json()
    assert chinese["detail"] == f"2 行中有 1 行不在您办理业务的行政区 {HOME} 内：未写入任何内容"
    assert chinese["errors"][0]["rule"] == "district"
    assert _count(fresh_url, "facilities") == before

    assert _import(c, zone["editor"], rows[:1]).status_code == 201
    assert _import(c, city["editor"], rows[1:]).status_code == 201
    assert _count(fresh_url, "facilities") == before + 2
