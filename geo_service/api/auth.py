"""Write access: a key or a signed-in person of a role (see ``identity``); 401 without, 403 with too low a role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geo_service.api.deps import EngineDep
from geo_service.api.identity import CHALLENGE, identify
from geo_service.services.keys import Caller

bearer = HTTPBearer(auto_error=False, description="An API key from `geo-service keys create`.")


def require_role(role: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting keys whose role is ``role`` or higher."""

    async def dependency(
        request: Request,
        engine: EngineDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        async with engine.connect() as conn:
            caller = await identify(request, conn)
        if caller is None:
            raise HTTPException(
                401, "sign in, or send an API key: Authorization: Bearer <key>", headers=CHALLENGE
            )
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
