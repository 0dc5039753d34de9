"""Keys and roles on every write route; inspections, signs, facility editing, admin types."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.services import keys as key_service
from tests.conftest import run, settings_for
from tests.conftest import sql as query
from tests.writes_helpers import auth, counts, make_keys, point_in

WRITE_METHODS = {"POST", "PATCH", "DELETE", "PUT"}
MINIMUM_ROLE = {
    "/v1/place-names": "surveyor",
    "/v1/place-names/{place_name_id}/rename": "surveyor",
    "/v1/place-names/{place_name_id}/review": "reviewer",
    "/v1/submissions": "surveyor",
    "/v1/place-names/check": "surveyor",
    "/v1/place-names/{place_name_id}/withdraw": "surveyor",
    "/v1/place-names/{place_name_id}": "surveyor",
    "/v1/boundary-markers/{marker_id}/inspections": "surveyor",
    "/v1/place-name-signs": "surveyor",
    "/v1/place-name-signs/{sign_id}/inspections": "surveyor",
    "/v1/facilities": "editor",
    "/v1/facilities/{facility_id}": "editor",
    "/v1/place-name-signs/{sign_id}/retire": "surveyor",
    "/v1/attachments": "surveyor",
    "/v1/facilities/import": "editor",
    "/v1/coverage/candidates": "surveyor",
}
ROLES = ("surveyor", "reviewer", "editor", "admin")


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def test_every_write_route_needs_the_right_key(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    paths = fresh_client.get("/openapi.json").json()["paths"]
    routes = [(m.upper(), path) for path, ops in paths.items() for m in ops if m.upper() in WRITE_METHODS]
    # Signing in and out is for anyone; a what-if scenario is a read sent as POST (its body), public.
    routes = [(m, path) for m, path in routes if path not in ("/v1/session", "/v1/coverage/scenario")]
    assert len(routes) >= 14
    with TestClient(create_app(settings_for(fresh_url))) as c:
        from geo_service.db.engine import create_engine

        async def revoke() -> None:
            engine = create_engine(fresh_url, pool_size=1)
            async with engine.begin() as conn:
                await key_service.revoke(conn, "test-admin")
            await engine.dispose()

        revoked_key = keys["admin"]
        run(revoke())
        before = counts(fresh_url)
        for method, path in routes:
            url = path.replace("{place_name_id}", "1").replace("{marker_id}", "1").replace("{sign_id}", "1")
            url = url.replace("{facility_id}", "1")
            assert c.request(method, url).status_code == 401, (method, path)
            assert c.request(method, url, headers={"Authorization": "Bearer gs_wrong"}).status_code == 401
            assert c.request(method, url, headers=auth(revoked_key)).status_code == 401, (method, path)
            needed = "admin" if path.startswith("/v1/admin") else MINIMUM_ROLE[path]
            for role in ROLES[: ROLES.index(needed)]:
                resp = c.request(method, url, headers=auth(keys[role]))
                assert resp.status_code == 403, (method, path, role, resp.text)
                assert needed in resp.json()["detail"]
        assert counts(fresh_url) == before


def test_keys_are_stored_hashed_and_never_logged(
    fresh_url: str, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    dump = " ".join(str(r) for r in query(fresh_url, "SELECT * FROM api_keys"))
    dump += " ".join(str(r) for r in query(fresh_url, "SELECT * FROM audit_log"))
    for key in keys.values():
        assert key not in dump and key_service.digest(key) in dump
    with TestClient(create_app(settings_for(fresh_url))) as c:
        c.post("/v1/place-names", json={}, headers=auth(keys["surveyor"]))
    assert not any(key in rec.getMessage() for rec in caplog.records for key in keys.values())


def test_marker_inspections_keep_history_and_status_follows_the_latest(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    marker = query(fresh_url, "SELECT id FROM boundary_markers ORDER BY id LIMIT 1")[0][0]
    url = f"/v1/boundary-markers/{marker}/inspections"
    first = fresh_client.post(
        url,
        json={"status": "damaged", "inspected_on": "2026-05-01", "note": "桩体开裂"},
        headers=auth(keys["surveyor"]),
    )
    assert first.status_code == 201, first.text
    assert first.json()["marker"]["status"] == "damaged"
    older = fresh_client.post(
        url, json={"status": "missing", "inspected_on": "2025-01-01"}, headers=auth(keys["surveyor"])
    )
    assert (
        older.status_code == 201 and older.json()["marker"]["status"] == "damaged"
    )  # an older one does not win
    moved = fresh_client.post(
        url,
        headers=auth(keys["surveyor"]),
        json={
            "status": "moved",
            "inspected_on": "2026-06-01",
            "position": point_in(fresh_url, "440106"),
            "confirm_far_move": True,
        },
    )
    assert moved.status_code == 201 and moved.json()["marker"]["status"] == "moved"
    history = fresh_client.get(url, headers=auth(keys["reviewer"])).json()
    assert [h["status"] for h in history][-3:] == ["missing", "damaged", "moved"]
    assert history[-1]["position"]["type"] == "Point" and history[-2]["note"] == "桩体开裂"
    public = fresh_client.get(url).json()  # dates and statuses only
    assert [(h["status"], sorted(h)) for h in public][-3:] == [
        (s, ["id", "inspected_on", "status"]) for s in ("missing", "damaged", "moved")
    ]
    listed = fresh_client.get("/v1/boundary-markers", params={"status": "moved"}).json()["features"]
    assert marker in [f["id"] for f in listed]
    bad = fresh_client.post(
        url, json={"status": "stolen", "inspected_on": "2026-05-01"}, headers=auth(keys["surveyor"])
    )
    assert bad.status_code == 422
    future = fresh_client.post(
        url, json={"status": "intact", "inspected_on": "2999-01-01"}, headers=auth(keys["surveyor"])
    )
    assert future.status_code == 422 and future.json()["errors"][0]["rule"] == "inspected_on"
    assert (
        fresh_client.post(
            "/v1/boundary-markers/999999/inspections",
            json={"status": "intact", "inspected_on": "2026-01-01"},
            headers=auth(keys["surveyor"]),
        ).status_code
        == 404
    )


def test_signs_must_match_the_approved_name(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    pid, name, pinyin = query(
        fresh_url, "SELECT id, name, pinyin FROM place_names WHERE status = 'approved' ORDER BY id LIMIT 1"
    )[0]
    proposed = query(fresh_url, "SELECT id FROM place_names WHERE status = 'proposed' ORDER BY id LIMIT 1")[
        0
    ][0]
    x, y = query(
        fresh_url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM place_names WHERE id = :i) s",
        i=pid,
    )[0]
    position = {"type": "Point", "coordinates": [x, y]}  # on the place: a sign stands by what it names
    base = {
        "place_name_id": pid,
        "position": position,
        "installed_on": "2025-10-01",
        "text": name,
        "pinyin": pinyin,
    }
    wrong_text = fresh_client.post(
        "/v1/place-name-signs", json={**base, "text": name + "口"}, headers=auth(keys["surveyor"])
    )
    assert wrong_text.status_code == 422 and wrong_text.json()["errors"][0]["rule"] == "sign_text"
    english = fresh_client.post(
        "/v1/place-name-signs",
        json={**base, "pinyin": pinyin.split()[0] + " Road"},
        headers=auth(keys["surveyor"]),
    )
    assert english.status_code == 422 and english.json()["errors"][0]["rule"] == "sign_pinyin"
    unapproved = fresh_client.post(
        "/v1/place-name-signs", json={**base, "place_name_id": proposed}, headers=auth(keys["surveyor"])
    )
    assert unapproved.status_code == 409
    ok = fresh_client.post("/v1/place-name-signs", json=base, headers=auth(keys["surveyor"]))
    assert ok.status_code == 201, ok.text
    sign = ok.json()
    assert sign["properties"]["to_replace"] is False
    insp = fresh_client.post(
        f"/v1/place-name-signs/{sign['id']}/inspections",
        headers=auth(keys["surveyor"]),
        json={"status": "damaged", "inspected_on": "2026-01-05"},
    )
    assert insp.status_code == 201 and insp.json()["sign"]["status"] == "damaged"
    ogc = fresh_client.get(f"/collections/place-name-signs/items/{sign['id']}").json()
    assert ogc["properties"]["status"] == "damaged"


def test_facility_editing(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    where = point_in(fresh_url, "440106010001")
    lon, lat = where["coordinates"]
    body = {
        "type": "Feature",
        "geometry": where,
        "properties": {"type": "elderly_canteen", "name": "测试新饭堂", "address": "天河区", "capacity": 120},
    }
    assert fresh_client.post("/v1/facilities", json=body, headers=auth(keys["surveyor"])).status_code == 403
    created = fresh_client.post("/v1/facilities", json=body, headers=auth(keys["editor"]))
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    assert created.json()["properties"]["village_code"] == "440106010001"
    near = {"lon": lon, "lat": lat, "type": "elderly_canteen", "k": 1}
    assert fresh_client.get("/v1/facilities/nearest", params=near).json()["features"][0]["id"] == fid
    patch = fresh_client.patch(
        f"/v1/facilities/{fid}",
        json={"phone": "020-12345678"},
        headers={**auth(keys["editor"]), "If-Match": "1"},
    )
    assert patch.status_code == 200 and patch.json()["properties"]["version"] == 2
    lost = fresh_client.patch(
        f"/v1/facilities/{fid}", json={"name": "改名"}, headers={**auth(keys["editor"]), "If-Match": "1"}
    )
    assert lost.status_code == 412  # a concurrent edit made on version 1 is detected, not lost
    assert (
        fresh_client.patch(
            f"/v1/facilities/{fid}", json={"name": "改名"}, headers=auth(keys["editor"])
        ).status_code
        == 428
    )
    unknown = fresh_client.post(
        "/v1/facilities",
        json={**body, "properties": {**body["properties"], "type": "spa"}},
        headers=auth(keys["editor"]),
    )
    assert unknown.status_code == 400
    closed = fresh_client.delete(f"/v1/facilities/{fid}", headers={**auth(keys["editor"]), "If-Match": '"2"'})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert fid not in [
        f["id"]
        for f in fresh_client.get("/v1/facilities/nearest", params={**near, "k": 5}).json()["features"]
    ]
    audit = query(
        fresh_url,
        "SELECT action, before IS NOT NULL, after IS NOT NULL FROM audit_log WHERE entity = 'facility' "
        "AND entity_id = :i ORDER BY id",
        i=str(fid),
    )
    assert audit == [("create", False, True), ("update", True, True), ("close", True, True)]
    assert (
        query(fresh_url, "SELECT status FROM facilities WHERE id = :i", i=fid)[0][0] == "closed"
    )  # kept, not deleted


def test_admin_adds_a_facility_type_without_code(fresh_client: TestClient, keys: dict[str, str]) -> None:
    body = {
        "code": "day_care_centre",
        "collection": "day-care-centres",
        "name_zh": "日间照料中心",
        "name_en": "Day care centre",
        "default_radius_m": 1500,
    }
    assert (
        fresh_client.post("/v1/admin/facility-types", json=body, headers=auth(keys["editor"])).status_code
        == 403
    )
    assert (
        fresh_client.post("/v1/admin/facility-types", json=body, headers=auth(keys["admin"])).status_code
        == 201
    )
    assert (
        fresh_client.post("/v1/admin/facility-types", json=body, headers=auth(keys["admin"])).status_code
        == 409
    )
    ids = [c["id"] for c in fresh_client.get("/collections").json()["collections"]]
    assert "day-care-centres" in ids
    cov = fresh_client.get("/v1/coverage", params={"type": "day_care_centre", "level": "district"}).json()
    assert cov["radius_m"] == 1500 and cov["summary"]["covered_divisions"] == 0
