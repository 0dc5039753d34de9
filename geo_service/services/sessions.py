"""Signing in and out: a session per sign-in, its token in an HttpOnly cookie (only a hash stored), a CSRF token.

Failed sign-ins are slowed (a second's pause each) and, after three in a row on one account, refused for a
doubling while (2 s, 4 s, … at most 15 minutes) so that a password cannot be guessed at speed; every failure is
logged with the name and the client's address. An unknown name costs the same as a wrong password.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.domain.errors import TooManyAttempts
from geo_service.i18n import t
from geo_service.services.keys import Caller
from geo_service.services.users import DUMMY_HASH, password_matches

log = logging.getLogger("geo_service.sessions")
FREE_ATTEMPTS = 3
MAX_WAIT_S = 900
FAILURE_PAUSE_S = 1.0


@dataclass(frozen=True)
class Session:
    """A signed-in person: who, and the tokens of the session (the plain token lives only in the cookie)."""

    caller: Caller
    token: str
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def wait_after(failures: int) -> int:
    """Seconds an account must wait after ``failures`` failed sign-ins in a row."""
    return 0 if failures < FREE_ATTEMPTS else min(2 ** (failures - FREE_ATTEMPTS + 1), MAX_WAIT_S)


async def sign_in(
    conn: AsyncConnection,
    name: str,
    password: str,
    client: str,
    lifetime: dt.timedelta,
    failure_pause_s: float = FAILURE_PAUSE_S,
) -> Session | None:
    """A new session when the name and password match an active account, else None (the failure recorded).

    ``TooManyAttempts`` while the account must wait after repeated failures."""
    row = (
        await conn.execute(
            text(
                "SELECT id, role, district_code, password_hash, failed_sign_ins, "
                "extract(epoch FROM now() - last_failed_at) FROM users WHERE name = :n AND disabled_at IS NULL "
                "FOR UPDATE"
            ),
            {"n": name},
        )
    ).first()
    if row is not None and row[5] is not None and row[5] < wait_after(row[4]):
        retry = max(1, int(wait_after(row[4]) - row[5]) + 1)
        raise TooManyAttempts(
            t("too many failed sign-ins for {name!r}; try again in {retry} s", name=name, retry=retry),
            retry_after=retry,
        )
    if not await password_matches(row[3] if row else DUMMY_HASH, password) or row is None:
        log.warning("failed sign-in for %r from %s", name[:100], client)
        if row is not None:
            await conn.execute(
                text(
                    "UPDATE users SET failed_sign_ins = failed_sign_ins + 1, last_failed_at = now() WHERE id = :u"
                ),
                {"u": row[0]},
            )
        await audit.record(conn, name[:100], "sign_in_failed", "users", name[:100], None, {"client": client})
        await asyncio.sleep(failure_pause_s)
        return None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await conn.execute(
        text("UPDATE users SET failed_sign_ins = 0, last_failed_at = NULL WHERE id = :u"), {"u": row[0]}
    )
    await conn.execute(
        text(
            "INSERT INTO user_sessions (token_hash, user_id, csrf_token, expires_at) "
            "VALUES (:t, :u, :c, now() + make_interval(secs => :s))"
        ),
        {"t": _digest(token), "u": row[0], "c": csrf, "s": lifetime.total_seconds()},
    )
    await audit.record(conn, name, "sign_in", "users", name, None, {"client": client})
    return Session(Caller(name, row[1], row[2]), token, csrf)


async def resolve(conn: AsyncConnection, token: str) -> Session | None:
    """The live session a cookie's token belongs to (account active, not expired), or None."""
    if not token or len(token) > 200:
        return None
    row = (
        await conn.execute(
            text(
                "SELECT u.name, u.role, u.district_code, s.csrf_token FROM user_sessions s "
                "JOIN users u ON u.id = s.user_id "
                "WHERE s.token_hash = :t AND s.expires_at > now() AND u.disabled_at IS NULL"
            ),
            {"t": _digest(token)},
        )
    ).first()
    return None if row is None else Session(Caller(row[0], row[1], row[2]), token, row[3])


async def end(conn: AsyncConnection, token: str) -> None:
    """Sign out: the session stops working at once."""
    await conn.execute(text("DELETE FROM user_sessions WHERE token_hash = :t"), {"t": _digest(token)})
