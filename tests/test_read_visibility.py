"""Who may read what: every public GET, asked anonymously, shows no staff data; staff see it.

Unique strings are planted in everything staff type or own (notes, justifications, review comments, inspection
notes, the names of people, pending and rejected names), then every GET endpoint the service declares is walked
without a key: none of them may appear, nor any staff field name. The same walk with a reviewer's key, done
first (so that nothing staff read is kept and served to the public), finds every one of them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from geo_service.services.tiles import tile_of
from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, line_in, make_keys, point_in

NOTE = "zqx-note-7731"
ORIGIN = "以禾雀岭命名"  # public: the origin of an approved name (含义) is in the register
APPROVE_COMMENT = "zqx-approve-comment-9046"
REJECT_COMMENT = "zqx-reject-comment-1187"
JUSTIFICATION = "zqx-justification-5512"
RENAME_COMMENT = "zqx-rename-comment-2093"
MARKER_NOTE = "zqx-marker-inspection-3360"
SIGN_NOTE = "zqx-sign-inspection-4471"
BULK_NOTE = "zqx-bulk-note-6628"
PHOTO = "zqx-exif-camera-8841"  # in a photo's EXIF: staff read the file, nobody else
JOINT = "zqx-joint-inspector-5150"  # a joint inspection's inspector
CLOSURE = "zqx-closure-reason-7302"  # why an editor closed a facility
STAFF = "zqxstaff"  # every key's name starts so: proposers, reviewers, inspectors
PENDING = "禾雀待审路"
REJECTED = "禾雀驳回路"
APPROVED = "禾雀批准路"
RENAMED_TO = "禾雀改名路"
BULK = "禾雀批量路"
SECRETS = [
    NOTE,
    APPROVE_COMMENT,
    REJECT_COMMENT,
    JUSTIFICATION,
    RENAME_COMMENT,
    MARKER_NOTE,
    SIGN_NOTE,
    BULK_NOTE,
    STAFF,
    PENDING,
    REJECTED,
    BULK,
    PHOTO,
    JOINT,
    CLOSURE,
]
STAFF_FIELDS = {
    "note",
    "justification",
    "proposed_by",
    "reviewed_by",
    "review_comment",
    "warnings",
    "reason",
    "inspector",
    "position",
    "rename_of",
    "submitted_by",
    "photos",
    "attachment_ids",
    "inspectors",
    "closed_reason",
}


def _ok(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code in (200, 201), resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.fixture
def planted(fresh_client: TestClient, fresh_url: str) -> dict[str, Any]:
    """Proposals in every state, a rename, inspections and an upload, each carrying a secret."""
    c, keys = fresh_client, make_keys(fresh_url, prefix=STAFF)
    surveyor, reviewer = auth(keys["surveyor"]), auth(keys["reviewer"])
    line = line_in(fresh_url, big_village(fresh_url))

    def propose(name: str, **props: Any) -> dict[str, Any]:
        body = {
            "type": "Feature",
            "geometry": line,
            "properties": {"name": name, "category": "road", **props},
        }
        return _ok(c.post("/v1/place-names", json=body, headers=surveyor))

    def review(pid: int, decision: str, comment: str) -> dict[str, Any]:
        return _ok(
            c.post(
                f"/v1/place-names/{pid}/review",
                json={"decision": decision, "comment": comment},
                headers={**reviewer, "If-Match": "1"},
            )
        )

    photo = _ok(
        c.post(
            "/v1/attachments",
            headers=surveyor,
            files={"file": ("p.jpg", _photo_with_camera(PHOTO), "image/jpeg")},
        )
    )["id"]
    pending = _ok(
        c.post(
            "/v1/place-names",
            headers=surveyor,
            json={
                "type": "Feature",
                "geometry": line,
                "properties": {"name": PENDING, "category": "road", "note": NOTE},
                "attachment_ids": [photo],
            },
        )
    )["id"]
    rejected = propose(REJECTED, note=NOTE)["id"]
    review(rejected, "reject", REJECT_COMMENT)
    approved_feature = propose(APPROVED, note=NOTE, origin=ORIGIN)
    approved = approved_feature["id"]
    review(approved, "approve", APPROVE_COMMENT)
    renamed = query(
        fresh_url,
        "SELECT id FROM place_names WHERE status = 'approved' AND category = 'road' "
        "AND rename_of IS NULL ORDER BY id LIMIT 1",
    )[0][0]
    rename = _ok(
        c.post(
            f"/v1/place-names/{renamed}/rename",
            headers=surveyor,
            json={"name": RENAMED_TO, "justification": JUSTIFICATION, "note": NOTE},
        )
    )["id"]
    review(rename, "approve", RENAME_COMMENT)
    x, y = line["coordinates"][0]
    sign = _ok(
        c.post(
            "/v1/place-name-signs",
            headers=surveyor,
            json={
                "place_name_id": approved,
                "position": {"type": "Point", "coordinates": [x, y]},
                "installed_on": "2025-01-01",
                "text": APPROVED,
                "pinyin": approved_feature["properties"]["pinyin"],
                "attachment_ids": [photo],
            },
        )
    )["id"]
    _ok(
        c.post(
            f"/v1/place-name-signs/{sign}/inspections",
            headers=surveyor,
            json={
                "status": "damaged",
                "inspected_on": "2026-01-02",
                "note": SIGN_NOTE,
                "position": {"type": "Point", "coordinates": [x, y]},
                "attachment_ids": [photo],
            },
        )
    )
    marker, line_code, side, other_side = query(
        fresh_url,
        "SELECT m.id, m.line_code, l.left_code, l.right_code FROM boundary_markers m "
        "JOIN boundary_lines l ON l.code = m.line_code ORDER BY m.id LIMIT 1",
    )[0]
    _ok(
        c.post(
            f"/v1/boundary-markers/{marker}/inspections",
            headers=surveyor,
            json={
                "status": "damaged",
                "inspected_on": "2026-01-03",
                "note": MARKER_NOTE,
                "position": point_in(fresh_url, "440106"),
                "attachment_ids": [photo],
                "inspectors": [{"name": JOINT, "side": side}, {"name": "乙方", "side": other_side}],
            },
        )
    )
    coords = ", ".join(
        f"{a} {b}" for a, b in line_in(fresh_url, big_village(fresh_url, "440117"))["coordinates"]
    )
    csv = f'name,note,wkt\n{BULK},{BULK_NOTE},"LINESTRING ({coords})"\n'
    upload = _ok(
        c.post(
            "/v1/submissions",
            headers=surveyor,
            data={"crs": "wgs84", "category": "road"},
            files={"file": ("names.csv", csv.encode(), "text/csv")},
        )
    )
    canteen = _ok(
        c.post(
            "/v1/facilities",
            headers=auth(keys["editor"]),
            json={
                "type": "Feature",
                "geometry": point_in(fresh_url, "440105"),
                "properties": {"type": "elderly_canteen", "name": "禾雀停业饭堂"},
            },
        )
    )
    _ok(
        c.delete(
            f"/v1/facilities/{canteen['id']}",
            params={"reason": CLOSURE},
            headers={**auth(keys["editor"]), "If-Match": "*"},
        )
    )
    lon, lat = x, y
    return {
        "keys": keys,
        "pending": pending,
        "rejected": rejected,
        "approved": approved,
        "renamed": renamed,
        "rename": rename,
        "sign": sign,
        "marker": marker,
        "line": line_code,
        "lon": lon,
        "lat": lat,
        "submission": upload["submission_id"],
        "bulk": upload["features"][0]["id"],
        "photo": photo,
        "facility": canteen["id"],
    }


def _photo_with_camera(camera: str) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = camera  # Make
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _urls(client: TestClient, p: dict[str, Any]) -> dict[str, list[str]]:
    """Every GET endpoint (by its path template) with the concrete requests that exercise it."""
    point = f"lon={p['lon']}&lat={p['lat']}"
    place_ids = [p[k] for k in ("pending", "rejected", "approved", "renamed", "rename", "bulk")]
    collections = [c["id"] for c in client.get("/collections").json()["collections"]]
    staff = "place-name-proposals"
    row, col = tile_of(p["lon"], p["lat"], 15)
    tile = f"15/{row}/{col}"  # the tile of the planted names, signs and proposals (z/y/x)
    return {
        "/health": ["/health"],
        "/v1/divisions/locate": [f"/v1/divisions/locate?{point}"],
        "/v1/facilities/nearest": [f"/v1/facilities/nearest?{point}&type=elderly_canteen&k=3"],
        "/v1/coverage": ["/v1/coverage?type=elderly_canteen&level=district"],
        "/v1/coverage/gaps": ["/v1/coverage/gaps?type=elderly_canteen&level=township"],
        "/v1/coverage/uncovered": ["/v1/coverage/uncovered?type=elderly_canteen&level=township"],
        "/v1/coverage/siting": ["/v1/coverage/siting?type=elderly_canteen&n=2&within=440103"],
        "/v1/place-names": [
            "/v1/place-names",
            "/v1/place-names?q=禾雀&limit=1000",
            f"/v1/place-names?q={PENDING}",
            f"/v1/place-names?q={RENAMED_TO}",
            "/v1/place-names?q=hequepizhun",
            "/v1/place-names?limit=1000&category=road",
            "/v1/place-names?status=proposed",
            "/v1/place-names?status=rejected&q=禾雀",
            "/v1/place-names?status=approved&q=禾雀",
            "/v1/place-names?status=proposed,rejected,superseded&sort=-created&limit=1000",
            f"/v1/place-names?near={p['lon']},{p['lat']}&radius_m=2000&status=proposed,approved",
            "/v1/place-names?mine=true",
            "/v1/place-names?district=440118&since=2000-01-01",
        ],
        "/v1/place-names/{place_name_id}": [f"/v1/place-names/{i}" for i in place_ids],
        "/v1/place-names/register": ["/v1/place-names/register?format=csv"],
        "/v1/boundary-lines": ["/v1/boundary-lines"],
        "/v1/boundary-markers": ["/v1/boundary-markers", f"/v1/boundary-markers?line={p['line']}"],
        "/v1/boundary-markers/{marker_id}/inspections": [f"/v1/boundary-markers/{p['marker']}/inspections"],
        "/v1/place-name-signs": ["/v1/place-name-signs", "/v1/place-name-signs?to_replace=false"],
        "/v1/place-name-signs/{sign_id}/inspections": [f"/v1/place-name-signs/{p['sign']}/inspections"],
        "/v1/attachments/{attachment_id}": [f"/v1/attachments/{p['photo']}"],
        "/v1/attachments/{attachment_id}/thumbnail": [f"/v1/attachments/{p['photo']}/thumbnail"],
        "/v1/submissions/{submission_id}": [f"/v1/submissions/{p['submission']}"],
        "/v1/facilities/types": ["/v1/facilities/types"],
        "/v1/inspections/due": [
            "/v1/inspections/due?limit=1000",
            f"/v1/inspections/due?near={p['lon']},{p['lat']}",
        ],
        "/v1/session": ["/v1/session"],
        "/v1/facilities/{facility_id}": ["/v1/facilities/1", f"/v1/facilities/{p['facility']}"],
        "/v1/boundary-markers/{marker_id}": [f"/v1/boundary-markers/{p['marker']}"],
        "/v1/place-name-signs/{sign_id}": [f"/v1/place-name-signs/{p['sign']}"],
        "/v1/admin/users": ["/v1/admin/users"],
        "/v1/admin/keys": ["/v1/admin/keys"],
        "/v1/admin/protected-names": ["/v1/admin/protected-names"],
        "/v1/admin/forbidden-terms": ["/v1/admin/forbidden-terms"],
        "/v1/admin/readings": ["/v1/admin/readings"],
        "/v1/admin/local-characters": ["/v1/admin/local-characters"],
        "/v1/admin/audit": ["/v1/admin/audit", "/v1/admin/audit?format=csv&table=place_names"],
        "/maps/coverage": ["/maps/coverage?type=elderly_canteen&level=district"],
        "/maps/boundaries": ["/maps/boundaries"],
        "/maps/finder": [f"/maps/finder?{point}&type=elderly_canteen"],
        "/": ["/"],
        "/conformance": ["/conformance"],
        "/collections": ["/collections"],
        "/collections/{collection_id}": [f"/collections/{c}" for c in [*collections, "place-name-proposals"]],
        "/collections/{collection_id}/items": [f"/collections/{c}/items?limit=10000" for c in collections]
        + ["/collections/place-names/items?name=" + n for n in (PENDING, REJECTED, APPROVED, BULK)]
        + ["/collections/place-name-proposals/items?limit=10000"]
        + [f"/collections/{c}/items?f=html&limit=10000" for c in ("place-names", "place-name-signs", staff)],
        "/collections/{collection_id}/items/{feature_id}": [
            *(f"/collections/place-names/items/{i}" for i in place_ids),
            f"/collections/place-name-proposals/items/{p['pending']}",
            f"/collections/place-name-signs/items/{p['sign']}",
            f"/collections/boundary-markers/items/{p['marker']}",
            f"/collections/place-name-proposals/items/{p['pending']}?f=html",
        ],
        "/collections/{collection_id}/queryables": [
            f"/collections/{c}/queryables" for c in [*collections, staff]
        ],
        "/collections/{collection_id}/tiles": [f"/collections/{c}/tiles" for c in ("place-names", staff)],
        "/collections/{collection_id}/tiles/{tile_matrix_set}": [
            f"/collections/{c}/tiles/WebMercatorQuad" for c in ("place-names", staff)
        ],
        "/collections/{collection_id}/tiles/{tile_matrix_set}/tilejson.json": [
            f"/collections/{c}/tiles/WebMercatorQuad/tilejson.json" for c in ("place-names", staff)
        ],
        "/collections/{collection_id}/tiles/{tile_matrix_set}/{tileMatrix}/{tileRow}/{tileCol}": [
            f"/collections/{c}/tiles/WebMercatorQuad/{tile}" for c in (*collections, staff)
        ],
        "/tiles": ["/tiles"],
        "/tiles/{tile_matrix_set}": ["/tiles/WebMercatorQuad"],
        "/tiles/{tile_matrix_set}/tilejson.json": ["/tiles/WebMercatorQuad/tilejson.json"],
        "/tiles/{tile_matrix_set}/{tileMatrix}/{tileRow}/{tileCol}": [f"/tiles/WebMercatorQuad/{tile}"],
    }


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v)


def _shows(body: str, secret: str) -> bool:
    """Whether a body holds the secret as is or JSON-escaped (\\uXXXX, as pages embedding JSON may write it)."""
    return secret in body or json.dumps(secret)[1:-1] in body


def test_every_get_endpoint_is_walked(fresh_client: TestClient, planted: dict[str, Any]) -> None:
    declared = {path for path, ops in fresh_client.app.openapi()["paths"].items() if "get" in ops}  # type: ignore[attr-defined]
    assert declared == set(_urls(fresh_client, planted))


def test_anonymous_callers_see_no_staff_data(fresh_client: TestClient, planted: dict[str, Any]) -> None:
    reviewer = auth(planted["keys"]["reviewer"])
    walk = [u for urls in _urls(fresh_client, planted).values() for u in urls]
    staff_bodies = []
    admin = auth(planted["keys"]["admin"])
    for url in walk:  # staff first: a kept answer must not reach the public
        resp = fresh_client.get(url, headers=admin if url.startswith("/v1/admin") else reviewer)
        assert resp.status_code in (200, 404), (url, resp.status_code, resp.text)
        staff_bodies.append(resp.text)
    for secret in SECRETS:
        assert any(_shows(b, secret) for b in staff_bodies), f"staff never see {secret!r}"
    for url in walk:
        resp = fresh_client.get(url)
        assert resp.status_code in (200, 401, 404), (url, resp.status_code, resp.text)
        leaked = [s for s in SECRETS if _shows(resp.text, s)]
        assert not leaked, (url, leaked)
        if resp.headers.get("content-type", "").startswith(("application/json", "application/geo+json")):
            fields = STAFF_FIELDS & set(_keys(resp.json()))
            assert not fields, (url, fields)


def test_what_the_public_reads(fresh_client: TestClient, planted: dict[str, Any]) -> None:
    p = planted
    for pid in (p["pending"], p["rejected"], p["rename"], p["bulk"]):
        assert fresh_client.get(f"/v1/place-names/{pid}").status_code == 404
        assert fresh_client.get(f"/collections/place-names/items/{pid}").status_code == 404
    for status in ("proposed", "rejected", "superseded"):
        refused = fresh_client.get("/v1/place-names", params={"status": status})
        assert refused.status_code == 401 and "approved" in refused.json()["detail"]
    approved = fresh_client.get(f"/v1/place-names/{p['approved']}").json()["properties"]
    assert approved["name"] == APPROVED and approved["origin"] == ORIGIN and approved["status"] == "approved"
    renamed = fresh_client.get(f"/v1/place-names/{p['renamed']}").json()["properties"]
    assert renamed["name"] == RENAMED_TO
    assert [sorted(h) for h in renamed["history"]] == [["name", "pinyin", "valid_from", "valid_to"]]
    for path in (
        f"/v1/boundary-markers/{p['marker']}/inspections",
        f"/v1/place-name-signs/{p['sign']}/inspections",
    ):
        latest = fresh_client.get(path).json()[-1]
        assert latest["status"] == "damaged" and sorted(latest) == ["id", "inspected_on", "status"]
    bad_key = fresh_client.get("/v1/place-names", headers={"Authorization": "Bearer gs_not-a-key"})
    assert bad_key.status_code == 401


def test_what_staff_read(fresh_client: TestClient, fresh_url: str, planted: dict[str, Any]) -> None:
    p, reviewer = planted, auth(planted["keys"]["reviewer"])
    pending = fresh_client.get(f"/v1/place-names/{p['pending']}", headers=reviewer).json()["properties"]
    assert pending["note"] == NOTE and pending["proposed_by"] == f"{STAFF}-surveyor"
    rejected = fresh_client.get(f"/v1/place-names/{p['rejected']}", headers=reviewer).json()["properties"]
    assert rejected["review_comment"] == REJECT_COMMENT and rejected["reviewed_by"] == f"{STAFF}-reviewer"
    rename = fresh_client.get(f"/v1/place-names/{p['rename']}", headers=reviewer).json()["properties"]
    assert rename["justification"] == JUSTIFICATION
    history = fresh_client.get(f"/v1/place-names/{p['renamed']}", headers=reviewer).json()["properties"][
        "history"
    ]
    assert history[0]["reason"] == RENAME_COMMENT
    listed = fresh_client.get(
        "/v1/place-names", params={"status": "proposed", "q": PENDING}, headers=reviewer
    )
    assert [f["properties"]["note"] for f in listed.json()["features"]] == [NOTE]
    marker = fresh_client.get(f"/v1/boundary-markers/{p['marker']}/inspections", headers=reviewer).json()[-1]
    assert marker["note"] == MARKER_NOTE and marker["inspector"] == f"{STAFF}-surveyor"
    assert marker["position"]["type"] == "Point"
    assert marker["attachment_ids"] == [p["photo"]] and marker["inspectors"][0] == {
        "name": JOINT,
        "side": ANY,
    }
    sign = fresh_client.get(f"/v1/place-name-signs/{p['sign']}/inspections", headers=reviewer).json()[-1]
    assert sign["note"] == SIGN_NOTE and sign["position"]["type"] == "Point"
    assert sign["attachment_ids"] == [p["photo"]]
    assert pending["attachment_ids"] == [p["photo"]]
    assert fresh_client.get(f"/v1/place-name-signs/{p['sign']}", headers=reviewer).json()["properties"][
        "attachment_ids"
    ] == [p["photo"]]
    photo = fresh_client.get(f"/v1/attachments/{p['photo']}", headers=reviewer)
    assert photo.headers["content-type"] == "image/jpeg" and PHOTO.encode() in photo.content


def test_a_surveyor_reads_others_proposals_for_conflicts_only(
    fresh_client: TestClient, fresh_url: str, planted: dict[str, Any]
) -> None:
    other = auth(make_keys(fresh_url, prefix="other")["surveyor"])
    theirs = fresh_client.get(f"/v1/place-names/{planted['pending']}", headers=other).json()
    assert sorted(theirs["properties"]) == ["category", "name", "status"]
    assert theirs["id"] == planted["pending"] and theirs["geometry"]["type"] == "LineString"
    found = fresh_client.get(
        "/v1/place-names", params={"status": "proposed", "q": PENDING}, headers=other
    ).json()
    assert [sorted(f["properties"]) for f in found["features"]] == [["category", "name", "score", "status"]]
    approved = fresh_client.get(f"/v1/place-names/{planted['approved']}", headers=other).json()["properties"]
    assert approved["origin"] == ORIGIN and not STAFF_FIELDS & set(
        approved
    )  # the public view of an approved name
    mine = fresh_client.post(
        "/v1/place-names",
        headers=other,
        json={
            "type": "Feature",
            "geometry": line_in(fresh_url, big_village(fresh_url, "440117")),
            "properties": {"name": "禾雀自有路", "category": "road", "note": "mine"},
        },
    ).json()
    own = fresh_client.get(f"/v1/place-names/{mine['id']}", headers=other).json()["properties"]
    assert own["note"] == "mine" and own["proposed_by"] == "other-surveyor"
    original = auth(planted["keys"]["surveyor"])
    assert (
        "note" not in fresh_client.get(f"/v1/place-names/{mine['id']}", headers=original).json()["properties"]
    )
