"""Who is calling: an app with an API key, a signed-in person, or the public.

- ``Authorization: Bearer <key>``: an API key (programs; no CSRF token needed).
- ``Authorization: Basic``: a person's name and password, or any name with an API key as the password. QGIS
  3.22 cannot send a Bearer header; HTTP Basic is what it has.
- The ``geo_session`` cookie (HttpOnly, SameSite=Strict): a signed-in person. A request that changes
  something must also send the session's CSRF token in ``X-CSRF-Token`` (the page reads it from the
  ``csrf_token`` cookie): another site can make a browser send the cookie, not read the token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from fastapi import HTTPException, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.i18n import t
from geo_service.services import keys, sessions
from geo_service.services.keys import Caller
from geo_service.services.lru import LRU
from geo_service.services.users import password_matches

SESSION_COOKIE = "geo_session"
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = {"WWW-Authenticate": 'Bearer, Basic realm="geo_service", charset="UTF-8"'}

#: Basic credentials already checked against a password hash: (name, sha256 of password) → that hash. QGIS sends
#: them with every request, and Argon2 costs ~0.1 s; the account row is still read every time, so a new
#: password or a disabled account takes effect at once.
_basic_checked: LRU[tuple[str, str], str] = LRU(256)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers=CHALLENGE)


async def _key(conn: AsyncConnection, key: str) -> Caller:
    caller = await keys.verify(conn, key)
    if caller is None:
        raise _unauthorized(t("the API key is not valid (unknown or revoked)"))
    return caller


async def _basic(conn: AsyncConnection, value: str) -> Caller:
    try:
        name, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthorized(t("HTTP Basic credentials must be base64 of name:password in UTF-8")) from None
    if not sep:
        raise _unauthorized(t("HTTP Basic credentials must be name:password"))
    if password.startswith(keys.PREFIX):
        return await _key(conn, password)
    row = (
        await conn.execute(
            text(
                "SELECT role, district_code, password_hash FROM users WHERE name = :n AND disabled_at IS NULL"
            ),
            {"n": name},
        )
    ).first()
    if row is None:
        raise _unauthorized(t("unknown name or wrong password"))
    cache_key = (name, hashlib.sha256(password.encode()).hexdigest())
    known = _basic_checked.get(cache_key)
    if known is None or not hmac.compare_digest(known, row[2]):
        if not await password_matches(row[2], password):
            raise _unauthorized(t("unknown name or wrong password"))
        _basic_checked.put(cache_key, row[2])
    return Caller(name, row[0], row[1])


async def identify(request: Request, conn: AsyncConnection) -> Caller | None:
    """The caller of a request, or None for the public; 401 for credentials that do not hold, 403 for a
    session's unsafe request without its CSRF token."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "bearer":
            return await _key(conn, value.strip())
        if scheme.lower() == "basic":
            return await _basic(conn, value.strip())
        raise _unauthorized(t("use Authorization: Bearer <key> (or HTTP Basic)"))
    token = request.cookies.get(SESSION_COOKIE)
    if token is None:
        return None
    session = await sessions.resolve(conn, token)
    if session is None:
        return None  # an expired or ended session: the public, and pages ask to sign in again
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise HTTPException(403, t("the CSRF token is missing or wrong: reload the page and try again"))
    return session.caller


def has_credentials(request: Request) -> bool:
    """Whether a request claims to be staff (a key, Basic credentials or a session cookie), before checking."""
    return "authorization" in request.headers or SESSION_COOKIE in request.cookies
