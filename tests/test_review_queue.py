"""The review queue (GET /v1/place-names with staff filters) and the same set as the staff-only OGC collection
place-name-proposals, read with a key, a session or HTTP Basic (QGIS), over HTTP against PostGIS."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Geod

from geo_service.domain.crs import geometry_from_wgs84
from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, line_in, make_keys

GEOD = Geod(ellps="WGS84")


def _feature(geometry: dict[str, Any], name: str, category: str) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"name": name, "category": category}}


@pytest.fixture
def queue(fresh_client: TestClient, fresh_url: str) -> dict[str, Any]:
    """Proposals by two surveyors in two districts and three states."""
    c = fresh_client
    keys = make_keys(fresh_url)
    other = make_keys(fresh_url, prefix="other")["surveyor"]
    north, south = big_village(fresh_url, "440117"), big_village(fresh_url, "440118")

    def propose(key: str, name: str, village: str, category: str = "road") -> int:
        resp = c.post(
            "/v1/place-names", json=_feature(line_in(fresh_url, village), name, category), headers=auth(key)
        )
        assert resp.status_code == 201, resp.text
        return int(resp.json()["id"])

    ids = {
        "a_road_north": propose(keys["surveyor"], "禾雀队北路", north),
        "a_alley_south": propose(keys["surveyor"], "禾雀队一巷", south, "alley"),
        "a_returned": propose(keys["surveyor"], "禾雀队退路", south),
        "a_rejected": propose(keys["surveyor"], "禾雀队驳路", south),
        "b_road_south": propose(other, "禾雀队南路", south),
    }
    for name, decision in (("a_returned", "return"), ("a_rejected", "reject")):
        resp = c.post(
            f"/v1/place-names/{ids[name]}/review",
            json={"decision": decision, "comment": "意见"},
            headers={**auth(keys["reviewer"]), "If-Match": '"1"'},
        )
        assert resp.status_code == 200, resp.text
    # The first proposal is older than the others (a date the queue's since and sort can tell apart).
    query(
        fresh_url,
        "UPDATE place_names SET created_at = '2025-03-01T08:00:00+08:00' WHERE id = :i",
        i=ids["a_road_north"],
    )
    return {"keys": keys, "other": other, "ids": ids, "north": north, "south": south}


def _ids(resp: Any) -> list[int]:
    assert resp.status_code == 200, resp.text
    return [f["id"] for f in resp.json()["features"]]


def test_the_queue_and_its_filters(fresh_client: TestClient, fresh_url: str, queue: dict[str, Any]) -> None:
    c, ids, reviewer = fresh_client, queue["ids"], auth(queue["keys"]["reviewer"])
    pending = [ids["a_road_north"], ids["a_alley_south"], ids["b_road_south"]]
    in_sample = [
        i
        for (i,) in query(
            fresh_url, "SELECT id FROM place_names WHERE status = 'proposed' ORDER BY created_at, id"
        )
    ]
    everything = _ids(
        c.get("/v1/place-names", params={"status": "proposed", "limit": 1000}, headers=reviewer)
    )
    assert everything == in_sample and everything[0] == ids["a_road_north"]  # oldest first
    assert set(pending) <= set(everything)
    newest = _ids(
        c.get(
            "/v1/place-names",
            params={"status": "proposed", "sort": "-created", "limit": 1000},
            headers=reviewer,
        )
    )
    assert newest == everything[::-1]
    page = _ids(
        c.get("/v1/place-names", params={"status": "proposed", "limit": 2, "offset": 1}, headers=reviewer)
    )
    assert page == everything[1:3]

    def ours(**params: Any) -> list[int]:
        found = _ids(
            c.get("/v1/place-names", params={"q": "禾雀队", "sort": "created", **params}, headers=reviewer)
        )
        return [i for i in found if i in ids.values()]

    assert ours(status="proposed") == pending
    assert (
        ours(status=["proposed", "returned"])
        == ours(status="proposed,returned")
        == [ids["a_road_north"], ids["a_alley_south"], ids["a_returned"], ids["b_road_south"]]
    )
    assert ours(status="proposed", district="440118") == [ids["a_alley_south"], ids["b_road_south"]]
    assert ours(status="proposed", division=queue["north"]) == [ids["a_road_north"]]
    assert (
        ours(status="proposed", category="巷")
        == ours(status="proposed", category="alley")
        == [ids["a_alley_south"]]
    )
    assert ours(status="proposed", proposed_by="other-surveyor") == [ids["b_road_south"]]
    assert ours(status="proposed", since="2025-03-02") == [ids["a_alley_south"], ids["b_road_south"]]
    assert ours(status="proposed", since="2025-03-01") == pending
    row = c.get("/v1/place-names", params={"status": "proposed", "q": "禾雀队北路"}, headers=reviewer).json()
    assert row["features"][0]["properties"]["proposed_by"] == "test-surveyor"


def test_mine_lists_own_proposals_in_every_state(fresh_client: TestClient, queue: dict[str, Any]) -> None:
    c, ids = fresh_client, queue["ids"]
    mine = c.get("/v1/place-names", params={"mine": "true"}, headers=auth(queue["keys"]["surveyor"])).json()
    states = {
        f["id"]: (f["properties"]["status"], f["properties"].get("review_comment")) for f in mine["features"]
    }
    assert states == {
        ids["a_road_north"]: ("proposed", None),
        ids["a_alley_south"]: ("proposed", None),
        ids["a_returned"]: ("returned", "意见"),
        ids["a_rejected"]: ("rejected", "意见"),
    }
    theirs = _ids(c.get("/v1/place-names", params={"mine": "true"}, headers=auth(queue["other"])))
    assert theirs == [ids["b_road_south"]]
    returned = _ids(
        c.get(
            "/v1/place-names",
            params={"mine": "true", "status": "returned"},
            headers=auth(queue["keys"]["surveyor"]),
        )
    )
    assert returned == [ids["a_returned"]]


def test_names_near_a_point(fresh_client: TestClient, fresh_url: str, queue: dict[str, Any]) -> None:
    c, ids, reviewer = fresh_client, queue["ids"], auth(queue["keys"]["reviewer"])
    (x, y), (x2, y2) = line_in(fresh_url, queue["north"])["coordinates"]
    lon, lat = x + 0.001, y + 0.001  # off the line, north-east of its start
    params = {
        "near": f"{lon},{lat}",
        "radius_m": 500,
        "status": "proposed,approved",
        "limit": 1000,
        "sort": "distance",
    }
    found = c.get("/v1/place-names", params=params, headers=reviewer).json()["features"]
    assert ids["a_road_north"] in [f["id"] for f in found] and ids["a_alley_south"] not in [
        f["id"] for f in found
    ]
    ours = next(f for f in found if f["id"] == ids["a_road_north"])
    # Oracle: the geodesic distance from the point to the segment, sampled finely along it with pyproj.
    samples = [(x + (x2 - x) * t / 2000, y + (y2 - y) * t / 2000) for t in range(2001)]
    expected = min(GEOD.inv(lon, lat, sx, sy)[2] for sx, sy in samples)
    assert abs(ours["properties"]["distance_m"] - expected) < 1.0
    distances = [f["properties"]["distance_m"] for f in found]
    assert distances == sorted(distances) and distances[-1] <= 500
    gcj = geometry_from_wgs84(shapely.Point(lon, lat), "gcj02")
    shifted = c.get(
        "/v1/place-names", params={**params, "near": f"{gcj.x},{gcj.y}", "crs": "gcj02"}, headers=reviewer
    )
    assert _ids(shifted) == [f["id"] for f in found]
    small = _ids(c.get("/v1/place-names", params={**params, "radius_m": 1}, headers=reviewer))
    assert ids["a_road_north"] not in small


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"status": "bogus"}, 422, "status"),
        ({"status": ","}, 422, "status"),
        ({"near": "113.3"}, 400, "lon,lat"),
        ({"near": "abc,def"}, 400, "lon,lat"),
        ({"near": "200,23"}, 400, "range"),
        ({"near": "nan,23"}, 400, "lon,lat"),
        ({"sort": "distance"}, 400, "near"),
        ({"sort": "name"}, 422, "sort"),
        ({"radius_m": 0, "near": "113.3,23.1"}, 422, "radius_m"),
        ({"since": "2025-13-01"}, 422, "since"),
        ({"district": "4401"}, 422, "district"),
        ({"category": "机场"}, 422, "category"),
    ],
)
def test_bad_queue_parameters_are_4xx(
    fresh_client: TestClient, queue: dict[str, Any], params: dict[str, Any], status: int, says: str
) -> None:
    resp = fresh_client.get("/v1/place-names", params=params, headers=auth(queue["keys"]["reviewer"]))
    assert resp.status_code == status, resp.text
    assert says in resp.json()["detail"]


def test_the_queue_is_for_staff(fresh_client: TestClient, queue: dict[str, Any]) -> None:
    c = fresh_client
    for params in (
        {"status": "proposed"},
        {"status": "approved,proposed"},
        {"mine": "true"},
        {"proposed_by": "test-surveyor"},
    ):
        refused = c.get("/v1/place-names", params=params)
        assert refused.status_code == 401 and "Basic" in refused.headers["WWW-Authenticate"]
    public = _ids(c.get("/v1/place-names", params={"q": "禾雀队", "district": "440118"}))
    assert public == []  # none is approved
    surveyor = auth(queue["keys"]["surveyor"])
    assert (
        c.get("/v1/place-names", params={"proposed_by": "other-surveyor"}, headers=surveyor).status_code
        == 403
    )
    own = c.get(
        "/v1/place-names", params={"proposed_by": "test-surveyor", "status": "proposed"}, headers=surveyor
    )
    assert own.status_code == 200


def _basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_the_proposals_collection_is_for_staff(fresh_client: TestClient, queue: dict[str, Any]) -> None:
    c, keys = fresh_client, queue["keys"]
    public = [coll["id"] for coll in c.get("/collections").json()["collections"]]
    assert "place-name-proposals" not in public and "place-names" in public
    staff = [
        coll["id"] for coll in c.get("/collections", headers=auth(keys["reviewer"])).json()["collections"]
    ]
    assert staff == [*public, "place-name-proposals"]
    for path in (
        "/collections/place-name-proposals",
        "/collections/place-name-proposals/items",
        f"/collections/place-name-proposals/items/{queue['ids']['a_road_north']}",
    ):
        refused = c.get(path)
        assert refused.status_code == 401 and "Basic" in refused.headers["WWW-Authenticate"], path
        assert "place-name-proposals" in refused.json()["detail"]


def test_qgis_reads_the_proposals_with_basic_credentials(
    fresh_client: TestClient, fresh_url: str, queue: dict[str, Any]
) -> None:
    c, keys, ids = fresh_client, queue["keys"], queue["ids"]
    password = "correct horse battery"
    made = c.post(
        "/v1/admin/users",
        json={"name": "qgis-reviewer", "role": "reviewer", "password": password},
        headers=auth(keys["admin"]),
    )
    assert made.status_code == 201, made.text
    pending = {i for (i,) in query(fresh_url, "SELECT id FROM place_names WHERE status = 'proposed'")}
    queue_ids = set(
        _ids(
            c.get(
                "/v1/place-names",
                params={"status": "proposed", "limit": 1000},
                headers=auth(keys["reviewer"]),
            )
        )
    )
    for headers in (
        _basic("qgis-reviewer", password),
        _basic("anyone", keys["reviewer"]),
        auth(keys["reviewer"]),
    ):
        items = c.get("/collections/place-name-proposals/items", params={"limit": 10000}, headers=headers)
        assert items.status_code == 200, items.text
        assert items.headers["content-type"].startswith("application/geo+json")
        assert "no-store" in items.headers["Cache-Control"]
        assert {f["id"] for f in items.json()["features"]} == pending == queue_ids
    one = c.get(
        f"/collections/place-name-proposals/items/{ids['b_road_south']}", headers=auth(keys["reviewer"])
    )
    assert one.status_code == 200 and one.json()["properties"]["proposed_by"] == "other-surveyor"
    decided = c.get(
        f"/collections/place-name-proposals/items/{ids['a_rejected']}", headers=auth(keys["reviewer"])
    )
    assert decided.status_code == 404
    south = c.get(
        "/collections/place-name-proposals/items",
        params={"district_code": "440118", "limit": 10000},
        headers=auth(keys["reviewer"]),
    )
    assert ids["b_road_south"] in {f["id"] for f in south.json()["features"]}
    assert ids["a_road_north"] not in {f["id"] for f in south.json()["features"]}
    wrong = c.get(
        "/collections/place-name-proposals/items", headers=_basic("qgis-reviewer", "wrong password")
    )
    assert wrong.status_code == 401


def test_a_surveyor_reads_the_proposals_as_conflicts_show_them(
    fresh_client: TestClient, queue: dict[str, Any]
) -> None:
    c, surveyor = fresh_client, auth(queue["keys"]["surveyor"])
    items = c.get("/collections/place-name-proposals/items", params={"limit": 10000}, headers=surveyor).json()
    assert items["features"] and all(
        sorted(f["properties"]) == ["category", "name", "status"] for f in items["features"]
    )
    by_proposer = c.get(
        "/collections/place-name-proposals/items", params={"proposed_by": "other-surveyor"}, headers=surveyor
    )
    assert by_proposer.status_code == 400
