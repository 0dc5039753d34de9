"""People who sign in: accounts with a role (and maybe a district), passwords hashed with Argon2.

Keys (``keys.py``) are for programs; persons get accounts. Both share one namespace of names, so that the
audit log's "who" is never ambiguous. Disabling an account ends its sessions at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.i18n import t
from geo_service.services.keys import check_new_name

MIN_PASSWORD = 10
_hasher = PasswordHasher()


def check_password(password: str) -> None:
    """At least ten characters (no other rule: length is what makes a password strong)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(t("a password needs at least {count} characters", count=MIN_PASSWORD))
    if len(password) > 1000:
        raise InvalidInput(t("a password has at most 1,000 characters"))


async def hash_password(password: str) -> str:
    """The Argon2id hash of a password (in a thread: hashing takes ~0.1 s of CPU, without the GIL)."""
    check_password(password)
    return await asyncio.to_thread(_hasher.hash, password)


async def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one hashed (constant effort whatever the answer)."""

    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


#: Hashed once: checked against when the name is unknown, so that a wrong name costs as much as a wrong password.
DUMMY_HASH = _hasher.hash("not a password of anyone")


async def create(
    conn: AsyncConnection,
    name: str,
    role: str,
    password: str,
    district: str | None = None,
    actor: str = "cli",
) -> dict[str, Any]:
    """A new account; its password is stored only as an Argon2 hash."""
    password_hash = await hash_password(password)
    await check_new_name(conn, name, role, district)
    row = (
        await conn.execute(
            text(
                "INSERT INTO users (name, role, district_code, password_hash) VALUES (:n, :r, :d, :h) "
                "RETURNING id, name, role, district_code, created_at, disabled_at"
            ),
            {"n": name, "r": role, "d": district, "h": password_hash},
        )
    ).one()
    user = dict(row._mapping)
    await audit.record(
        conn, actor, "create", "users", name, None, {"name": name, "role": role, "district": district}
    )
    return user


async def listing(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every account: name, role, district, created, disabled (never a password hash)."""
    rows = await conn.execute(
        text("SELECT id, name, role, district_code, created_at, disabled_at FROM users ORDER BY name")
    )
    return [dict(r._mapping) for r in rows]


async def disable(conn: AsyncConnection, name: str, actor: str = "cli") -> None:
    """Disable an account; its sessions end at once."""
    row = await conn.execute(
        text("UPDATE users SET disabled_at = now() WHERE name = :n AND disabled_at IS NULL RETURNING id"),
        {"n": name},
    )
    found = row.first()
    if found is None:
        raise NotFound(t("no active account named {name!r}", name=name))
    await conn.execute(text("DELETE FROM user_sessions WHERE user_id = :u"), {"u": found[0]})
    await audit.record(conn, actor, "disable", "users", name)


async def set_password(conn: AsyncConnection, name: str, password: str, actor: str = "cli") -> None:
    """A new password (set by an admin: there is no e-mail); the account's sessions end."""
    password_hash = await hash_password(password)
    row = await conn.execute(
        text(
            "UPDATE users SET password_hash = :h, failed_sign_ins = 0, last_failed_at = NULL "
            "WHERE name = :n RETURNING id"
        ),
        {"n": name, "h": password_hash},
    )
    found = row.first()
    if found is None:
        raise NotFound(t("no account named {name!r}", name=name))
    await conn.execute(text("DELETE FROM user_sessions WHERE user_id = :u"), {"u": found[0]})
    await audit.record(conn, actor, "set_password", "users", name)
