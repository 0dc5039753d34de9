"""API keys: random secrets shown once; only their SHA-256 is stored. Roles: surveyor < reviewer < editor < admin."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.db.models import ROLES
from geo_service.domain.errors import Conflict, InvalidInput, NotFound
from geo_service.i18n import t

PREFIX = "gs_"


@dataclass(frozen=True)
class Caller:
    """Who is writing: the key's name and role."""

    name: str
    role: str
    district: str | None = None  # a key or person limited to one district acts only there

    def has(self, role: str) -> bool:
        """Whether this caller's role is at least ``role``."""
        return ROLES.index(self.role) >= ROLES.index(role)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def check_new_name(conn: AsyncConnection, name: str, role: str, district: str | None) -> None:
    """A name for a new key or person: 1 to 100 characters, not taken by either (one namespace), a known role
    and, when given, a known district."""
    if role not in ROLES:
        raise InvalidInput(t("unknown role {role!r}: use one of {roles}", role=role, roles=", ".join(ROLES)))
    if not name.strip() or len(name) > 100:
        raise InvalidInput(t("a name of 1 to 100 characters is needed"))
    # Keys and persons share one namespace: the audit log names either by its name alone.
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('caller-names'))"))
    taken = await conn.execute(
        text("SELECT 1 FROM api_keys WHERE name = :n UNION ALL SELECT 1 FROM users WHERE name = :n"),
        {"n": name},
    )
    if taken.first() is not None:
        raise Conflict(t("the name {name!r} is taken (by a key or a person)", name=name))
    if district is not None:
        found = await conn.execute(
            text("SELECT 1 FROM divisions WHERE code = :c AND level = 'district'"), {"c": district}
        )
        if found.first() is None:
            raise InvalidInput(t("unknown district code {district!r}", district=district))


async def create(
    conn: AsyncConnection, name: str, role: str, actor: str = "cli", district: str | None = None
) -> str:
    """A new key for an app; returns the plain key (shown once, never stored)."""
    await check_new_name(conn, name, role, district)
    key = PREFIX + secrets.token_urlsafe(32)
    await conn.execute(
        text("INSERT INTO api_keys (name, role, key_hash, district_code) VALUES (:n, :r, :h, :d)"),
        {"n": name, "r": role, "h": digest(key), "d": district},
    )
    await audit.record(
        conn, actor, "create", "api_key", name, None, {"name": name, "role": role, "district": district}
    )
    return key


async def revoke(conn: AsyncConnection, name: str, actor: str = "cli") -> None:
    """Revoke a key by name; it stops working at once."""
    row = await conn.execute(
        text("UPDATE api_keys SET revoked_at = now() WHERE name = :n AND revoked_at IS NULL RETURNING role"),
        {"n": name},
    )
    if row.first() is None:
        raise NotFound(t("no active key named {name!r}", name=name))
    await audit.record(conn, actor, "revoke", "api_key", name)


async def listing(conn: AsyncConnection) -> list[dict[str, object]]:
    """Every key: name, role, created, revoked (never the key)."""
    rows = await conn.execute(
        text("SELECT name, role, district_code, created_at, revoked_at FROM api_keys ORDER BY name")
    )
    return [dict(r._mapping) for r in rows]


async def verify(conn: AsyncConnection, key: str) -> Caller | None:
    """The caller a presented key belongs to, or None (unknown or revoked)."""
    if not key.startswith(PREFIX) or len(key) > 200:
        return None
    wanted = digest(key)
    row = (
        await conn.execute(
            text(
                "SELECT name, role, key_hash, district_code FROM api_keys "
                "WHERE key_hash = :h AND revoked_at IS NULL"
            ),
            {"h": wanted},
        )
    ).first()
    if row is None or not hmac.compare_digest(row[2], wanted):
        return None
    return Caller(row[0], row[1], row[3])
