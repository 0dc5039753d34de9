"""Single-flight coverage: concurrent requests for an answer that a write just made stale compute it once; an
error reaches every waiter and is not kept; a cancelled leader does not leave its waiters hanging."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.services import coverage
from geo_service.services.single_flight import SingleFlight
from tests.conftest import settings_for
from tests.writes_helpers import auth, make_keys, point_in

N = 8
PATH = "/v1/coverage?type=elderly_canteen&level=township&within=440106"


def _concurrently(client: TestClient, n: int) -> list[Any]:
    """n GETs of PATH sent at the same moment from n threads (one event loop serves them all)."""
    barrier = threading.Barrier(n)
    answers: list[Any] = [None] * n

    def one(i: int) -> None:
        barrier.wait()
        answers[i] = client.get(PATH)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_requests_after_a_write_compute_the_coverage_once(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[int] = []
    arrived: list[int] = []
    concurrent = threading.Event()
    real_rows, real_versions = coverage.today_rows, coverage.data_versions

    async def counted_arrival(*args: Any) -> coverage.DataVersions:
        arrived.append(1)
        return await real_versions(*args)

    async def counted(*args: Any) -> list[dict[str, Any]]:
        computed.append(1)
        # In the concurrent phase, compute only once every request has asked, however slow the machine.
        deadline = time.monotonic() + 20
        while concurrent.is_set() and len(arrived) < N and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return await real_rows(*args)

    monkeypatch.setattr(coverage, "today_rows", counted)
    monkeypatch.setattr(coverage, "data_versions", counted_arrival)
    keys = make_keys(fresh_url)
    with TestClient(create_app(settings_for(fresh_url))) as client:
        before = client.get(PATH).json()
        assert len(computed) == 1
        body = {
            "type": "Feature",
            "geometry": point_in(fresh_url, "440106"),
            "properties": {"type": "elderly_canteen", "name": "单飞测试长者饭堂"},
        }
        assert client.post("/v1/facilities", json=body, headers=auth(keys["editor"])).status_code == 201
        computed.clear()
        arrived.clear()
        concurrent.set()
        answers = _concurrently(client, N)
    assert len(arrived) == N
    assert [a.status_code for a in answers] == [200] * N
    assert len(computed) == 1, f"{len(computed)} computations for {N} concurrent requests"
    assert len({a.content for a in answers}) == 1 and len({a.headers["etag"] for a in answers}) == 1
    after = answers[0].json()
    assert (
        sum(r["facilities"] for r in after["divisions"])
        == sum(r["facilities"] for r in before["divisions"]) + 1
    )


def test_an_error_reaches_every_waiter_and_is_not_kept() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        raise RuntimeError("database went away")

    async def ok() -> int:
        nonlocal calls
        calls += 1
        return 42

    async def main() -> tuple[list[Any], int]:
        results = await asyncio.gather(*(flights.run("k", failing) for _ in range(5)), return_exceptions=True)
        return results, await flights.run("k", ok)

    results, again = asyncio.run(main())
    assert all(isinstance(r, RuntimeError) for r in results) and calls == 2  # once failing, once ok after it
    assert again == 42 and flights.running() == 0


def test_a_cancelled_leader_does_not_strand_its_waiters() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    started: list[str] = []

    def compute(who: str) -> Any:
        async def go() -> str:
            started.append(who)
            await asyncio.sleep(0.1)
            return f"computed by {who}"

        return go

    async def main() -> tuple[list[Any], bool]:
        leader = asyncio.create_task(flights.run("k", compute("leader")))
        await asyncio.sleep(0.01)  # the leader is computing
        waiters = [asyncio.create_task(flights.run("k", compute(f"w{i}"))) for i in range(3)]
        await asyncio.sleep(0.01)
        leader.cancel()  # its client went away
        results = await asyncio.wait_for(asyncio.gather(*waiters), timeout=5)
        return results, leader.cancelled()

    results, cancelled = asyncio.run(main())
    assert cancelled
    assert started == ["leader", "w0"]  # one waiter took over, the other two awaited it
    assert results == ["computed by w0"] * 3
    assert flights.running() == 0


def test_a_cancelled_waiter_leaves_the_leader_and_the_others_alone() -> None:
    flights: SingleFlight[str, int] = SingleFlight()

    async def slow() -> int:
        await asyncio.sleep(0.1)
        return 7

    async def main() -> tuple[int, int, bool]:
        leader = asyncio.create_task(flights.run("k", slow))
        await asyncio.sleep(0.01)
        quitter = asyncio.create_task(flights.run("k", slow))
        stayer = asyncio.create_task(flights.run("k", slow))
        await asyncio.sleep(0.01)
        quitter.cancel()
        return await leader, await stayer, quitter.cancelled()

    assert asyncio.run(main()) == (7, 7, True)
