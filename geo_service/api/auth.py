"""Who is calling: `Authorization: Bearer <key>`. Writes need a key of a role (401 without a valid key, 403
with too low a role); reads that show staff fields take an optional one (the public view without it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api.deps import ConnDep, EngineDep
from geo_service.services.keys import Caller, verify

bearer = HTTPBearer(auto_error=False, description="An API key from `geo-service keys create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def _verified(conn: AsyncConnection, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "an API key is required: Authorization: Bearer <key>",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    caller = await verify(conn, credentials.credentials)
    if caller is None:
        raise HTTPException(401, "the API key is not valid (unknown or revoked)",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    return caller


def require_role(role: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting keys whose role is ``role`` or higher."""

    async def dependency(request: Request, engine: EngineDep, credentials: Credentials) -> Caller:
        async with engine.connect() as conn:
            caller = await _verified(conn, credentials)
        if not caller.has(role):
            raise HTTPException(
                403, f"this needs the {role} role; the key {caller.name!r} is a {caller.role}"
            )
        request.state.caller = caller
        return caller

    return dependency


async def read_caller(request: Request, conn: ConnDep, credentials: Credentials) -> Caller | None:
    """The reader: None without an Authorization header (the public), else the key's caller (401 if invalid).

    Verified on the request's read connection, which is the primary's for a request with a key."""
    if "authorization" not in request.headers:
        return None
    caller = await _verified(conn, credentials)
    request.state.caller = caller
    return caller


Surveyor = Annotated[Caller, Depends(require_role("surveyor"))]
Reviewer = Annotated[Caller, Depends(require_role("reviewer"))]
Editor = Annotated[Caller, Depends(require_role("editor"))]
Admin = Annotated[Caller, Depends(require_role("admin"))]
Reader = Annotated[Caller | None, Depends(read_caller)]
#: ``openapi_extra`` of a route taking a ``Reader``: the key is optional (OpenAPI's empty requirement).
OPTIONAL_KEY: dict[str, Any] = {"security": [{}]}
