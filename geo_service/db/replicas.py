"""Reads from streaming replicas, writes to the primary.

A replica serves reads while it answers and its replay lags the primary by at most ``max_lag_s``; one that is
down or behind is skipped for a few seconds, and with none left reads go to the primary. Each replica's state
is checked at most every ``CHECK_EVERY_S`` seconds, with a short timeout, on the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

CHECK_EVERY_S = 2.0
SKIP_DOWN_S = 5.0

_LAG_SQL = text(
    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"
)


@dataclass
class Replica:
    """One replica and what was last seen of it."""

    engine: AsyncEngine
    state: str = "unknown"  # ok, down, lagging, not_a_replica
    lag_s: float | None = None
    checked_at: float = 0.0
    skip_until: float = 0.0

    @property
    def name(self) -> str:
        url = make_url(self.engine.url)
        return f"{url.host}:{url.port}/{url.database}"


@dataclass
class ReadRouter:
    """Chooses the engine a read goes to, and keeps the connections reads use.

    ``primary`` is an engine on the primary for reads only (writes have their own): its connections are held
    open by reads between requests.
    """

    primary: AsyncEngine
    replicas: list[Replica] = field(default_factory=list)
    max_lag_s: float = 10.0
    pool_size: int = 10
    _next: int = 0
    _turns: dict[int, asyncio.Semaphore] = field(default_factory=dict)
    _autocommit: dict[int, AsyncEngine] = field(default_factory=dict)
    _idle: dict[int, list[AsyncConnection]] = field(default_factory=dict)

    def autocommit(self, engine: AsyncEngine) -> AsyncEngine:
        """The engine's autocommit view (same pool), made once: reads need no BEGIN/ROLLBACK round trips."""
        view = self._autocommit.get(id(engine))
        if view is None:
            view = self._autocommit[id(engine)] = engine.execution_options(isolation_level="AUTOCOMMIT")
        return view

    @asynccontextmanager
    async def connection(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        """An autocommit connection of ``engine`` for one request's reads, in turn (see ``turn``).

        Connections stay open from one request to the next, kept here: checking a SQLAlchemy connection out
        of its pool and back costs 0.1–0.2 ms of Python, as much as a short query. One is kept only if it
        comes back clean (not invalidated, no transaction, no cancelled operation); otherwise it is closed.
        At most ``pool_size`` are open, since each is used under a turn.
        """
        async with self.turn(engine):
            idle = self._idle.setdefault(id(engine), [])
            conn = idle.pop() if idle else await self.autocommit(engine).connect()
            keep = False
            try:
                yield conn
                keep = True
            except Exception:
                keep = True  # the request failed (a 400, a query error), not necessarily the connection
                raise
            finally:
                if not keep:  # cancelled mid-operation: the pool's return path cancels it on the server
                    await conn.close()
                elif await _reusable(conn):
                    idle.append(conn)
                else:  # e.g. left inside a transaction the pool does not know of: closed, not pooled
                    with contextlib.suppress(Exception):
                        await conn.invalidate()
                    await conn.close()

    async def drop_idle(self, engine: AsyncEngine) -> None:
        """Discard the engine's idle connections: after an outage they are all dead."""
        idle, self._idle[id(engine)] = self._idle.get(id(engine), []), []
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.invalidate()

    def turn(self, engine: AsyncEngine) -> asyncio.Semaphore:
        """First come, first served at the engine's pool: hold it while using one of its connections.

        The pool's own wait lets a newcomer take a connection that was just handed to a waiter, which then
        queues again at the back: under load some requests wait many turns (p99 ten times the median). This
        semaphore (fair since Python 3.11) queues readers in arrival order in front of it.
        """
        gate = self._turns.get(id(engine))
        if gate is None:
            gate = self._turns[id(engine)] = asyncio.Semaphore(self.pool_size)
        return gate

    async def _check(self, replica: Replica) -> None:
        now = time.monotonic()
        replica.checked_at = now
        try:
            async with asyncio.timeout(1.0), replica.engine.connect() as conn:
                in_recovery, lag = (await conn.execute(_LAG_SQL)).one()
        except Exception:
            self.mark_down(replica)
            return
        replica.lag_s = float(lag or 0.0)
        if not in_recovery:
            replica.state, replica.skip_until = "not_a_replica", now + SKIP_DOWN_S
        elif replica.lag_s > self.max_lag_s:
            replica.state, replica.skip_until = "lagging", now + CHECK_EVERY_S
        else:
            replica.state, replica.skip_until = "ok", 0.0

    def mark_down(self, replica: Replica) -> None:
        replica.state, replica.skip_until = "down", time.monotonic() + SKIP_DOWN_S

    def replica_of(self, engine: AsyncEngine) -> Replica | None:
        return next((r for r in self.replicas if r.engine is engine), None)

    async def pick(self) -> AsyncEngine:
        """A healthy replica (round robin), or the primary."""
        count = len(self.replicas)
        for step in range(count):
            replica = self.replicas[(self._next + step) % count]
            now = time.monotonic()
            if replica.skip_until > now:
                continue
            if now - replica.checked_at > CHECK_EVERY_S:
                await self._check(replica)
            if replica.state == "ok":
                self._next = (self._next + step + 1) % count
                return replica.engine
        return self.primary

    async def dispose(self) -> None:
        for engine in (self.primary, *(r.engine for r in self.replicas)):
            for conn in self._idle.pop(id(engine), []):
                with contextlib.suppress(Exception):
                    await conn.close()
            await engine.dispose()


async def _reusable(conn: AsyncConnection) -> bool:
    """Whether a connection came back as it went out: open, valid, outside any transaction."""
    if conn.closed or conn.invalidated:
        return False
    driver = conn.sync_connection.connection.driver_connection if conn.sync_connection else None
    if driver is None or driver.is_closed() or driver.is_in_transaction():
        return False
    if conn.in_transaction():  # SQLAlchemy's own bookkeeping of an autocommit connection: no round trip
        try:
            await conn.rollback()
        except Exception:
            return False
    return True
