"""Read replicas for real: a primary and a streaming replica (pg_basebackup -R) of the same PostGIS on loopback.
Public reads are served by the replica, writes go to the primary and reach the replica, staff read their own
writes at once, a lagging replica is skipped, and stopping the replica mid-run loses no request."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from geo_service.db.embedded import EmbeddedCluster
from geo_service.services import coverage
from tests.conftest import LiveServer, free_port, loaded_cluster
from tests.writes_helpers import auth, make_keys


@pytest.fixture(scope="module")
def pair(pg_server: object) -> Iterator[tuple[EmbeddedCluster, EmbeddedCluster]]:
    with loaded_cluster("geo-test-primary-") as primary:
        home = Path(tempfile.mkdtemp(prefix="geo-test-replica-"))
        shutil.rmtree(home)  # pg_basebackup makes it
        replica = primary.make_replica(home, free_port())
        replica.start()
        try:
            yield primary, replica
        finally:
            replica.stop()
            shutil.rmtree(home, ignore_errors=True)


def served(primary: EmbeddedCluster, replica: EmbeddedCluster, **extra: object) -> LiveServer:
    return LiveServer(primary.url(), replica_urls=[replica.url()], **extra)


def test_reads_from_the_replica_and_writes_replicate(pair: tuple[EmbeddedCluster, EmbeddedCluster]) -> None:
    primary, replica = pair
    keys = make_keys(primary.url(), "replication")
    with served(primary, replica) as server, httpx.Client(base_url=server.base, timeout=30) as http:
        health = http.get("/health").json()
        assert health["reads_from"] == "replica" and health["replicas"][0]["state"] == "ok"
        point = {"type": "Point", "coordinates": [113.9, 23.85]}  # far from every sample wedding point
        created = http.post(
            "/v1/facilities",
            headers=auth(keys["editor"]),
            json={
                "type": "Feature",
                "geometry": point,
                "properties": {"type": "wedding_cert_point", "name": "新颁证点"},
            },
        )
        assert created.status_code == 201, created.text
        fid = created.json()["id"]
        # Staff read from the primary: their own write is there at once.
        own = http.get(f"/collections/wedding-cert-points/items/{fid}", headers=auth(keys["editor"]))
        assert own.status_code == 200
        # The public reads from the replica: the write arrives there by streaming replication.
        params = {"lon": 113.9, "lat": 23.85, "type": "wedding_cert_point", "k": 1}
        deadline = time.monotonic() + 15
        while http.get("/v1/facilities/nearest", params=params).json()["features"][0]["id"] != fid:
            assert time.monotonic() < deadline, "the write never reached the replica"
            time.sleep(0.2)


def test_a_lagging_replica_is_skipped(pair: tuple[EmbeddedCluster, EmbeddedCluster]) -> None:
    primary, replica = pair
    with served(primary, replica, replica_max_lag_s=-1.0) as server:  # any lag at all is too much
        health = httpx.get(server.base + "/health").json()
    assert health["reads_from"] == "primary" and health["replicas"][0]["state"] == "lagging"


def test_stopping_the_replica_mid_run_loses_no_request(pair: tuple[EmbeddedCluster, EmbeddedCluster]) -> None:
    primary, replica = pair
    results: list[int] = []
    stop = threading.Event()

    def load(path: str) -> None:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            while not stop.is_set():
                results.append(http.get(path).status_code)

    with served(primary, replica) as server:
        assert httpx.get(server.base + "/health").json()["reads_from"] == "replica"
        paths = [
            "/v1/divisions/locate?lon=113.32&lat=23.12",
            "/v1/place-names?q=tianhe",
            "/v1/facilities/nearest?lon=113.32&lat=23.12&type=elderly_canteen&k=3",
            "/collections/districts/items?limit=2",
        ]
        threads = [threading.Thread(target=load, args=(p,)) for p in paths]
        for t in threads:
            t.start()
        time.sleep(1.0)
        replica.stop()
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join()
        health = httpx.get(server.base + "/health").json()
    replica.start()
    assert results and set(results) == {200}, sorted(set(results))
    assert health["reads_from"] == "primary" and health["replicas"][0]["state"] == "down"


def test_coverage_gaps_and_the_coverage_map_are_answered_by_the_replica(
    pair: tuple[EmbeddedCluster, EmbeddedCluster],
) -> None:
    primary, replica = pair
    keys = make_keys(primary.url(), "coverage")
    reads = [
        ("/v1/coverage", {"type": "elderly_canteen", "level": "village"}),
        ("/v1/coverage", {"type": "elderly_canteen", "radius_m": 1234, "level": "township", "format": "csv"}),
        ("/v1/coverage", {"type": "wedding_cert_point", "within": "440113"}),
        ("/v1/coverage/gaps", {"type": "elderly_canteen", "radius_m": 800, "within": "440117"}),
        ("/maps/coverage", {"type": "elderly_canteen", "level": "district"}),
        ("/maps/coverage", {"type": "elderly_canteen", "radius_m": 1500, "within": "440106"}),
    ]
    with served(primary, replica) as server, httpx.Client(base_url=server.base, timeout=60) as http:
        for path, params in reads:
            public = http.get(path, params=params)  # read on the replica
            assert public.status_code == 200, (path, params, public.text)
            staff = http.get(path, params=params, headers=auth(keys["surveyor"]))  # read on the primary
            assert staff.status_code == 200, (path, params, staff.text)
            assert _same_page(public.text) == _same_page(staff.text), (path, params)
        health = http.get("/health").json()
    assert health["reads_from"] == "replica" and health["replicas"][0]["state"] == "ok"
    # The public answers were computed on the replica (answers are kept per server, so its URL is in their key).
    assert any(f":{replica.port}/" in key[-1] for key in coverage._cache.items), (
        "no answer came from the replica"
    )


def _same_page(text: str) -> str:
    """A page without Folium's random element ids (two renders of the same map differ only in those)."""
    return re.sub(r"_[0-9a-f]{32}(?![0-9a-f])", "_id", text)
