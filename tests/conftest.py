"""Test set-up: a throwaway PostGIS (never the `make run` one), the sample loaded once into a template.

Read-only tests share one copy of the template; tests that write get their own copy (CREATE DATABASE
... TEMPLATE is fast). With GEO_TEST_DATABASE_URL set, that server is used instead of a private cluster.
In CI (CI=true) a database test that cannot run fails instead of skipping.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import tempfile
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo_service.api.app import create_app
from geo_service.db.embedded import EmbeddedCluster, EmbeddedError
from geo_service.db.engine import create_engine, prepare_database
from geo_service.services.sample_load import load_sample
from geo_service.settings import PROJECT_ROOT, Settings

T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SAMPLE_DIR = PROJECT_ROOT / "data" / "boundaries"
FIXTURES = Path(__file__).parent / "fixtures"
_counter = itertools.count()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from a synchronous test."""
    return asyncio.run(coro)


def sql(url: str, statement: str, **params: object) -> list[tuple[Any, ...]]:
    """Run one SQL statement in its own committed transaction; the rows it returns, if any."""

    async def go() -> list[tuple[Any, ...]]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), params)
                return [tuple(r) for r in result.all()] if result.returns_rows else []
        finally:
            await engine.dispose()

    return run(go())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A PostgreSQL server the tests may create and drop databases on."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def url(self, database: str) -> str:
        return make_url(self.base_url).set(database=database).render_as_string(hide_password=False)

    def _admin_dsn(self) -> str:
        return (
            make_url(self.url("postgres")).set(drivername="postgresql").render_as_string(hide_password=False)
        )

    def create(self, name: str, template: str | None = None) -> str:
        async def go() -> None:
            conn = await asyncpg.connect(self._admin_dsn())
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                tmpl = f' TEMPLATE "{template}"' if template else ""
                await conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
            finally:
                await conn.close()

        run(go())
        return self.url(name)

    def drop(self, name: str) -> None:
        async def go() -> None:
            conn = await asyncpg.connect(self._admin_dsn())
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        run(go())


def _unavailable(message: str) -> None:
    if IN_CI:
        pytest.fail(f"database tests cannot run in CI: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """The PostgreSQL server for the whole session."""
    external = os.environ.get("GEO_TEST_DATABASE_URL")
    if external:
        yield Server(Settings(database_url=external).database_url or external)
        return
    # Not under pytest's tmp dir: that is private to root, and the server runs as an unprivileged user.
    home = Path(tempfile.mkdtemp(prefix="geo-test-pg-"))
    cluster = EmbeddedCluster(home, free_port(), "postgres")
    try:
        cluster.start()
    except EmbeddedError as exc:
        _unavailable(str(exc))
    try:
        yield Server(cluster.url())
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_server: Server) -> str:
    """Name of a database with the schema and the sample loaded; never connected to by tests."""
    name = "gs_template"
    url = pg_server.create(name)
    prepare_database(url)

    async def load() -> None:
        engine = create_engine(url, pool_size=2)
        try:
            await load_sample(engine, SAMPLE_DIR)
        finally:
            await engine.dispose()

    run(load())
    return name


@pytest.fixture(scope="session")
def sample_url(pg_server: Server, template_db: str) -> str:
    """URL of the shared read-only copy of the sample database."""
    return pg_server.create("gs_read", template=template_db)


@pytest.fixture
def fresh_url(pg_server: Server, template_db: str) -> Iterator[str]:
    """URL of a private copy of the sample database for a test that writes."""
    name = f"gs_w{os.getpid()}_{next(_counter)}"
    url = pg_server.create(name, template=template_db)
    yield url
    pg_server.drop(name)


@pytest.fixture
def empty_url(pg_server: Server) -> Iterator[str]:
    """URL of a new, empty database (no extensions, no schema)."""
    name = f"gs_e{os.getpid()}_{next(_counter)}"
    url = pg_server.create(name)
    yield url
    pg_server.drop(name)


#: Attachments written by test apps land here (never in the project's .geo_service); removed at the end.
TEST_ATTACHMENTS = Path(tempfile.gettempdir()) / f"geo-test-attachments-{os.getpid()}"


def settings_for(url: str, **extra: Any) -> Settings:
    """Settings for a test app: no rate limit and no start-up warm-up unless a test asks for them."""
    defaults = {"rate_limit_per_minute": 0, "warm_up": False, "attachments_dir": TEST_ATTACHMENTS}
    return Settings(database_url=url, **{**defaults, **extra})


@pytest.fixture(scope="session")
def client(sample_url: str) -> Iterator[TestClient]:
    """An API client on the shared sample database (lifespan run)."""
    with TestClient(create_app(settings_for(sample_url))) as c:
        yield c


@pytest.fixture
def fresh_client(fresh_url: str) -> Iterator[TestClient]:
    """An API client on a private copy of the sample database."""
    with TestClient(create_app(settings_for(fresh_url))) as c:
        yield c


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the tests' attachments; in CI a skipped test is a failure (geopandas does the same for database
    tests)."""
    shutil.rmtree(TEST_ATTACHMENTS, ignore_errors=True)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test(s) skipped; skipping is a failure in CI", red=True)
        session.exitstatus = 1


class LiveServer:
    """The app served by uvicorn on a loopback port, in a background thread."""

    def __init__(self, url: str, **settings: Any) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings_for(url, **settings)), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(sample_url: str) -> Iterator[LiveServer]:
    """The service on the shared sample database, over real HTTP."""
    with LiveServer(sample_url) as server:
        yield server


@contextmanager
def loaded_cluster(prefix: str) -> Iterator[EmbeddedCluster]:
    """A cluster of its own (for tests that stop or replicate it) with the sample loaded."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = EmbeddedCluster(home, free_port(), "geo_service")
    cluster.start()
    prepare_database(cluster.url())

    async def load() -> None:
        engine = create_engine(cluster.url(), pool_size=1)
        try:
            await load_sample(engine, SAMPLE_DIR)
        finally:
            await engine.dispose()

    run(load())
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
