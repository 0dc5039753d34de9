"""Write access: `Authorization: Bearer <key>`; 401 without a valid key, 403 with too low a role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geo_service.api.deps import EngineDep
from geo_service.services.keys import Caller, verify

bearer = HTTPBearer(auto_error=False, description="An API key from `geo-service keys create`.")


def require_role(role: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting keys whose role is ``role`` or higher."""

    async def dependency(
        request: Request,
        engine: EngineDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "an API key is required: Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        async with engine.connect() as conn:
            caller = await verify(conn, credentials.credentials)
        if caller is None:
            raise HTTPException(401, "the API key is not valid (unknown or revoked)",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        if not caller.has(role):
            raise HTTPException(
                403, f"this needs the {role} role; the key {caller.name!r} is a {caller.role}"
            )
        request.state.caller = caller
        return caller

    return dependency


Surveyor = Annotated[Caller, Depends(require_role("surveyor"))]
Reviewer = Annotated[Caller, Depends(require_role("reviewer"))]
Editor = Annotated[Caller, Depends(require_role("editor"))]
Admin = Annotated[Caller, Depends(require_role("admin"))]
