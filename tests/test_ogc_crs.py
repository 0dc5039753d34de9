"""OGC API – Features Part 2: crs and bbox-crs with CRS84, EPSG:4326, EPSG:4490 (CGCS2000) and EPSG:4547.

Checked against pyproj, which knows each CRS's axis order: its authority-order transformers take and give
coordinates in the order the CRS defines (latitude first for 4326/4490, northing first for 4547).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TO_4547 = Transformer.from_crs("EPSG:4326", "EPSG:4547")  # (lat, lon) -> (northing, easting)


def _points(client: TestClient, params: dict[str, Any] | None = None) -> tuple[dict[int, list[float]], Any]:
    resp = client.get("/collections/social-work-stations/items", params={"limit": 10_000, **(params or {})})
    assert resp.status_code == 200, resp.text
    return {f["id"]: f["geometry"]["coordinates"] for f in resp.json()["features"]}, resp


def test_collections_advertise_the_part2_systems(client: TestClient) -> None:
    body = client.get("/collections/villages").json()
    assert body["crs"] == [CRS84, EPSG + "4326", EPSG + "4490", EPSG + "4547"]
    assert body["storageCrs"] == CRS84
    assert (
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
        in client.get("/conformance").json()["conformsTo"]
    )


@pytest.mark.parametrize("code", ["4326", "4490"])
@pytest.mark.parametrize("spelling", ["uri", "short"])
def test_geographic_epsg_systems_are_latitude_first(client: TestClient, code: str, spelling: str) -> None:
    lonlat, plain = _points(client)
    assert plain.headers["content-crs"] == f"<{CRS84}>"
    crs = EPSG + code if spelling == "uri" else f"EPSG:{code}"
    latlon, resp = _points(client, {"crs": crs})
    assert resp.headers["content-crs"] == f"<{EPSG}{code}>"
    assert latlon.keys() == lonlat.keys() and len(latlon) > 100
    for fid, (lon, lat) in lonlat.items():
        assert latlon[fid] == [lat, lon]
    one = client.get(f"/collections/social-work-stations/items/{next(iter(lonlat))}", params={"crs": crs})
    assert one.json()["geometry"]["coordinates"] == latlon[next(iter(lonlat))]
    assert one.headers["content-crs"] == f"<{EPSG}{code}>"


def test_gauss_kruger_4547_is_northing_easting_as_pyproj_says(client: TestClient) -> None:
    lonlat, _ = _points(client)
    projected, resp = _points(client, {"crs": EPSG + "4547"})
    assert resp.headers["content-crs"] == f"<{EPSG}4547>"
    for fid, (lon, lat) in lonlat.items():
        northing, easting = TO_4547.transform(lat, lon)
        assert projected[fid] == pytest.approx([northing, easting], abs=0.01)
        assert 2_400_000 < northing < 2_700_000 and 300_000 < easting < 700_000  # CM 114E, no zone prefix
    # polygons too
    villages = client.get("/collections/districts/items/440106", params={"crs": "EPSG:4547"}).json()
    ring = villages["geometry"]["coordinates"][0][0]
    assert 2_400_000 < ring[0][0] < 2_700_000


def test_bbox_crs_reads_the_box_in_that_crs_and_axis_order(client: TestClient) -> None:
    lonlat, _ = _points(client)
    box = (113.25, 23.08, 113.40, 23.20)
    expected = {
        fid for fid, (lon, lat) in lonlat.items() if box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
    }
    assert expected
    latfirst = f"{box[1]},{box[0]},{box[3]},{box[2]}"
    for crs in (EPSG + "4326", "EPSG:4490"):
        got, _ = _points(client, {"bbox": latfirst, "bbox-crs": crs})
        assert set(got) == expected
    got, _ = _points(client, {"bbox": ",".join(map(str, box)), "bbox-crs": CRS84})
    assert set(got) == expected
    # a box in the Gauss-Kruger plane: northing, easting
    lon, lat = lonlat[min(lonlat)]
    n, e = TO_4547.transform(lat, lon)
    n0, e0, n1, e1 = round(n) - 8000.0, round(e) - 9000.0, round(n) + 7000.0, round(e) + 6000.0
    in_plane = {
        fid
        for fid, (lon, lat) in lonlat.items()
        if n0 <= TO_4547.transform(lat, lon)[0] <= n1 and e0 <= TO_4547.transform(lat, lon)[1] <= e1
    }
    assert 1 < len(in_plane) < len(lonlat)
    got, resp = _points(
        client, {"bbox": f"{n0},{e0},{n1},{e1}", "bbox-crs": EPSG + "4547", "crs": "EPSG:4547"}
    )
    assert set(got) == in_plane
    assert resp.headers["content-crs"] == f"<{EPSG}4547>"


def test_named_systems_stay_longitude_first(client: TestClient) -> None:
    lonlat, _ = _points(client)
    cgcs, resp = _points(client, {"crs": "cgcs2000"})
    assert cgcs == lonlat and "content-crs" not in resp.headers
    lon, lat = next(iter(lonlat.values()))
    params = {"lon": lon, "lat": lat, "type": "social_work_station", "k": 1, "crs": "cgcs2000"}
    nearest = client.get("/v1/facilities/nearest", params=params)
    assert nearest.json()["features"][0]["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)


@pytest.mark.parametrize(
    "params",
    [
        {"crs": "EPSG:3857"},
        {"crs": EPSG + "2000"},
        {"bbox": "1,2,3,4", "bbox-crs": "EPSG:3857"},
        {"bbox": "23.1,113.2,23.2", "bbox-crs": "EPSG:4326"},
        {"bbox": "23.2,113.2,23.1,113.3", "bbox-crs": "EPSG:4326"},
        {"bbox": "1e30,1e30,2e30,2e30", "bbox-crs": "EPSG:4547"},
    ],
)
def test_unsupported_systems_and_bad_boxes_are_400(client: TestClient, params: dict[str, str]) -> None:
    resp = client.get("/collections/social-work-stations/items", params=params)
    assert resp.status_code == 400, resp.text
    assert resp.json()["detail"]
