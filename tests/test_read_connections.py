"""Read connections kept open between requests: reused when clean, closed when not, dropped after an outage."""

from __future__ import annotations

import asyncio

import pytest

from geo_service.db import raw
from geo_service.db.engine import create_engine
from geo_service.db.replicas import ReadRouter
from tests.conftest import run


async def _pid(router: ReadRouter) -> int:
    async with router.connection(router.primary) as conn:
        return int((await raw.fetch(conn, "SELECT pg_backend_pid()"))[0][0])


def test_a_clean_connection_is_reused_and_a_failed_request_keeps_it(sample_url: str) -> None:
    async def go() -> None:
        router = ReadRouter(create_engine(sample_url, pool_size=4), pool_size=2)
        try:
            first = await _pid(router)
            assert await _pid(router) == first
            with pytest.raises(ValueError):
                async with router.connection(router.primary):
                    raise ValueError("a bad parameter")  # the request failed, not the connection
            with pytest.raises(Exception, match="does_not_exist"):
                async with router.connection(router.primary) as conn:
                    await raw.fetch(conn, "SELECT does_not_exist")  # a query error: autocommit, nothing open
            assert await _pid(router) == first
        finally:
            await router.dispose()

    run(go())


def test_a_connection_left_in_a_transaction_or_invalidated_is_not_kept(sample_url: str) -> None:
    async def go() -> None:
        router = ReadRouter(create_engine(sample_url, pool_size=4), pool_size=2)
        try:
            first = await _pid(router)
            async with router.connection(router.primary) as conn:
                await (await raw.driver(conn)).execute("BEGIN")
            second = await _pid(router)
            assert second != first
            async with router.connection(router.primary) as conn:
                assert not (await raw.driver(conn)).is_in_transaction()
            async with router.connection(router.primary) as conn:
                await conn.invalidate()
            assert await _pid(router) not in (first, second)
        finally:
            await router.dispose()

    run(go())


def test_a_cancelled_request_does_not_leave_its_connection_mid_query(sample_url: str) -> None:
    async def go() -> None:
        router = ReadRouter(create_engine(sample_url, pool_size=4), pool_size=1)
        try:

            async def slow() -> None:
                async with router.connection(router.primary) as conn:
                    await raw.fetch(conn, "SELECT pg_sleep(5)")

            task = asyncio.create_task(slow())
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            async with asyncio.timeout(3):  # the next request gets a connection that answers at once
                await _pid(router)
        finally:
            await router.dispose()

    run(go())


def test_idle_connections_are_dropped_and_the_pool_keeps_room_for_checks(sample_url: str) -> None:
    async def go() -> None:
        router = ReadRouter(create_engine(sample_url, pool_size=3 + 2), pool_size=3)
        try:
            held: list[int] = []
            release = asyncio.Event()

            async def hold() -> None:
                async with router.connection(router.primary) as conn:
                    held.append(int((await raw.fetch(conn, "SELECT pg_backend_pid()"))[0][0]))
                    await release.wait()

            tasks = [asyncio.create_task(hold()) for _ in range(3)]
            while len(held) < 3:
                await asyncio.sleep(0.01)
            async with asyncio.timeout(3), router.primary.connect() as check:  # a health check still connects
                await check.exec_driver_sql("SELECT 1")
            release.set()
            await asyncio.gather(*tasks)
            assert len(set(held)) == 3
            assert await _pid(router) in held  # kept
            await router.drop_idle(router.primary)
            assert await _pid(router) not in held  # after an outage: new connections
        finally:
            await router.dispose()

    run(go())
