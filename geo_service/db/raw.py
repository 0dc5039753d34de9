"""Hot-path queries straight on the asyncpg connection under a pooled SQLAlchemy connection.

SQLAlchemy's statement compilation and result processing cost as much as the query itself on the busiest
public endpoints; those use ``$n`` placeholders and asyncpg records directly. A lost connection still
renews the pool, as SQLAlchemy would on its own path.
"""

from __future__ import annotations

import errno
import functools
import socket
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

#: The server's errors that mean it went away or will not take us: the connection is gone (class 08), it was shut
#: down, or it is not accepting connections yet. (Other errors leave the connection usable.)
DISCONNECTS = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
)
#: Socket errors of a connection to the server (not a file's): refused, reset, unreachable, timed out.
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ENOTCONN,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
        errno.ENETRESET,
    }
)


def is_disconnect(exc: BaseException) -> bool:
    """Whether an error means the server was lost or could not be reached, rather than a query error or a misuse
    of a connection that is still open (an ``InterfaceError`` such as a wrong number of arguments)."""
    if isinstance(exc, DISCONNECTS):
        return True
    if isinstance(exc, asyncpg.InternalClientError):
        # A connection whose protocol is out of step: the server ended it mid-exchange (its FATAL message arrived,
        # its close not yet), as a shutdown does to every connection. A stale statement cache is not that.
        return not isinstance(exc, asyncpg.OutdatedSchemaCacheError)
    if isinstance(exc, asyncpg.InterfaceError):
        # Used after it was lost; other interface errors are misuses of an open connection (as SQLAlchemy decides).
        return "connection is closed" in str(exc)
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    if isinstance(exc, OSError):
        # asyncio's create_connection joins the failures of several addresses (localhost: ::1 and 127.0.0.1)
        # into one OSError with no errno.
        return exc.errno in _NETWORK_ERRNOS or str(exc).startswith("Multiple exceptions: ")
    return False


async def driver(conn: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a pooled SQLAlchemy one.

    A connection that is open and valid is read directly (no I/O, so no greenlet hop); otherwise SQLAlchemy
    revalidates it under its own async bridge.
    """
    sync = conn.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        found = sync.connection.driver_connection
    else:
        found = (await conn.get_raw_connection()).driver_connection
    return found


async def fetch(conn: AsyncConnection, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Rows of one statement ($1, $2 … placeholders)."""
    raw = await driver(conn)
    try:
        return await raw.fetch(str(sql), *args)  # asyncpg takes exactly str, not a subclass (db/sql.Sql)
    except Exception as exc:
        if is_disconnect(exc) or raw.is_closed():
            await conn.invalidate()
            await conn.engine.dispose(close=False)  # every pooled connection predates the outage
        raise


#: The dialect whose compiler reads ``:name`` placeholders here, as it does in every ``text()`` statement.
_DIALECT = postgresql.asyncpg.dialect()


def positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """Turn ``:name`` placeholders into ``$n`` ones, by SQLAlchemy's own rules for ``text()``, with the arguments."""
    converted, names = _numbered(sql)
    missing = [name for name in names if name not in params]
    if missing:
        raise KeyError(f"no value for SQL parameter {missing[0]!r}")
    return converted, [params[name] for name in names]


@functools.lru_cache(maxsize=512)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    # The same parser as text(): casts (::int) and escaped colons are no placeholders; a name used twice is one $n.
    compiled = text(sql).compile(dialect=_DIALECT)
    return compiled.string, tuple(compiled.positiontup or ())


async def fetch_named(conn: AsyncConnection, sql: str, params: dict[str, Any]) -> list[asyncpg.Record]:
    """Rows of one statement with ``:name`` placeholders."""
    converted, args = positional(sql, params)
    return await fetch(conn, converted, *args)
