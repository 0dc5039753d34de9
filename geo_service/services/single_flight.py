"""Single-flight: concurrent requests for the same missing value compute it once; the others await that result.

After a write moves a data version, every request in flight misses the kept answer at once; without this, each
would compute the same coverage again (a core each for a second), and reads collapse while writes go on.

The first caller (the leader) computes with its own connection; later callers of the same key await its result.
An error reaches every waiter and nothing is kept (the next caller tries again). If the leader is cancelled (its
client went away), its connection goes with it: the waiters are woken and one of them computes instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class _LeaderGone(Exception):
    """The leader was cancelled before it had a result: a waiter computes instead."""


class SingleFlight(Generic[K, V]):
    """The computations running in this process, by key."""

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    def running(self) -> int:
        """How many keys are being computed now."""
        return len(self._running)

    async def run(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        """``compute()``'s value, computed once for the callers that ask for ``key`` while it runs."""
        loop = asyncio.get_running_loop()
        while True:
            flight = self._running.get(key)
            if flight is None or flight.get_loop() is not loop:  # another loop's (tests): not shareable
                break
            try:
                # shield: a waiter's own cancellation must not cancel the leader's result for the others
                return await asyncio.shield(flight)
            except _LeaderGone:
                continue  # the leader was cancelled: compute (or join whoever did first)
        flight = loop.create_future()
        flight.add_done_callback(_retrieved)
        own = flight if key not in self._running else None  # another loop's flight stays registered
        if own is not None:
            self._running[key] = own
        try:
            value = await compute()
            flight.set_result(value)
            return value
        except Exception as exc:
            flight.set_exception(exc)
            raise
        finally:
            if own is not None and self._running.get(key) is own:
                del self._running[key]
            if not flight.done():  # cancelled (or stopped otherwise) without a result
                flight.set_exception(_LeaderGone())


def _retrieved(flight: asyncio.Future[Any]) -> None:
    """Mark an error as seen even when nobody waited (asyncio would log it as never retrieved)."""
    if not flight.cancelled():
        flight.exception()
