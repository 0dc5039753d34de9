"""Editors and facilities over real HTTP: inside a district, no duplicates (under concurrency too), closing with
a reason and a date, bulk import of a file: every row or none, errors by row and name."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Geod

from geo_service.api.app import create_app
from tests.conftest import settings_for
from tests.conftest import sql as query
from tests.writes_helpers import auth, make_keys, point_in

GEOD = Geod(ellps="WGS84")
SEA = {"type": "Point", "coordinates": [113.60, 21.80]}  # the South China Sea, south of Nansha


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def _moved(point: dict[str, Any], metres: float, azimuth: float = 90) -> dict[str, Any]:
    x, y, _ = GEOD.fwd(*point["coordinates"], azimuth, metres)
    return {"type": "Point", "coordinates": [x, y]}


def _body(
    point: dict[str, Any], name: str = "禾雀长者饭堂", ftype: str = "elderly_canteen"
) -> dict[str, Any]:
    return {"type": "Feature", "geometry": point, "properties": {"type": ftype, "name": name}}


def _facilities(url: str) -> int:
    return int(query(url, "SELECT count(*) FROM facilities")[0][0])


def test_a_facility_outside_every_district_is_refused(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    assert (
        query(
            fresh_url,
            "SELECT count(*) FROM divisions WHERE ST_Intersects(geom, ST_SetSRID("
            "ST_MakePoint(113.60, 21.80), 4326))",
        )[0][0]
        == 0
    )
    before = _facilities(fresh_url)
    resp = fresh_client.post("/v1/facilities", json=_body(SEA), headers=auth(keys["editor"]))
    assert resp.status_code == 422 and "outside every loaded district" in resp.json()["detail"]
    assert resp.json()["errors"][0]["rule"] == "outside"
    assert _facilities(fresh_url) == before
    inside = fresh_client.post(
        "/v1/facilities", json=_body(point_in(fresh_url, "440106")), headers=auth(keys["editor"])
    )
    assert inside.status_code == 201
    moved = fresh_client.patch(
        f"/v1/facilities/{inside.json()['id']}",
        json={"geometry": SEA},
        headers={**auth(keys["editor"]), "If-Match": '"1"'},
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["rule"] == "outside"
    assert query(fresh_url, "SELECT version FROM facilities WHERE id = :i", i=inside.json()["id"])[0][0] == 1


def test_the_same_facility_entered_twice_is_a_409_naming_it(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, editor = fresh_client, auth(keys["editor"])
    here = point_in(fresh_url, "440106")
    first = c.post("/v1/facilities", json=_body(here), headers=editor).json()["id"]
    eight, twelve = _moved(here, 8), _moved(here, 12)
    assert GEOD.inv(*here["coordinates"], *twelve["coordinates"])[2] == pytest.approx(12, abs=0.001)
    again = c.post("/v1/facilities", json=_body(eight), headers=editor)
    assert again.status_code == 409 and again.json()["conflicting_ids"] == [first]
    assert str(first) in again.json()["detail"]
    assert (
        c.post("/v1/facilities", json=_body(eight, name=" 禾雀长者饭堂 "), headers=editor).status_code == 409
    )
    apart = c.post("/v1/facilities", json=_body(twelve), headers=editor)
    assert apart.status_code == 201  # 12 m away: a neighbour of the same name, not the same facility
    other_type = c.post("/v1/facilities", json=_body(here, ftype="social_work_point"), headers=editor)
    other_name = c.post("/v1/facilities", json=_body(here, name="禾雀社区饭堂"), headers=editor)
    assert other_type.status_code == 201 and other_name.status_code == 201
    renamed = c.patch(
        f"/v1/facilities/{other_name.json()['id']}",
        json={"name": "禾雀长者饭堂"},
        headers={**editor, "If-Match": '"1"'},
    )
    assert renamed.status_code == 409 and renamed.json()["conflicting_ids"] == [first]
    assert (
        c.patch(
            f"/v1/facilities/{first}", json={"phone": "020-1"}, headers={**editor, "If-Match": '"1"'}
        ).status_code
        == 200
    )
    closed = c.delete(f"/v1/facilities/{first}", headers={**editor, "If-Match": '"2"'})
    assert closed.status_code == 200
    reopened_site = c.post("/v1/facilities", json=_body(here), headers=editor)
    assert reopened_site.status_code == 201  # the closed one is history: a new one may open in its place
    reopen = c.patch(
        f"/v1/facilities/{first}", json={"status": "active"}, headers={**editor, "If-Match": '"3"'}
    )
    assert reopen.status_code == 409 and reopen.json()["conflicting_ids"] == [reopened_site.json()["id"]]


def test_of_two_identical_facilities_sent_at_once_one_is_created(
    fresh_url: str, keys: dict[str, str]
) -> None:
    here = point_in(fresh_url, "440111")
    body = _body(here, name="禾雀同时饭堂")
    answers: list[int] = []
    with TestClient(create_app(settings_for(fresh_url))) as c:
        start = threading.Barrier(4)

        def send() -> None:
            start.wait()
            answers.append(c.post("/v1/facilities", json=body, headers=auth(keys["editor"])).status_code)

        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(answers) == [201, 409, 409, 409]
    assert query(fresh_url, "SELECT count(*) FROM facilities WHERE name = '禾雀同时饭堂'")[0][0] == 1


def test_closing_records_a_reason_and_a_date(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, editor = fresh_client, auth(keys["editor"])
    fid = c.post("/v1/facilities", json=_body(point_in(fresh_url, "440105")), headers=editor).json()["id"]
    url = f"/v1/facilities/{fid}"
    future = c.delete(url, params={"closed_on": "2999-01-01"}, headers={**editor, "If-Match": '"1"'})
    assert future.status_code == 400
    bad_date = c.delete(url, params={"closed_on": "yesterday"}, headers={**editor, "If-Match": '"1"'})
    assert bad_date.status_code == 422
    closed = c.delete(
        url,
        params={"reason": "场地租约到期", "closed_on": "2026-01-31"},
        headers={**editor, "If-Match": '"1"'},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json() == {
        "id": fid,
        "status": "closed",
        "closed_on": "2026-01-31",
        "closed_reason": "场地租约到期",
        "version": 2,
    }
    assert query(fresh_url, "SELECT status, closed_on, closed_reason FROM facilities WHERE id = :i", i=fid)[
        0
    ] == ("closed", dt.date(2026, 1, 31), "场地租约到期")
    public = c.get(url).json()["properties"]
    assert (
        public["status"] == "closed" and public["closed_on"] == "2026-01-31" and "closed_reason" not in public
    )
    staff = c.get(url, headers=editor).json()["properties"]
    assert staff["closed_reason"] == "场地租约到期"
    again = c.delete(url, params={"reason": "x"}, headers={**editor, "If-Match": '"2"'})
    assert again.status_code == 409 and "closed already" in again.json()["detail"]
    audit = query(
        fresh_url,
        "SELECT after FROM audit_log WHERE entity = 'facility' AND entity_id = :i AND action = 'close'",
        i=str(fid),
    )[0][0]
    assert audit["closed_reason"] == "场地租约到期" and audit["closed_on"] == "2026-01-31"
    today = c.post(
        "/v1/facilities", json=_body(point_in(fresh_url, "440104"), name="禾雀今日饭堂"), headers=editor
    )
    plain = c.delete(f"/v1/facilities/{today.json()['id']}", headers={**editor, "If-Match": "*"})
    assert plain.json()["closed_on"] == dt.date.today().isoformat() and plain.json()["closed_reason"] is None
    reopened = c.patch(url, json={"status": "active"}, headers={**editor, "If-Match": '"2"'})
    assert reopened.status_code == 200 and reopened.json()["properties"]["closed_on"] is None


# --- bulk import --------------------------------------------------------------------------------------------


def _import(c: TestClient, key: str, content: bytes, name: str, **form: Any) -> Any:
    data = {"type": "elderly_canteen", "crs": "wgs84", **form}
    return c.post(
        "/v1/facilities/import", headers=auth(key), data=data, files={"file": (name, content, "text/csv")}
    )


def _csv(rows: list[tuple[str, float, float, str]]) -> bytes:
    lines = ["名称,经度,纬度,地址,备注"] + [f"{n},{x},{y},{a},导入" for n, x, y, a in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_an_import_writes_every_row(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    spots = [point_in(fresh_url, d)["coordinates"] for d in ("440103", "440104", "440105")]
    content = _csv([(f"禾雀导入饭堂{i}", x, y, f"地址{i}") for i, (x, y) in enumerate(spots)])
    before = _facilities(fresh_url)
    dry = _import(fresh_client, keys["editor"], content, "canteens.csv", dry_run="true")
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert [f["row"] for f in dry.json()["features"]] == [2, 3, 4] and _facilities(fresh_url) == before
    done = _import(fresh_client, keys["editor"], content, "canteens.csv")
    assert done.status_code == 201, done.text
    ids = [f["id"] for f in done.json()["features"]]
    assert len(ids) == 3 and _facilities(fresh_url) == before + 3
    rows = query(
        fresh_url,
        "SELECT id, name, address, district_code, attributes, status FROM facilities "
        "WHERE id = ANY(:ids) ORDER BY id",
        ids=ids,
    )
    assert [(r[1], r[2], r[3], r[5]) for r in rows] == [
        (f"禾雀导入饭堂{i}", f"地址{i}", d, "active") for i, d in enumerate(("440103", "440104", "440105"))
    ]
    assert rows[0][4] == {"备注": "导入"}
    assert [f["name"] for f in done.json()["features"]] == [r[1] for r in rows]
    audit = query(
        fresh_url, "SELECT actor, after FROM audit_log WHERE entity = 'facilities' ORDER BY id DESC LIMIT 1"
    )
    assert audit[0][0] == "test-editor" and audit[0][1]["rows"] == 3
    twice = _import(fresh_client, keys["editor"], content, "canteens.csv")
    assert twice.status_code == 422  # the same file again: every row is a duplicate now
    assert [e["rule"] for e in twice.json()["errors"]] == ["duplicate"] * 3
    assert [e["facility_id"] for e in twice.json()["errors"]] == ids


def test_an_import_with_bad_rows_writes_nothing_and_names_them(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    here = point_in(fresh_url, "440106")["coordinates"]
    existing = fresh_client.post(
        "/v1/facilities",
        json=_body({"type": "Point", "coordinates": here}, name="禾雀已有饭堂"),
        headers=auth(keys["editor"]),
    ).json()["id"]
    near = _moved({"type": "Point", "coordinates": here}, 5)["coordinates"]
    ok = point_in(fresh_url, "440111")["coordinates"]
    content = _csv(
        [
            ("禾雀好饭堂", ok[0], ok[1], "好"),  # row 2: fine
            ("禾雀海上饭堂", 113.60, 21.80, "海上"),  # row 3: outside every district
            ("禾雀已有饭堂", near[0], near[1], "重复"),  # row 4: the existing facility, 5 m off
            ("", ok[0] + 0.01, ok[1], "无名"),  # row 5: no name
            ("禾雀好饭堂", ok[0], ok[1], "两次"),  # row 6: row 2 again
        ]
    )
    before = _facilities(fresh_url)
    resp = _import(fresh_client, keys["editor"], content, "bad.csv")
    assert resp.status_code == 422
    body = resp.json()
    assert "4 of 5 row(s)" in body["detail"] and "nothing was written" in body["detail"]
    found = [(e["row"], e["name"], e["rule"]) for e in body["errors"]]
    assert found == [
        (3, "禾雀海上饭堂", "outside"),
        (4, "禾雀已有饭堂", "duplicate"),
        (5, None, "name"),
        (6, "禾雀好饭堂", "duplicate"),
    ]
    assert body["errors"][1]["facility_id"] == existing and body["errors"][3]["duplicate_of"] == 0
    assert _facilities(fresh_url) == before


def test_an_import_reads_geojson_and_checks_what_was_declared(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    x, y = point_in(fresh_url, "440112")["coordinates"]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {"name": "禾雀几何饭堂", "capacity": 80, "phone": "020-3"},
            }
        ],
    }
    content = json.dumps(collection, ensure_ascii=False).encode()
    done = _import(fresh_client, keys["editor"], content, "canteens.geojson")
    assert done.status_code == 201, done.text
    assert done.json()["features"][0]["row"] == 1
    fid = done.json()["features"][0]["id"]
    assert query(fresh_url, "SELECT capacity, phone, district_code FROM facilities WHERE id = :i", i=fid)[
        0
    ] == (80, "020-3", "440112")
    unknown = _import(fresh_client, keys["editor"], content, "canteens.geojson", type="spa")
    assert unknown.status_code == 400 and "spa" in unknown.json()["detail"]
    bad_crs = _import(fresh_client, keys["editor"], content, "canteens.geojson", crs="mars")
    assert bad_crs.status_code == 400
    vrt = _import(fresh_client, keys["editor"], b"<OGRVRTDataSource/>", "canteens.vrt")
    assert vrt.status_code == 400 and "detail" in vrt.json()
    assert (
        fresh_client.post(
            "/v1/facilities/import",
            data={"type": "elderly_canteen", "crs": "wgs84"},
            files={"file": ("a.csv", b"x", "text/csv")},
        ).status_code
        == 401
    )
    surveyor = _import(fresh_client, keys["surveyor"], content, "canteens.geojson")
    assert surveyor.status_code == 403


def test_an_import_over_the_upload_limit_is_a_413(fresh_url: str, keys: dict[str, str]) -> None:
    big = _csv([(f"禾雀饭堂{i}", 113.3, 23.1, "x" * 200) for i in range(6000)])
    assert len(big) > 1024 * 1024
    with TestClient(create_app(settings_for(fresh_url, max_upload_mb=1))) as c:
        assert _import(c, keys["editor"], big, "big.csv").status_code == 413
    with TestClient(create_app(settings_for(fresh_url, max_upload_features=10))) as c:
        resp = _import(c, keys["editor"], big, "big.csv")
        assert resp.status_code == 413 and "10" in resp.json()["detail"]
