"""Only a lost database is reported as one: an interface error on a connection that is still open (a misuse: a
wrong number of arguments) or a file's OSError is a fault of ours (500), and it neither drops the connections kept for
reads nor says "database unavailable". A connection the server really ended still does both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.api.deps import read_connection
from geo_service.db import raw
from tests.conftest import settings_for
from tests.conftest import sql as query


def _app(url: str) -> FastAPI:
    """The service with a few routes of its own that misuse a read connection in the ways under test."""
    app = create_app(settings_for(url, fast_lane=False))

    @app.get("/test/pid")
    async def pid(request: Request) -> int:
        async with read_connection(request) as conn:
            return int((await raw.fetch(conn, "SELECT pg_backend_pid()"))[0][0])

    @app.get("/test/raw-misuse")
    async def raw_misuse(request: Request) -> None:
        async with read_connection(request) as conn:  # InterfaceError: the statement takes one argument
            await raw.fetch(conn, "SELECT $1::int")

    @app.get("/test/sqlalchemy-misuse")
    async def sqlalchemy_misuse(request: Request) -> None:
        async with read_connection(request) as conn:  # the same, wrapped as sqlalchemy.exc.InterfaceError
            await conn.exec_driver_sql("SELECT $1::int")

    @app.get("/test/missing-file")
    async def missing_file(request: Request) -> None:
        async with read_connection(request):
            open("/nonexistent/geo_service/file").close()  # FileNotFoundError: an OSError, not a network one

    return app


@pytest.fixture
def client(fresh_url: str) -> Iterator[TestClient]:
    with TestClient(_app(fresh_url), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("path", ["/test/raw-misuse", "/test/sqlalchemy-misuse", "/test/missing-file"])
def test_a_misuse_is_not_an_outage(client: TestClient, path: str) -> None:
    before = client.get("/test/pid").json()
    resp = client.get(path)
    assert resp.status_code == 500 and resp.json() == {"detail": "internal error"}
    assert client.get("/test/pid").json() == before  # the kept connection was not dropped
    assert client.get("/health").json()["database"] == "ok"
    assert client.get("/v1/divisions/locate", params={"lon": 113.3245, "lat": 23.1064}).status_code == 200


def test_a_connection_the_server_ended_is_an_outage(client: TestClient, fresh_url: str) -> None:
    before = client.get("/test/pid").json()
    query(fresh_url, "SELECT pg_terminate_backend(:p)", p=before)
    resp = client.get("/test/pid")
    assert resp.status_code == 503 and "unavailable" in resp.json()["detail"]
    after = client.get("/test/pid")
    assert after.status_code == 200 and after.json() != before  # reconnected


@pytest.mark.parametrize(
    ("exc", "lost"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (TimeoutError(), True),
        (
            OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432), [Errno 111] ..."),
            True,
        ),
        (OSError(104, "Connection reset by peer"), True),
        (FileNotFoundError(2, "No such file"), False),
        (PermissionError(13, "Permission denied"), False),
        (OSError(28, "No space left on device"), False),
    ],
)
def test_which_os_errors_are_a_lost_server(exc: BaseException, lost: bool) -> None:
    assert raw.is_disconnect(exc) is lost
