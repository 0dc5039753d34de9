"""API keys: random secrets shown once; only their SHA-256 is stored. Roles: surveyor < reviewer < editor < admin."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.db.models import ROLES
from geo_service.domain.errors import Conflict, InvalidInput, NotFound

PREFIX = "gs_"


@dataclass(frozen=True)
class Caller:
    """Who is writing: the key's name and role."""

    name: str
    role: str

    def has(self, role: str) -> bool:
        """Whether this caller's role is at least ``role``."""
        return ROLES.index(self.role) >= ROLES.index(role)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create(conn: AsyncConnection, name: str, role: str, actor: str = "cli") -> str:
    """A new key for a person or app; returns the plain key (shown once, never stored)."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if not name.strip() or len(name) > 100:
        raise InvalidInput("a key needs a name of 1 to 100 characters")
    key = PREFIX + secrets.token_urlsafe(32)
    try:
        async with conn.begin_nested():
            await conn.execute(
                text("INSERT INTO api_keys (name, role, key_hash) VALUES (:n, :r, :h)"),
                {"n": name, "r": role, "h": digest(key)},
            )
    except IntegrityError:
        raise Conflict(f"a key named {name!r} exists already") from None
    await audit.record(conn, actor, "create", "api_key", name, None, {"name": name, "role": role})
    return key


async def revoke(conn: AsyncConnection, name: str, actor: str = "cli") -> None:
    """Revoke a key by name; it stops working at once."""
    row = await conn.execute(
        text("UPDATE api_keys SET revoked_at = now() WHERE name = :n AND revoked_at IS NULL RETURNING role"),
        {"n": name},
    )
    if row.first() is None:
        raise NotFound(f"no active key named {name!r}")
    await audit.record(conn, actor, "revoke", "api_key", name)


async def listing(conn: AsyncConnection) -> list[dict[str, object]]:
    """Every key: name, role, created, revoked (never the key)."""
    rows = await conn.execute(text("SELECT name, role, created_at, revoked_at FROM api_keys ORDER BY name"))
    return [dict(r._mapping) for r in rows]


async def verify(conn: AsyncConnection, key: str) -> Caller | None:
    """The caller a presented key belongs to, or None (unknown or revoked)."""
    if not key.startswith(PREFIX) or len(key) > 200:
        return None
    wanted = digest(key)
    row = (
        await conn.execute(
            text("SELECT name, role, key_hash FROM api_keys WHERE key_hash = :h AND revoked_at IS NULL"),
            {"h": wanted},
        )
    ).first()
    if row is None or not hmac.compare_digest(row[2], wanted):
        return None
    return Caller(row[0], row[1])
