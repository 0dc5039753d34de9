"""Field work over real HTTP on real PostGIS: signs (500 m rule, retire with If-Match, work orders to replace),
marker inspections (far moves, joint inspectors), what is due for inspection. Distances are checked against
pyproj's geodesic (an independent oracle), dates against Python's calendar."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from fastapi.testclient import TestClient
from pyproj import Geod

from geo_service.domain.crs import from_wgs84
from tests.conftest import sql as query
from tests.writes_helpers import auth, make_keys

GEOD = Geod(ellps="WGS84")
TODAY = dt.date.today()


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def _east_end(url: str, place_id: int) -> tuple[float, float]:
    """The place's easternmost vertex: a point due east of it is nearest to it of the whole line."""
    rows = query(
        url,
        "SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_DumpPoints(geom)).geom g FROM place_names "
        "WHERE id = :i) s ORDER BY ST_X(g) DESC LIMIT 1",
        i=place_id,
    )
    return rows[0]


def _east(lon: float, lat: float, metres: float) -> dict[str, Any]:
    x, y, _ = GEOD.fwd(lon, lat, 90, metres)
    return {"type": "Point", "coordinates": [x, y]}


def _road(url: str, offset: int = 0) -> tuple[int, str, str, str]:
    """An approved road of the sample (id, name, pinyin, district)."""
    return query(
        url,
        "SELECT id, name, pinyin, district_code FROM place_names WHERE status = 'approved' AND "
        "rename_of IS NULL AND category = 'road' ORDER BY id OFFSET :o LIMIT 1",
        o=offset,
    )[0]


def _register(
    c: TestClient, key: str, place: tuple[int, str, str, str], position: dict[str, Any], **extra: Any
) -> Any:
    body = {
        "place_name_id": place[0],
        "position": position,
        "installed_on": "2024-03-01",
        "text": place[1],
        "pinyin": place[2],
        **extra,
    }
    return c.post("/v1/place-name-signs", json=body, headers=auth(key))


def _rename(c: TestClient, keys: dict[str, str], place_id: int, new_name: str) -> None:
    proposal = c.post(
        f"/v1/place-names/{place_id}/rename", json={"name": new_name}, headers=auth(keys["surveyor"])
    )
    assert proposal.status_code == 201, proposal.text
    decided = c.post(
        f"/v1/place-names/{proposal.json()['id']}/review",
        json={"decision": "approve"},
        headers={**auth(keys["reviewer"]), "If-Match": '"1"'},
    )
    assert decided.status_code == 200, decided.text


# --- signs --------------------------------------------------------------------------------------------------


def test_a_sign_stands_within_500_m_of_its_place(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    place = _road(fresh_url)
    lon, lat = _east_end(fresh_url, place[0])
    far, near = _east(lon, lat, 520), _east(lon, lat, 480)
    for point, metres in (
        (far, 520),
        (near, 480),
    ):  # the oracle: pyproj's geodesic from the place's nearest point
        assert GEOD.inv(lon, lat, *point["coordinates"])[2] == pytest.approx(metres, abs=0.01)
    before = query(fresh_url, "SELECT count(*) FROM place_name_signs")[0][0]
    refused = _register(fresh_client, keys["surveyor"], place, far)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["rule"] == "sign_distance" and "520 m" in error["message"] and "500 m" in error["message"]
    assert refused.json()["detail"] == error["message"]  # the detail tells the one problem, not another
    body = {"place_name_id": place[0], "position": far, "installed_on": "2024-03-01", "text": place[1]}
    zh = {**auth(keys["surveyor"]), "Accept-Language": "zh"}
    in_zh = fresh_client.post("/v1/place-name-signs", json={**body, "pinyin": place[2]}, headers=zh).json()
    assert in_zh["detail"] == in_zh["errors"][0]["message"] and "520 米" in in_zh["detail"]
    assert query(fresh_url, "SELECT count(*) FROM place_name_signs")[0][0] == before
    accepted = _register(fresh_client, keys["surveyor"], place, near)
    assert accepted.status_code == 201, accepted.text
    props = accepted.json()["properties"]
    assert props["district_code"] == place[3] and props["to_replace"] is False and props["retired_on"] is None
    assert accepted.headers["etag"] == '"1"'
    # The same spot sent in GCJ-02 (a phone map's coordinates) is the same spot: accepted; taken as WGS84 it is
    # some 600 m off and refused.
    gcj = [float(v) for v in from_wgs84("gcj02", *near["coordinates"])]
    assert (
        _register(
            fresh_client, keys["surveyor"], place, {"type": "Point", "coordinates": gcj}, crs="gcj02"
        ).status_code
        == 201
    )
    misread = _register(fresh_client, keys["surveyor"], place, {"type": "Point", "coordinates": gcj})
    assert misread.status_code == 422 and misread.json()["errors"][0]["rule"] == "sign_distance"


def test_renamed_signs_make_a_work_order_per_district(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, surveyor = fresh_client, keys["surveyor"]
    place, other = _road(fresh_url), _road(fresh_url, 1)
    spot = _east(*_east_end(fresh_url, place[0]), 20)
    old_sign = _register(c, surveyor, place, spot).json()
    second = _register(c, surveyor, place, _east(*_east_end(fresh_url, place[0]), 40)).json()
    untouched = _register(c, surveyor, other, _east(*_east_end(fresh_url, other[0]), 10)).json()
    assert c.get("/v1/place-name-signs", params={"to_replace": "true"}).json()["features"] == []
    _rename(c, keys, place[0], "禾雀新东路")
    # The rename took effect 40 days ago (as if approved then): the work order counts the days since.
    query(
        fresh_url,
        "UPDATE place_name_history SET valid_to = :d WHERE place_name_id = :p",
        d=TODAY - dt.timedelta(days=40),
        p=place[0],
    )
    listed = c.get("/v1/place-name-signs", params={"to_replace": "true", "district": place[3]}).json()
    assert [f["id"] for f in listed["features"]] == [old_sign["id"], second["id"]]
    first = listed["features"][0]["properties"]
    assert first["current_name"] == "禾雀新东路" and first["text"] == place[1] and first["to_replace"] is True
    assert first["current_pinyin"] == c.get(f"/v1/place-names/{place[0]}").json()["properties"]["pinyin"]
    assert (
        first["days_since_rename"] == 40
        and first["renamed_on"] == (TODAY - dt.timedelta(days=40)).isoformat()
    )
    assert listed["features"][0]["geometry"]["coordinates"] == pytest.approx(spot["coordinates"], abs=1e-7)
    elsewhere = "440118" if place[3] != "440118" else "440117"
    assert (
        c.get("/v1/place-name-signs", params={"to_replace": "true", "district": elsewhere}).json()["features"]
        == []
    )
    everything = c.get("/v1/place-name-signs", params={"to_replace": "false"}).json()["features"]
    assert untouched["id"] in [f["id"] for f in everything]
    assert c.get("/v1/place-name-signs", params={"district": "4401"}).status_code == 422
    # The sign's record changed (it is to replace now): its version moved on.
    assert c.get(f"/v1/place-name-signs/{old_sign['id']}").headers["etag"] == '"2"'


def test_the_work_order_downloads_as_csv_without_formulas(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    """An ETL job loaded a place whose name reads like a formula (the rules would refuse it; SQL does not)."""
    place = _road(fresh_url)
    spot = _east(*_east_end(fresh_url, place[0]), 30)
    sign = _register(fresh_client, keys["surveyor"], place, spot).json()["id"]
    query(
        fresh_url, 'UPDATE place_name_signs SET text = \'=HYPERLINK("http://x","点")\' WHERE id = :i', i=sign
    )
    query(
        fresh_url,
        "INSERT INTO place_name_history (place_name_id, name, pinyin, valid_from, valid_to) VALUES "
        "(:p, '=HYPERLINK(\"http://x\",\"点\")', 'x', '2000-01-01', :d)",
        p=place[0],
        d=TODAY - dt.timedelta(days=3),
    )
    resp = fresh_client.get(
        "/v1/place-name-signs", params={"to_replace": "true", "district": place[3], "format": "csv"}
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert f'filename="signs_to_replace_{place[3]}.csv"' in resp.headers["content-disposition"]
    assert resp.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in resp.content
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["标志编号 sign_id"] == str(sign) and row["现名称 current_name"] == place[1]
    assert row["标志所示名称 text"] == '\'=HYPERLINK("http://x","点")'  # text, not a formula
    assert row["距更名天数 days_since_rename"] == "3" and row["区划代码 district_code"] == place[3]
    assert float(row["经度 lon"]) == pytest.approx(spot["coordinates"][0], abs=1e-7)
    assert (
        row["区 district"] == query(fresh_url, "SELECT name FROM divisions WHERE code = :c", c=place[3])[0][0]
    )


def test_retiring_a_sign_needs_if_match_and_takes_it_off_the_work_order(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, surveyor = fresh_client, auth(keys["surveyor"])
    place = _road(fresh_url)
    sign = _register(c, keys["surveyor"], place, _east(*_east_end(fresh_url, place[0]), 25)).json()["id"]
    keep = _register(c, keys["surveyor"], place, _east(*_east_end(fresh_url, place[0]), 60)).json()["id"]
    _rename(c, keys, place[0], "禾雀旧改路")
    url = f"/v1/place-name-signs/{sign}/retire"
    body = {"reason": "replaced", "on": TODAY.isoformat()}
    etag = c.get(f"/v1/place-name-signs/{sign}").headers["etag"]
    assert etag == '"2"'
    assert c.post(url, json=body, headers=surveyor).status_code == 428
    assert c.post(url, json=body, headers={**surveyor, "If-Match": '"1"'}).status_code == 412
    assert c.post(url, json=body, headers={**surveyor, "If-Match": "not a tag"}).status_code == 400
    retired = c.post(url, json=body, headers={**surveyor, "If-Match": etag})
    assert retired.status_code == 200 and retired.headers["etag"] == '"3"'
    assert retired.json()["properties"]["attachment_ids"] == []  # the surveyor's answer: the staff view
    after = c.get(f"/v1/place-name-signs/{sign}")
    assert "attachment_ids" not in after.json()["properties"]  # the public's
    props = after.json()["properties"]
    assert props["retired_on"] == TODAY.isoformat() and props["retired_reason"] == "replaced"
    assert props["to_replace"] is False and after.headers["etag"] == '"3"'
    listed = c.get("/v1/place-name-signs", params={"to_replace": "true"}).json()["features"]
    assert [f["id"] for f in listed] == [keep]  # the other sign still stands and still shows the old name
    again = c.post(url, json=body, headers={**surveyor, "If-Match": '"3"'})
    assert again.status_code == 409 and "already retired" in again.json()["detail"]
    inspected = c.post(
        f"/v1/place-name-signs/{sign}/inspections",
        headers=surveyor,
        json={"status": "intact", "inspected_on": TODAY.isoformat()},
    )
    assert inspected.status_code == 409 and "retired" in inspected.json()["detail"]
    assert (
        query(
            fresh_url,
            "SELECT action FROM audit_log WHERE entity = 'place_name_sign' AND entity_id = :i "
            "ORDER BY id DESC LIMIT 1",
            i=str(sign),
        )[0][0]
        == "retire"
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"reason": "stolen", "on": "2026-01-01"}, 422),
        ({"reason": "removed"}, 422),
        ({"reason": "removed", "on": "2999-01-01"}, 400),
        ({"reason": "removed", "on": "2024-02-01"}, 400),  # before it was installed (2024-03-01)
    ],
)
def test_a_retirement_must_make_sense(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str], body: dict[str, Any], status: int
) -> None:
    place = _road(fresh_url)
    sign = _register(
        fresh_client, keys["surveyor"], place, _east(*_east_end(fresh_url, place[0]), 25)
    ).json()["id"]
    resp = fresh_client.post(
        f"/v1/place-name-signs/{sign}/retire",
        json=body,
        headers={**auth(keys["surveyor"]), "If-Match": '"1"'},
    )
    assert resp.status_code == status and resp.json()["detail"]
    assert query(fresh_url, "SELECT retired_on FROM place_name_signs WHERE id = :i", i=sign)[0][0] is None
    missing = fresh_client.post(
        "/v1/place-name-signs/999999/retire",
        json={"reason": "removed", "on": "2025-01-01"},
        headers={**auth(keys["surveyor"]), "If-Match": "*"},
    )
    assert missing.status_code == 404


def test_attachments_on_signs_and_inspections_must_exist(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    place = _road(fresh_url)
    spot = _east(*_east_end(fresh_url, place[0]), 25)
    counts = "SELECT (SELECT count(*) FROM place_name_signs), (SELECT count(*) FROM attachment_links)"
    before = query(fresh_url, counts)[0]
    unknown = _register(fresh_client, keys["surveyor"], place, spot, attachment_ids=[424242])
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["rule"] == "attachment_ids"
    assert "424242" in unknown.json()["detail"] and query(fresh_url, counts)[0] == before
    marker = query(fresh_url, "SELECT id FROM boundary_markers ORDER BY id LIMIT 1")[0][0]
    inspections = query(fresh_url, "SELECT count(*) FROM marker_inspections")[0][0]
    resp = fresh_client.post(
        f"/v1/boundary-markers/{marker}/inspections",
        headers=auth(keys["surveyor"]),
        json={"status": "intact", "inspected_on": "2026-01-01", "attachment_ids": [424242]},
    )
    assert (
        resp.status_code == 422
        and query(fresh_url, "SELECT count(*) FROM marker_inspections")[0][0] == inspections
    )
    proposal = fresh_client.post(
        "/v1/place-names",
        headers=auth(keys["surveyor"]),
        json={
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [spot["coordinates"], _east(*spot["coordinates"], 100)["coordinates"]],
            },
            "properties": {"name": "禾雀附件路", "category": "road"},
            "attachment_ids": [424242],
        },
    )
    assert proposal.status_code == 422
    assert query(fresh_url, "SELECT count(*) FROM place_names WHERE name = '禾雀附件路'")[0][0] == 0


# --- boundary markers ---------------------------------------------------------------------------------------


def _marker(url: str) -> tuple[int, float, float, str, str]:
    return query(
        url,
        "SELECT m.id, ST_X(m.geom), ST_Y(m.geom), l.left_code, l.right_code FROM boundary_markers m "
        "JOIN boundary_lines l ON l.code = m.line_code ORDER BY m.id LIMIT 1",
    )[0]


def test_a_marker_moved_over_a_kilometre_needs_confirming(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    marker, lon, lat, _, _ = _marker(fresh_url)
    url = f"/v1/boundary-markers/{marker}/inspections"
    far, near = _east(lon, lat, 1030), _east(lon, lat, 970)
    assert GEOD.inv(lon, lat, *far["coordinates"])[2] == pytest.approx(1030, abs=0.01)

    def inspect(status: str, position: dict[str, Any], **extra: Any) -> Any:
        body = {"status": status, "inspected_on": "2026-02-01", "position": position, **extra}
        return fresh_client.post(url, json=body, headers=auth(keys["surveyor"]))

    count = "SELECT count(*) FROM marker_inspections WHERE marker_id = :m"
    before = query(fresh_url, count, m=marker)[0][0]
    refused = inspect("moved", far)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert (
        error["rule"] == "far_move"
        and "1,030 m" in error["message"]
        and "confirm_far_move" in error["message"]
    )
    assert query(fresh_url, count, m=marker)[0][0] == before
    assert query(fresh_url, "SELECT status FROM boundary_markers WHERE id = :m", m=marker)[0][0] != "moved"
    assert inspect("moved", near).status_code == 201
    confirmed = inspect("moved", far, confirm_far_move=True)
    assert confirmed.status_code == 201 and confirmed.json()["marker"]["status"] == "moved"
    assert inspect("damaged", far).status_code == 201  # only a move is judged by its distance
    gcj = [float(v) for v in from_wgs84("gcj02", *far["coordinates"])]
    assert inspect("moved", {"type": "Point", "coordinates": gcj}, crs="gcj02").status_code == 422
    assert query(fresh_url, count, m=marker)[0][0] == before + 3


def test_joint_inspections_name_inspectors_from_both_sides(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    marker, _, _, left, right = _marker(fresh_url)
    url = f"/v1/boundary-markers/{marker}/inspections"
    outsider = next(d for d in ("440105", "440106", "440111") if d not in (left, right))
    body = {"status": "intact", "inspected_on": "2026-03-01", "note": "2026年联检"}
    wrong = fresh_client.post(
        url,
        headers=auth(keys["surveyor"]),
        json={**body, "inspectors": [{"name": "甲", "side": left}, {"name": "丙", "side": outsider}]},
    )
    assert wrong.status_code == 422
    [error] = wrong.json()["errors"]
    assert error["rule"] == "inspector_side" and error["index"] == 1 and outsider in error["message"]
    bad_code = fresh_client.post(
        url, headers=auth(keys["surveyor"]), json={**body, "inspectors": [{"name": "甲", "side": "Tianhe"}]}
    )
    assert bad_code.status_code == 422
    people = [{"name": "甲", "side": left}, {"name": "乙", "side": right}]
    ok = fresh_client.post(url, headers=auth(keys["surveyor"]), json={**body, "inspectors": people})
    assert ok.status_code == 201 and ok.json()["inspectors"] == people
    staff = fresh_client.get(url, headers=auth(keys["reviewer"])).json()[-1]
    assert staff["inspectors"] == people and staff["inspector"] == "test-surveyor"
    public = fresh_client.get(url).json()[-1]
    assert sorted(public) == ["id", "inspected_on", "status"]
    sign_inspectors = fresh_client.post(
        "/v1/place-name-signs/1/inspections",
        headers=auth(keys["surveyor"]),
        json={**body, "inspectors": people},
    )
    assert sign_inspectors.status_code in (400, 404)


# --- due for inspection -------------------------------------------------------------------------------------


def _expected_due(url: str, district: str | None) -> set[str]:
    """The oracle: what is due, by Python's calendar over the rows as stored."""
    limit = TODAY - relativedelta(months=12)
    due = set()
    for mid, last, left, right in query(
        url,
        "SELECT m.id, m.last_inspected_on, l.left_code, l.right_code "
        "FROM boundary_markers m JOIN boundary_lines l ON l.code = m.line_code",
    ):
        if (district is None or district in (left[:6], right[:6])) and (last is None or last <= limit):
            due.add(f"marker-{mid}")
    rows = query(
        url,
        "SELECT s.id, s.last_inspected_on, s.district_code, s.retired_on, s.text, p.name "
        "FROM place_name_signs s JOIN place_names p ON p.id = s.place_name_id",
    )
    for sid, last, sign_district, retired, shown, current in rows:
        standing = retired is None and (district is None or sign_district == district)
        if standing and (shown != current or last is None or last <= limit):
            due.add(f"sign-{sid}")
    return due


def test_what_is_due_for_inspection(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    c, surveyor = fresh_client, auth(keys["surveyor"])
    place = _road(fresh_url)
    district = place[3]
    end = _east_end(fresh_url, place[0])
    never, fresh, renamed_later, retired = (
        _register(c, keys["surveyor"], place, _east(*end, d)).json()["id"] for d in (10, 20, 30, 40)
    )
    for sign in (fresh, renamed_later):
        assert (
            c.post(
                f"/v1/place-name-signs/{sign}/inspections",
                headers=surveyor,
                json={"status": "intact", "inspected_on": TODAY.isoformat()},
            ).status_code
            == 201
        )
    c.post(
        f"/v1/place-name-signs/{retired}/retire",
        json={"reason": "removed", "on": TODAY.isoformat()},
        headers={**surveyor, "If-Match": "*"},
    )
    # A marker inspected exactly 12 months ago is due; one inspected a day later is not yet.
    markers = [r[0] for r in query(fresh_url, "SELECT id FROM boundary_markers ORDER BY id LIMIT 2")]
    query(
        fresh_url,
        "UPDATE boundary_markers SET last_inspected_on = :d WHERE id = :i",
        d=TODAY - relativedelta(months=12),
        i=markers[0],
    )
    query(
        fresh_url,
        "UPDATE boundary_markers SET last_inspected_on = :d WHERE id = :i",
        d=TODAY - relativedelta(months=12) + dt.timedelta(days=1),
        i=markers[1],
    )

    everything = c.get("/v1/inspections/due", params={"limit": 1000}, headers=surveyor).json()
    ids = {f["id"] for f in everything["features"]}
    assert ids == _expected_due(fresh_url, None) and len(ids) < 1000
    assert f"sign-{never}" in ids and f"sign-{fresh}" not in ids and f"sign-{retired}" not in ids
    assert f"marker-{markers[0]}" in ids and f"marker-{markers[1]}" not in ids
    _rename(c, keys, place[0], "禾雀巡查路")
    after_rename = c.get(
        "/v1/inspections/due", params={"limit": 1000, "district": district}, headers=surveyor
    ).json()
    by_id = {f["id"]: f["properties"] for f in after_rename["features"]}
    assert set(by_id) == _expected_due(fresh_url, district)
    assert by_id[f"sign-{fresh}"]["due_because"] == "to_replace"  # inspected today, yet due: it is to replace
    assert by_id[f"sign-{never}"]["due_because"] == "to_replace"
    assert all(p["kind"] in ("marker", "sign") for p in by_id.values())
    assert by_id[f"sign-{fresh}"]["inspections_url"] == f"/v1/place-name-signs/{fresh}/inspections"

    lon, lat = end
    near = c.get(
        "/v1/inspections/due", params={"near": f"{lon},{lat}", "limit": 1000}, headers=surveyor
    ).json()
    features = near["features"]
    assert {f["id"] for f in features} == _expected_due(fresh_url, None)
    distances = [f["properties"]["distance_m"] for f in features]
    assert distances == sorted(distances)
    for f in features[:25] + features[-5:]:  # nearest first, in geodesic metres
        x, y = f["geometry"]["coordinates"]
        assert f["properties"]["distance_m"] == pytest.approx(GEOD.inv(lon, lat, x, y)[2], abs=0.5)
    assert features[0]["id"] == f"sign-{never}"  # 10 m east of where the inspector stands
    limited = c.get(
        "/v1/inspections/due", params={"near": f"{lon},{lat}", "limit": 3}, headers=surveyor
    ).json()
    assert [f["id"] for f in limited["features"]] == [f["id"] for f in features[:3]]
    gcj = [float(v) for v in from_wgs84("gcj02", lon, lat)]
    in_gcj = c.get(
        "/v1/inspections/due",
        params={"near": f"{gcj[0]},{gcj[1]}", "crs": "gcj02", "limit": 3},
        headers=surveyor,
    ).json()
    assert [f["id"] for f in in_gcj["features"]] == [f["id"] for f in features[:3]]


@pytest.mark.parametrize(
    "near", ["113.3", "abc,23", "113.3,23.1,5", "200,23", "113.3,95", "１１３,23", "nan,nan"]
)
def test_due_refuses_a_bad_near_in_words(fresh_client: TestClient, keys: dict[str, str], near: str) -> None:
    resp = fresh_client.get("/v1/inspections/due", params={"near": near}, headers=auth(keys["surveyor"]))
    assert resp.status_code == 400 and "lon,lat" in resp.json()["detail"]


def test_due_is_for_staff(fresh_client: TestClient) -> None:
    assert fresh_client.get("/v1/inspections/due").status_code == 401
