"""The embedded PostGIS: starts, stops and restarts with its data; clear messages when binaries are missing;
/health follows the database down and back up without a restart."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.db import embedded
from geo_service.db.embedded import EmbeddedCluster, EmbeddedError
from geo_service.db.engine import prepare_database
from tests.conftest import free_port, run, settings_for


@pytest.fixture
def cluster(pg_server: object) -> Iterator[EmbeddedCluster]:  # pg_server: skip/fail together with the others
    home = Path(tempfile.mkdtemp(prefix="geo-test-embedded-"))
    c = EmbeddedCluster(home, free_port(), "geo_service")
    yield c
    c.stop()
    shutil.rmtree(home, ignore_errors=True)


async def _sql(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def test_start_stop_restart_keeps_data(cluster: EmbeddedCluster) -> None:
    assert not cluster.initialised()
    cluster.start()
    assert cluster.running()
    url = cluster.url()
    prepare_database(url)
    run(_sql(url, "CREATE TABLE kept AS SELECT 42 AS v"))
    assert run(_sql(url, "SELECT postgis_lib_version()"))
    cluster.stop()
    assert not cluster.running()
    cluster.start()  # a second start of a running cluster is harmless too
    cluster.start()
    assert run(_sql(url, "SELECT v FROM kept")) == 42
    assert oct(cluster.password_file.stat().st_mode)[-3:] == "600"


def test_health_follows_the_database(cluster: EmbeddedCluster) -> None:
    cluster.start()
    prepare_database(cluster.url())
    with TestClient(create_app(settings_for(cluster.url()))) as client:
        assert client.get("/health").json() == {"status": "ok", "database": "ok"}
        cluster.stop()
        down = client.get("/health")
        assert down.status_code == 503
        assert down.json()["database"] == "unavailable"
        locate = {"lon": 113.3, "lat": 23.1}
        assert client.get("/v1/divisions/locate", params=locate).status_code == 503
        cluster.start()
        up = client.get("/health")
        assert up.status_code == 200, up.text
        # The hot-path queries (asyncpg under the pool) renew their connections too: at most one 503.
        statuses = [client.get("/v1/divisions/locate", params=locate).status_code for _ in range(3)]
        assert statuses[1:] == [404, 404], statuses  # 404: this database has no divisions, and says so


def test_missing_postgresql_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GEO_PG_BIN", str(tmp_path))
    monkeypatch.setattr(embedded.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(embedded.shutil, "which", lambda name: None)
    with pytest.raises(EmbeddedError, match="apt-get install postgresql"):
        embedded.find_pg_bin()


def test_missing_postgis_names_the_install_command(tmp_path: Path) -> None:
    fake = tmp_path / "99" / "bin"
    fake.mkdir(parents=True)
    with pytest.raises(EmbeddedError, match="apt-get install postgresql-99-postgis-3"):
        embedded.check_postgis(fake)
