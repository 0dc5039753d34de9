"""Uploads stay data: a file is opened only as the kind its name declares, never as an OGR VRT, never reaching
local files or the network; heavy parsing runs in worker processes with bounded slots; messages say what is
wrong in the user's terms (no paths of ours, no GDAL text)."""

from __future__ import annotations

import http.server
import io
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.services.upload_pool import UploadPool
from tests.conftest import run, settings_for
from tests.conftest import sql as query
from tests.writes_helpers import auth, counts, line_in, make_keys, point_in

SECRET_FILE = "/etc/os-release"
SECRET_TEXT = Path(SECRET_FILE).read_text().splitlines()[0].split("=")[0]  # e.g. PRETTY_NAME


class Recorder(http.server.BaseHTTPRequestHandler):
    """A local HTTP server that records every request it receives (it must receive none)."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        body = b"name,lon,lat\nleaked,113.3,23.1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def vrt(source: str) -> bytes:
    """An OGR VRT document that reads ``source`` and copies its text into a place name's note (SQLite dialect)."""
    return f"""<OGRVRTDataSource>
  <OGRVRTLayer name="streets">
    <SrcDataSource>{source}</SrcDataSource>
    <SrcSQL dialect="sqlite">SELECT '天河北路' AS name, 'road' AS category, * FROM "os-release"</SrcSQL>
    <GeometryType>wkbLineString</GeometryType>
  </OGRVRTLayer>
</OGRVRTDataSource>
""".encode()


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def disguises(payload: bytes) -> list[tuple[str, bytes]]:
    """The payload under every name an upload accepts."""
    return [
        ("streets.geojson", payload),
        ("streets.json", payload),
        ("streets.gpkg", payload),
        ("streets.csv", payload),
        ("streets.kml", payload),
        ("streets.gpx", payload),
        ("streets.zip", zipped({"streets.shp": payload, "streets.dbf": b"", "streets.shx": b""})),
        ("streets.zip", zipped({"streets.shp": payload})),
        ("streets.kmz", zipped({"doc.kml": payload})),
    ]


def post(client: TestClient, key: str, name: str, content: bytes, **form: str) -> object:
    data = {"crs": "wgs84", "category": "road", "dry_run": "false", **form}
    return client.post("/v1/submissions", files={"file": (name, content)}, data=data, headers=auth(key))


def test_vrt_payloads_are_refused_under_every_name(
    fresh_client: TestClient, fresh_url: str, http_server: str
) -> None:
    keys = make_keys(fresh_url)
    before = counts(fresh_url)
    sources = [f"CSV:{SECRET_FILE}", f"CSV:/vsicurl/{http_server}/x.csv", f"/vsicurl/{http_server}/y.csv"]
    for source in sources:
        for name, content in disguises(vrt(source)):
            resp = post(fresh_client, keys["surveyor"], name, content)
            assert resp.status_code == 400, (source, name, resp.status_code, resp.text[:300])
            body = resp.text
            assert SECRET_TEXT not in body and "leaked" not in body, (source, name, body)
            assert "/tmp" not in body and "geo-upload" not in body and "vsi" not in body.lower(), body
    assert Recorder.hits == []
    assert counts(fresh_url) == before
    notes = query(fresh_url, "SELECT count(*) FROM place_names WHERE note LIKE :s", s=f"%{SECRET_TEXT}%")
    assert notes[0][0] == 0


def test_xml_with_entities_is_refused(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY leak SYSTEM "file://{SECRET_FILE}">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&leak;</name>
<Point><coordinates>113.3,23.1</coordinates></Point></Placemark></kml>""".encode()
    laughs = b"""<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>
<gpx><wpt lat="23.1" lon="113.3"><name>&b;</name></wpt></gpx>"""
    for name, content in [("a.kml", xxe), ("a.kmz", zipped({"doc.kml": xxe})), ("a.gpx", laughs)]:
        resp = post(fresh_client, keys["surveyor"], name, content, category="natural_village")
        assert resp.status_code == 400, (name, resp.text)
        assert "document type declaration" in resp.json()["detail"]
        assert SECRET_TEXT not in resp.text


def gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> bytes:
    for layer, frame in layers.items():
        frame.to_file(path, driver="GPKG", layer=layer)
    return path.read_bytes()


def test_geopackage_layers_are_asked_for_and_views_refused(
    fresh_client: TestClient, fresh_url: str, tmp_path: Path
) -> None:
    keys = make_keys(fresh_url)
    codes = [
        r[0]
        for r in query(
            fresh_url,
            "SELECT code FROM divisions WHERE level = 'village' "
            "AND code LIKE '440118%' ORDER BY code LIMIT 2",
        )
    ]
    lines = [shapely.geometry.shape(line_in(fresh_url, c)) for c in codes]
    roads = gpd.GeoDataFrame({"name": ["鹤鸣路"]}, geometry=[lines[0]], crs="EPSG:4326")
    alleys = gpd.GeoDataFrame({"name": ["松涛巷"]}, geometry=[lines[1]], crs="EPSG:4326")
    two = gpkg(tmp_path / "two.gpkg", {"roads": roads, "alleys": alleys})
    resp = post(fresh_client, keys["surveyor"], "two.gpkg", two, dry_run="true")
    assert resp.status_code == 400 and resp.json()["layers"] == ["roads", "alleys"], resp.text
    assert "say which one" in resp.json()["detail"]
    resp = post(fresh_client, keys["surveyor"], "two.gpkg", two, dry_run="true", layer="roads")
    assert resp.status_code == 200, resp.text
    assert [f["name"] for f in resp.json()["features"]] == ["鹤鸣路"]
    resp = post(
        fresh_client, keys["surveyor"], "two.gpkg", two, dry_run="true", layer="alleys", category="alley"
    )
    assert resp.status_code == 200 and resp.json()["features"][0]["name"] == "松涛巷", resp.text
    resp = post(fresh_client, keys["surveyor"], "two.gpkg", two, dry_run="true", layer="nope")
    assert resp.status_code == 400 and "no layer 'nope'" in resp.json()["detail"]

    # A layer that is a view (its SQL would run inside the reader) is refused before GDAL opens the file.
    path = tmp_path / "view.gpkg"
    gpkg(path, {"roads": roads})
    db = sqlite3.connect(path)
    db.execute("CREATE VIEW sneaky AS SELECT * FROM roads")
    db.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        "VALUES ('sneaky', 'features', 'sneaky', 4326)"
    )
    db.execute("DELETE FROM gpkg_contents WHERE table_name = 'roads'")
    db.commit()
    db.close()
    resp = post(fresh_client, keys["surveyor"], "view.gpkg", path.read_bytes(), dry_run="true")
    assert resp.status_code == 400 and "views" in resp.json()["detail"], resp.text

    # A GeoPackage of attributes only (no feature layer) is a 400 in words, not a 500.
    path = tmp_path / "table.gpkg"
    gpd.GeoDataFrame({"name": ["鹤鸣路"]}).to_file(path, driver="GPKG", layer="names")
    resp = post(fresh_client, keys["surveyor"], "table.gpkg", path.read_bytes(), dry_run="true")
    assert resp.status_code == 400 and "no feature layer" in resp.json()["detail"], resp.text


def test_a_layer_without_geometry_is_a_clear_400(
    fresh_client: TestClient, fresh_url: str, tmp_path: Path
) -> None:
    keys = make_keys(fresh_url)
    folder = tmp_path / "shp"
    folder.mkdir()
    gpd.GeoDataFrame({"name": ["鹤鸣路"]}, geometry=[None]).to_file(folder / "s.shp")
    content = zipped({p.name: p.read_bytes() for p in folder.iterdir()})
    resp = post(fresh_client, keys["surveyor"], "s.zip", content, dry_run="true")
    assert resp.status_code in (400, 422) and resp.json()["detail"], resp.text
    assert "/tmp" not in resp.text and "Traceback" not in resp.text


def test_phone_app_exports_are_read(fresh_client: TestClient, fresh_url: str) -> None:
    """KML (奥维), KMZ and GPX (两步路) come through with their names, pinyin and division."""
    keys = make_keys(fresh_url)
    code = query(
        fresh_url,
        "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440118%' "
        "ORDER BY area_m2 DESC LIMIT 1",
    )[0][0]
    x, y = point_in(fresh_url, code)["coordinates"]
    kml = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>调查</name>
<Placemark><name>鹤鸣坊</name><ExtendedData><Data name="origin"><value>村民推荐</value></Data></ExtendedData>
<Point><coordinates>{x},{y},0</coordinates></Point></Placemark></Folder>
<Folder><Placemark><name>松涛村</name><Point><coordinates>{x + 1e-4},{y}</coordinates></Point></Placemark>
</Folder></Document></kml>""".encode()
    gpx = f"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="两步路" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="{y}" lon="{x}"><name>鹤鸣坊</name></wpt></gpx>""".encode()
    for name, content, names in [
        ("s.kml", kml, ["鹤鸣坊", "松涛村"]),
        ("s.kmz", zipped({"doc.kml": kml, "files/a.png": b"png"}), ["鹤鸣坊", "松涛村"]),
        ("s.gpx", gpx, ["鹤鸣坊"]),
    ]:
        resp = post(fresh_client, keys["surveyor"], name, content, dry_run="true", category="natural_village")
        assert resp.status_code == 200, (name, resp.text)
        features = resp.json()["features"]
        assert [f["name"] for f in features] == names
        # A natural village is one word (GB/T 16159 6.3.3, as 文家坊 Wenjiafang).
        assert features[0]["pinyin"] == "Hemingfang" and features[0]["division_code"] == code
        assert [f["row"] for f in features] == list(range(1, len(names) + 1))


def test_rule_errors_name_the_spreadsheet_row(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    line = line_in(
        fresh_url,
        query(
            fresh_url, "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440118%' LIMIT 1"
        )[0][0],
    )
    wkt = shapely.geometry.shape(line).wkt
    csv = f'名称,wkt\n鹤鸣路,"{wkt}"\nabc路,"{wkt}"\n'.encode()
    resp = post(fresh_client, keys["surveyor"], "s.csv", csv, dry_run="true")
    assert resp.status_code == 422, resp.text
    errors = resp.json()["errors"]
    assert {(e["row"], e["name"]) for e in errors} == {(3, "abc路")}


def test_upload_body_is_limited_while_it_streams(fresh_url: str) -> None:
    """A chunked upload (no Content-Length) is cut off at the limit, not spooled whole."""
    keys = make_keys(fresh_url)
    app = create_app(settings_for(fresh_url, max_upload_mb=1))
    boundary = "xyzzy"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="crs"\r\n\r\nwgs84\r\n--{boundary}\r\n'
        f'Content-Disposition: form-data; name="file"; filename="s.csv"\r\n\r\nname,lon,lat\n'
    ).encode()
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield head
        for _ in range(64):  # 4 MB in all
            sent += 65536
            yield b"x" * 65536

    with TestClient(app) as client:
        resp = client.post(
            "/v1/submissions",
            content=body(),
            headers={**auth(keys["surveyor"]), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert resp.status_code == 413, resp.text
    assert "larger than 1 MB" in resp.json()["detail"]


def test_the_feature_limit_stops_reading(fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    app = create_app(settings_for(fresh_url, max_upload_features=5))
    rows = "".join(f"鹤鸣{i}路,113.3,23.1\n" for i in range(6))
    with TestClient(app) as client:
        resp = post(client, keys["surveyor"], "s.csv", f"name,lon,lat\n{rows}".encode(), dry_run="true")
    assert resp.status_code == 413 and "more than 5 features" in resp.json()["detail"], resp.text


def _sleep_then(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_pool_refuses_when_every_slot_is_busy() -> None:
    async def go() -> None:
        pool = UploadPool(slots=1, retry_after_s=7)
        try:
            import asyncio

            first = asyncio.ensure_future(pool.run(_sleep_then, 1.0))
            await asyncio.sleep(0.05)
            with pytest.raises(Exception) as caught:
                await pool.run(_sleep_then, 0.0)
            assert type(caught.value).__name__ == "Busy" and caught.value.retry_after == 7  # type: ignore[attr-defined]
            assert await first == 1.0
            assert await pool.run(_sleep_then, 0.0) == 0.0  # the slot is free again
        finally:
            pool.close()

    run(go())


def test_busy_uploads_get_503_and_retry_after(fresh_url: str) -> None:
    """With one slot, an upload arriving while a large one is being checked is told to come back."""
    keys = make_keys(fresh_url)
    app = create_app(settings_for(fresh_url, upload_slots=1))
    rows = "".join(f"鹤鸣{i}路,113.3,23.1\n" for i in range(60_000))
    big = f"name,lon,lat\n{rows}".encode()
    small = "name,lon,lat\n鹤鸣路,113.3,23.1\n".encode()
    with TestClient(app) as client:
        post(client, keys["surveyor"], "warm.csv", small, dry_run="true")  # start the worker process
        answers: dict[str, object] = {}
        worker = threading.Thread(
            target=lambda: answers.update(big=post(client, keys["surveyor"], "big.csv", big, dry_run="true"))
        )
        worker.start()
        deadline = time.monotonic() + 20
        while app.state.upload_pool._busy == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        resp = post(client, keys["surveyor"], "small.csv", small, dry_run="true")
        worker.join()
        health = client.get("/health")
    assert resp.status_code == 503, resp.text
    assert resp.json()["code"] == "busy" and int(resp.headers["Retry-After"]) > 0
    assert answers["big"].status_code == 422  # type: ignore[attr-defined]  # points are not roads: checked, not lost
    assert health.status_code == 200


def test_big5_text_is_refused_in_words_not_read_as_mojibake(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    text = "名稱,經度,緯度\n羅仙村委會路,113.3,23.1\n廣州市天河區路,113.31,23.11\n"
    resp = post(fresh_client, keys["surveyor"], "s.csv", text.encode("big5"), dry_run="true")
    assert resp.status_code == 400 and "Big5" in resp.json()["detail"], resp.text
    gbk = "名称,经度,纬度\n罗仙村路,113.3,23.1\n".encode("gb18030")
    resp = post(fresh_client, keys["surveyor"], "s.csv", gbk, dry_run="true")
    assert resp.status_code in (200, 422) and "Big5" not in resp.text, resp.text
    assert resp.json().get("features", resp.json().get("errors"))[0]["name"] == "罗仙村路"


def test_a_large_file_is_compared_off_the_event_loop_and_still_finds_conflicts(
    fresh_client: TestClient, fresh_url: str
) -> None:
    """Over THREAD_BATCH features the comparison runs in a thread: the duplicate at the end is still found."""
    from geo_service.services.naming_check import THREAD_BATCH

    keys = make_keys(fresh_url)
    taken = query(
        fresh_url, "SELECT name FROM place_names WHERE status = 'approved' AND category = 'road' LIMIT 1"
    )[0][0]
    code = query(
        fresh_url, "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440118%' LIMIT 1"
    )[0][0]
    wkt = shapely.geometry.shape(line_in(fresh_url, code)).wkt
    digits = "零一二三四五六七八九"
    names = [f"鹤鸣{''.join(digits[int(d)] for d in str(i))}号路" for i in range(THREAD_BATCH + 10)] + [taken]
    rows = "".join(f'{n},"{wkt}"\n' for n in names)
    resp = post(fresh_client, keys["surveyor"], "big.csv", f"name,wkt\n{rows}".encode(), dry_run="true")
    assert resp.status_code == 422, resp.text[:300]
    duplicates = [e for e in resp.json()["errors"] if e["rule"] == "duplicate"]
    assert [(e["row"], e["name"]) for e in duplicates] == [(len(names) + 1, taken)]
