"""Locating a point: its district, township and village; shared borders; outside; GCJ-02 input."""

from __future__ import annotations

from fastapi.testclient import TestClient

from geo_service.domain.crs import wgs84_to_gcj02
from tests.conftest import sql as query


def test_locate_a_known_village(client: TestClient, sample_url: str) -> None:
    x, y = query(
        sample_url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM divisions "
        "WHERE code = '440106010001') s",
    )[0]
    body = client.get("/v1/divisions/locate", params={"lon": x, "lat": y}).json()
    assert body["district"] == {"code": "440106", "name": "天河区"}
    assert body["township"]["code"] == "440106010"
    assert body["village"]["code"] == "440106010001"


def test_gcj02_input_gives_the_same_answer(client: TestClient, sample_url: str) -> None:
    x, y = query(
        sample_url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM divisions "
        "WHERE level = 'village' AND code LIKE '440104%' ORDER BY area_m2 LIMIT 1) s",
    )[0]
    gx, gy = (float(v) for v in wgs84_to_gcj02(x, y))
    wgs = client.get("/v1/divisions/locate", params={"lon": x, "lat": y}).json()
    gcj = client.get("/v1/divisions/locate", params={"lon": gx, "lat": gy, "crs": "gcj02"}).json()
    assert wgs == gcj
    # The same numbers taken as WGS84 land ~600 m away, in another village.
    assert (
        client.get("/v1/divisions/locate", params={"lon": gx, "lat": gy}).json()["village"] != wgs["village"]
    )


def test_a_point_on_a_shared_border_gets_the_lowest_code(client: TestClient, sample_url: str) -> None:
    # A vertex of the 天河区—白云区 line lies on both districts.
    x, y = query(
        sample_url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_GeometryN(geom, 1), 3) p "
        "FROM boundary_lines WHERE code = '440106-440111') s",
    )[0]
    covering = query(
        sample_url,
        "SELECT code FROM divisions WHERE level = 'district' AND "
        "ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) ORDER BY code",
        x=x,
        y=y,
    )
    assert [c[0] for c in covering] == ["440106", "440111"]
    answers = {
        client.get("/v1/divisions/locate", params={"lon": x, "lat": y}).json()["district"]["code"]
        for _ in range(3)
    }
    assert answers == {"440106"}
    body = client.get("/v1/divisions/locate", params={"lon": x, "lat": y}).json()
    assert body["township"]["code"].startswith("440106") and body["village"]["code"].startswith(
        body["township"]["code"]
    )


def test_outside_the_region_is_404(client: TestClient) -> None:
    resp = client.get("/v1/divisions/locate", params={"lon": 116.4, "lat": 39.9})
    assert resp.status_code == 404
    assert "outside every loaded district" in resp.json()["detail"]
