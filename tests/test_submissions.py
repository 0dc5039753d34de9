"""Bulk uploads: every format, declared CRS, encodings, all or nothing, dry runs, limits."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.domain.crs import geometry_from_wgs84
from tests.conftest import settings_for
from tests.conftest import sql as query
from tests.writes_helpers import auth, counts, line_in, make_keys

SPECIFICS = ["鹤鸣", "松涛", "桂香", "榕荫", "竹影", "荷风"]


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def villages(url: str, n: int) -> list[str]:
    return [
        r[0]
        for r in query(
            url,
            "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440118%' "
            "ORDER BY area_m2 DESC LIMIT :n",
            n=n,
        )
    ]


def streets(url: str, n: int = 3, crs: str = "wgs84") -> tuple[gpd.GeoDataFrame, list[str]]:
    codes = villages(url, n)
    geoms = [geometry_from_wgs84(shapely.geometry.shape(line_in(url, c)), crs) for c in codes]
    frame = gpd.GeoDataFrame(
        {"name": [f"{s}路" for s in SPECIFICS[:n]], "origin": ["村民推荐"] * n},
        geometry=geoms,
        crs="EPSG:4326",
    )
    return frame, codes


def upload(client: TestClient, key: str, filename: str, content: bytes, **form: str) -> object:
    data = {"crs": "wgs84", "category": "road", **form}
    return client.post("/v1/submissions", files={"file": (filename, content)}, data=data, headers=auth(key))


def as_bytes(frame: gpd.GeoDataFrame, fmt: str, tmp_path: Path) -> tuple[str, bytes]:
    if fmt == "geojson":
        return "streets.geojson", frame.to_json().encode()
    if fmt == "gpkg":
        frame.to_file(tmp_path / "s.gpkg", driver="GPKG")
        return "streets.gpkg", (tmp_path / "s.gpkg").read_bytes()
    if fmt == "shp-gbk-no-cpg":
        folder = tmp_path / "shp"
        folder.mkdir()
        frame.to_file(folder / "streets.shp", encoding="GB18030")
        (folder / "streets.cpg").unlink()  # as many Chinese GIS exports: GBK text, no .cpg
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for part in folder.iterdir():
                zf.write(part, part.name)
        return "streets.zip", buf.getvalue()
    if fmt == "csv-wkt-gbk":
        table = frame.drop(columns="geometry").assign(wkt=frame.geometry.to_wkt())
        return "streets.csv", table.to_csv(index=False).encode("gb18030")
    raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp-gbk-no-cpg", "csv-wkt-gbk"])
def test_upload_formats(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    frame, codes = streets(fresh_url)
    name, content = as_bytes(frame, fmt, tmp_path)
    resp = upload(fresh_client, keys["surveyor"], name, content)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["accepted"] and len(body["features"]) == 3
    rows = query(
        fresh_url,
        "SELECT name, division_code, status, submission_id FROM place_names WHERE id = ANY(:ids) ORDER BY id",
        ids=[f["id"] for f in body["features"]],
    )
    assert [r[0] for r in rows] == list(frame["name"])  # Chinese read right, whatever the encoding
    assert [r[1] for r in rows] == codes
    assert {r[2] for r in rows} == {"proposed"} and {r[3] for r in rows} == {body["submission_id"]}
    again = fresh_client.get(f"/v1/submissions/{body['submission_id']}", headers=auth(keys["surveyor"]))
    assert again.status_code == 200 and again.json()["feature_count"] == 3


def test_gcj02_file_declared_as_such_lands_right(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    frame, codes = streets(fresh_url, crs="gcj02")
    resp = upload(fresh_client, keys["surveyor"], "amap.geojson", frame.to_json().encode(), crs="gcj02")
    assert resp.status_code == 201, resp.text
    got = [
        r[0]
        for r in query(
            fresh_url,
            "SELECT division_code FROM place_names WHERE submission_id = :s ORDER BY id",
            s=resp.json()["submission_id"],
        )
    ]
    assert got == codes


def test_one_bad_feature_writes_nothing(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    frame, _ = streets(fresh_url, 5)
    frame.loc[1, "name"] = "Main路"
    frame.loc[3, "name"] = frame.loc[0, "name"]  # a duplicate inside the file
    before = counts(fresh_url)
    resp = upload(fresh_client, keys["surveyor"], "s.geojson", frame.to_json().encode())
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert {e["index"] for e in errors} == {1, 3}
    assert {e["rule"] for e in errors} == {"characters", "duplicate"}
    assert counts(fresh_url) == before


def test_dry_run_writes_nothing(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    frame, _ = streets(fresh_url)
    before = counts(fresh_url)
    resp = upload(fresh_client, keys["surveyor"], "s.geojson", frame.to_json().encode(), dry_run="true")
    assert resp.status_code == 200, resp.text
    assert resp.json()["dry_run"] is True and resp.json()["submission_id"] is None
    assert counts(fresh_url) == before


def test_limits(fresh_url: str, keys: dict[str, str], tmp_path: Path) -> None:
    frame, _ = streets(fresh_url, 3)
    settings = settings_for(fresh_url, max_upload_mb=1, max_upload_features=2)
    before = counts(fresh_url)
    with TestClient(create_app(settings)) as client:
        big = upload(client, keys["surveyor"], "big.geojson", b" " * (2 * 1024 * 1024))
        assert big.status_code == 413 and "MB" in big.json()["detail"]
        many = upload(client, keys["surveyor"], "s.geojson", frame.to_json().encode())
        assert many.status_code == 413 and "features" in many.json()["detail"]
        traversal = io.BytesIO()
        with zipfile.ZipFile(traversal, "w") as zf:
            zf.writestr("../../etc/evil.shp", b"x")
        resp = upload(client, keys["surveyor"], "evil.zip", traversal.getvalue())
        assert resp.status_code == 400 and "outside the archive" in resp.json()["detail"]
        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("streets.shp", b"\0" * (50 * 1024 * 1024))
        resp = upload(client, keys["surveyor"], "bomb.zip", bomb.getvalue())
        assert resp.status_code == 413 and "expands" in resp.json()["detail"]
        for name, content, says in [
            ("notes.txt", b"hello", "unsupported file type"),
            ("s.geojson", b"{not json", "cannot be read"),
            ("s.csv", "名称,x\n天河路,1\n".encode(), "lon"),
            ("s.zip", b"PK garbage", "zip"),
        ]:
            resp = upload(client, keys["surveyor"], name, content)
            assert resp.status_code == 400 and says in resp.json()["detail"], (name, resp.text)
        unknown_crs = upload(
            client, keys["surveyor"], "s.geojson", frame.iloc[:1].to_json().encode(), crs="mars"
        )
        assert unknown_crs.status_code == 400 and "unknown CRS" in unknown_crs.json()["detail"]
    assert counts(fresh_url) == before
