"""Database faults: an outage under load (quick 503s, /health says so, recovery without a restart), an upload
cut off mid-write (nothing left behind), a read-only database (a clear 503, nothing written)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from geo_service.db.embedded import EmbeddedCluster
from tests.conftest import LiveServer, loaded_cluster
from tests.conftest import sql as query
from tests.writes_helpers import auth, counts, make_keys


@pytest.fixture(scope="module")
def own_cluster(pg_server: object) -> Iterator[EmbeddedCluster]:  # its own server: these tests stop it
    with loaded_cluster("geo-test-faults-") as cluster:
        yield cluster


def test_outage_under_load(own_cluster: EmbeddedCluster) -> None:
    results: list[tuple[float, str, int, float]] = []
    stop = threading.Event()

    def load(path: str) -> None:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            while not stop.is_set():
                t = time.monotonic()
                try:
                    status = http.get(path).status_code
                except httpx.HTTPError:
                    status = -1
                results.append((t, path, status, time.monotonic() - t))

    with LiveServer(own_cluster.url()) as server:
        paths = [
            "/v1/divisions/locate?lon=113.32&lat=23.12",
            "/v1/facilities/nearest?lon=113.32&lat=23.12&type=elderly_canteen&k=3",
            "/v1/place-names?q=tianhe",
            "/collections/districts/items?limit=2",
        ]
        threads = [threading.Thread(target=load, args=(p,)) for p in paths]
        for t in threads:
            t.start()
        time.sleep(1.5)
        own_cluster.stop()
        down_at = time.monotonic()  # the server is down from here ...
        time.sleep(1.0)
        health_down = httpx.get(server.base + "/health", timeout=10)
        time.sleep(2.0)
        restart_at = time.monotonic()  # ... to here
        own_cluster.start()
        up_at = time.monotonic()
        time.sleep(3.0)
        health_up = httpx.get(server.base + "/health", timeout=10)
        stop.set()
        for t in threads:
            t.join()
    assert health_down.status_code == 503 and health_down.json()["database"] == "unavailable"
    assert health_up.status_code == 200
    statuses = {r[2] for r in results}
    assert statuses <= {200, 503}, statuses  # no 500, no dropped connection
    during = [r for r in results if down_at < r[0] and r[0] + r[3] < restart_at]
    assert during and all(r[2] == 503 for r in during)
    assert max(r[3] for r in during) < 2.0  # refused quickly, no hangs
    after = [r for r in results if r[0] > up_at + 1.5]
    recovered = min((r[0] + r[3] - up_at for r in results if r[0] > up_at and r[2] == 200), default=-1.0)
    refusals = sorted(r[3] * 1000 for r in during)
    print(  # the figures, for `pytest -s`
        f"\noutage: {len(results)} requests, statuses {sorted(statuses)}; while down {len(during)} answered 503 "
        f"(median {refusals[len(refusals) // 2]:.0f} ms, max {refusals[-1]:.0f} ms); "
        f"first 200 {recovered:.2f} s after the restart"
    )
    assert after and all(r[2] == 200 for r in after), sorted(
        {(r[1], r[2], round(r[0] - up_at, 2)) for r in after if r[2] != 200}
    )[:10]


def test_upload_cut_off_leaves_nothing(own_cluster: EmbeddedCluster, tmp_path: Path) -> None:

    from bench.upload_bench import build_file

    url = own_cluster.url()
    keys = make_keys(url, "upload")
    path = tmp_path / "streets.gpkg"
    build_file(20_000, path)
    before = counts(url)
    killed: list[int] = []

    def cut() -> None:  # terminate the upload's session while it inserts
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            rows = query(
                url,
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'geo_service' "
                "AND query ILIKE 'INSERT INTO place_names%' AND state = 'active'",
            )
            for (pid,) in rows:
                query(url, "SELECT pg_terminate_backend(:p)", p=pid)
                killed.append(pid)
            time.sleep(0.01)

    with LiveServer(url) as server:
        cutter = threading.Thread(target=cut)
        cutter.start()
        with path.open("rb") as fh:
            resp = httpx.post(
                f"{server.base}/v1/submissions",
                files={"file": ("s.gpkg", fh)},
                data={"crs": "wgs84", "category": "road"},
                headers=auth(keys["surveyor"]),
                timeout=120,
            )
        cutter.join()
    assert killed, "the upload finished before it could be cut off"
    assert resp.status_code == 503, resp.text
    after = counts(url)
    assert after == before


def test_read_only_database_says_so(own_cluster: EmbeddedCluster) -> None:
    url = own_cluster.url()
    keys = make_keys(url, "readonly")
    query(url, "ALTER DATABASE geo_service SET default_transaction_read_only = on")
    try:
        with LiveServer(url) as server, httpx.Client(base_url=server.base) as http:
            body = {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [113.32, 23.12]},
                "properties": {"type": "elderly_canteen", "name": "只读测试"},
            }
            resp = http.post("/v1/facilities", json=body, headers=auth(keys["editor"]))
            assert resp.status_code == 503 and "read-only" in resp.json()["detail"]
            assert http.get("/v1/divisions/locate?lon=113.32&lat=23.12").status_code == 200  # reads go on
    finally:
        # From another database: every new session of geo_service is read-only now.
        query(
            own_cluster.url("postgres"), "ALTER DATABASE geo_service SET default_transaction_read_only = off"
        )
    assert query(url, "SELECT count(*) FROM facilities WHERE name = '只读测试'")[0][0] == 0
