"""OGC API – Tiles: MVT tiles read back by GDAL (its MVT driver, through pyogrio and ogrinfo), checked against
the database's positions projected by pyproj; tileset metadata and TileJSON; caching per data version."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pyogrio
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from geo_service.services.tiles import POINT_DETAIL_ZOOM, tile_of
from tests.conftest import IN_CI, LiveServer
from tests.conftest import sql as query

TO_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
HALF_WORLD = 20037508.342789244
MVT = "application/vnd.mapbox-vector-tile"


def _bounds(z: int, y: int, x: int) -> tuple[float, float, float, float]:
    size = 2 * HALF_WORLD / 2**z
    return (
        -HALF_WORLD + x * size,
        HALF_WORLD - (y + 1) * size,
        -HALF_WORLD + (x + 1) * size,
        HALF_WORLD - y * size,
    )


def _read(tmp_path: Path, body: bytes, z: int, y: int, x: int, layer: str) -> Any:
    path = tmp_path / f"{z}-{y}-{x}.mvt"
    path.write_bytes(body)
    # GDAL takes the tile's place from open options (our paths are z/y/x, its file names z/x/y)
    return pyogrio.read_dataframe(path, layer=layer, X=str(x), Y=str(y), Z=str(z))


def _stations(url: str) -> dict[int, tuple[float, float]]:
    rows = query(url, "SELECT id, lon, lat FROM facilities WHERE type = 'social_work_station'")
    return {int(i): (float(lon), float(lat)) for i, lon, lat in rows}


def test_a_detailed_tile_holds_every_point_where_the_database_has_it(
    client: TestClient, sample_url: str, tmp_path: Path
) -> None:
    stations = _stations(sample_url)
    lon, lat = next(iter(stations.values()))
    z = POINT_DETAIL_ZOOM
    y, x = tile_of(lon, lat, z)
    resp = client.get(f"/collections/social-work-stations/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert resp.status_code == 200 and resp.headers["content-type"] == MVT
    frame = _read(tmp_path, resp.content, z, y, x, "social-work-stations")
    minx, miny, maxx, maxy = _bounds(z, y, x)
    expected = {}
    for fid, (plon, plat) in stations.items():
        px, py = TO_3857.transform(plon, plat)
        if minx <= px < maxx and miny < py <= maxy:
            expected[fid] = (px, py)
    assert expected
    pixel = (maxx - minx) / 4096
    got = (
        {int(r.mvt_id): (r.geometry.x, r.geometry.y) for r in frame.itertuples()} if "mvt_id" in frame else {}
    )
    if not got:  # GDAL exposes the MVT feature id as the FID
        frame = pyogrio.read_dataframe(
            tmp_path / f"{z}-{y}-{x}.mvt",
            layer="social-work-stations",
            X=str(x),
            Y=str(y),
            Z=str(z),
            fid_as_index=True,
        )
        got = {int(fid): (g.x, g.y) for fid, g in zip(frame.index, frame.geometry, strict=True)}
    assert set(got) == set(expected)
    for fid, (px, py) in expected.items():
        assert math.dist(got[fid], (px, py)) <= pixel
    assert set(frame.columns) >= {"name", "status", "district_code"}


def test_low_zoom_point_tiles_count_every_point(client: TestClient, sample_url: str, tmp_path: Path) -> None:
    points = query(sample_url, "SELECT lon, lat FROM facilities WHERE type = 'social_work_point'")
    z = 9
    y, x = tile_of(float(points[0][0]), float(points[0][1]), z)
    minx, miny, maxx, maxy = _bounds(z, y, x)
    surely_in = maybe_in = 0  # points on the tile's edge (within a metre) may count on either side
    for lon, lat in points:
        px, py = TO_3857.transform(float(lon), float(lat))
        surely_in += minx + 1 < px < maxx - 1 and miny + 1 < py < maxy - 1
        maybe_in += minx - 1 <= px <= maxx + 1 and miny - 1 <= py <= maxy + 1
    assert maybe_in - surely_in < 5
    body = client.get(f"/collections/social-work-points/tiles/WebMercatorQuad/{z}/{y}/{x}").content
    frame = _read(tmp_path, body, z, y, x, "social-work-points")
    assert len(frame) < surely_in <= int(frame["count"].sum()) <= maybe_in


def test_all_layers_tile_and_polygons(client: TestClient, tmp_path: Path) -> None:
    z, y, x = 10, *tile_of(113.33, 23.13, 10)
    resp = client.get(f"/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert resp.status_code == 200
    path = tmp_path / "all.mvt"
    path.write_bytes(resp.content)
    names = {name for name, _ in pyogrio.list_layers(path)}
    assert {"districts", "villages", "elderly-canteens", "boundary-lines"} <= names
    districts = pyogrio.read_dataframe(path, layer="districts", X=str(x), Y=str(y), Z=str(z))
    assert "440106" in set(districts["id"])  # 天河区 (text ids travel as a property)


def test_tileset_metadata_and_tilejson(client: TestClient) -> None:
    tilesets = client.get("/collections/villages/tiles").json()["tilesets"]
    assert tilesets[0]["tileMatrixSetURI"].endswith("/WebMercatorQuad")
    item = next(link for link in tilesets[0]["links"] if link["rel"] == "item")
    assert item["href"].endswith(
        "/collections/villages/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"
    )
    tj = client.get("/collections/villages/tiles/WebMercatorQuad/tilejson.json").json()
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"][0].endswith("/collections/villages/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert (
        tj["vector_layers"][0]["id"] == "villages"
        and tj["vector_layers"][0]["fields"]["population"] == "Number"
    )
    assert 112.9 < tj["bounds"][0] < tj["bounds"][2] < 114.1
    everything = client.get("/tiles/WebMercatorQuad/tilejson.json").json()
    assert len(everything["vector_layers"]) == len(client.get("/collections").json()["collections"])
    links = client.get("/").json()["links"]
    assert any(link["rel"].endswith("tilesets-vector") for link in links)


@pytest.mark.parametrize(
    "path",
    [
        "/collections/villages/tiles/WebMercatorQuad/21/0/0",
        "/collections/villages/tiles/WebMercatorQuad/3/8/0",
        "/collections/villages/tiles/WebMercatorQuad/3/0/-1",
        "/collections/villages/tiles/WorldCRS84Quad/3/0/0",
        "/collections/nope/tiles/WebMercatorQuad/3/0/0",
        "/tiles/WebMercatorQuad/99/0/0",
    ],
)
def test_tiles_outside_the_matrix_are_404(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404 and resp.json()["detail"]


def test_tiles_follow_the_data_version(fresh_url: str, fresh_client: TestClient, tmp_path: Path) -> None:
    stations = _stations(fresh_url)
    fid, (lon, lat) = next(iter(stations.items()))
    z = 15
    y, x = tile_of(lon, lat, z)
    url = f"/collections/social-work-stations/tiles/WebMercatorQuad/{z}/{y}/{x}"
    before = fresh_client.get(url)
    assert fresh_client.get(url, headers={"If-None-Match": before.headers["etag"]}).status_code == 304
    query(fresh_url, "UPDATE facilities SET name = '改名站' WHERE id = :fid", fid=fid)
    after = fresh_client.get(url)
    assert after.headers["etag"] != before.headers["etag"]
    frame = _read(tmp_path, after.content, z, y, x, "social-work-stations")
    assert "改名站" in set(frame["name"])


@pytest.mark.skipif(shutil.which("ogrinfo") is None and not IN_CI, reason="GDAL (gdal-bin) is not installed")
def test_ogrinfo_reads_a_tile_fetched_over_http(
    live_server: LiveServer, sample_url: str, tmp_path: Path
) -> None:
    lon, lat = next(iter(_stations(sample_url).values()))
    z = 12
    y, x = tile_of(lon, lat, z)
    url = f"{live_server.base}/collections/social-work-stations/tiles/WebMercatorQuad/{z}/{y}/{x}"
    tile = tmp_path / "tile"
    tile.write_bytes(httpx.get(url).content)
    done = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-so", "-oo", f"X={x}", "-oo", f"Y={y}", "-oo", f"Z={z}", f"MVT:{tile}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Layer name: social-work-stations" in done.stdout
    count = int(done.stdout.split("Feature Count: ")[1].split()[0])
    assert count >= 1
