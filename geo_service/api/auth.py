"""Who is calling (a key or a signed-in person, see ``identity``). Writes need a role (401 without credentials,
403 with too low a role); reads that show staff fields take optional credentials (the public view without)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geo_service.api.deps import ConnDep, EngineDep
from geo_service.api.identity import CHALLENGE, has_credentials, identify
from geo_service.i18n import t
from geo_service.services.keys import Caller

bearer = HTTPBearer(auto_error=False, description="An API key from `geo-service keys create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


#: The roles as the workbench's pages call them (``locales/zh.json``, ``role.*``), in the reader's language.
_ROLE_WORDS: dict[str, Callable[[], str]] = {
    "surveyor": lambda: t("surveyor"),
    "reviewer": lambda: t("reviewer"),
    "editor": lambda: t("editor"),
    "admin": lambda: t("admin"),
}


def role_word(role: str) -> str:
    """A role in the reader's words (its code in English; 审核员（reviewer）… in Chinese)."""
    word = _ROLE_WORDS.get(role)
    return word() if word else role


def require_role(role: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting keys whose role is ``role`` or higher."""

    async def dependency(request: Request, engine: EngineDep, credentials: Credentials) -> Caller:
        async with engine.connect() as conn:
            caller = await identify(request, conn)
        if caller is None:
            raise HTTPException(
                401, t("sign in, or send an API key: Authorization: Bearer <key>"), headers=CHALLENGE
            )
        if not caller.has(role):
            raise HTTPException(
                403,
                t(
                    "this needs the {role} role; {name!r} is a {current}",
                    role=role_word(role),
                    name=caller.name,
                    current=role_word(caller.role),
                ),
            )
        request.state.caller = caller
        return caller

    return dependency


async def read_caller(request: Request, conn: ConnDep, credentials: Credentials) -> Caller | None:
    """The reader: None without credentials (the public), else the caller (401 if they do not hold).

    Verified on the request's read connection, which is the primary's for a request with credentials."""
    if not has_credentials(request):
        return None
    caller = await identify(request, conn)
    request.state.caller = caller
    return caller


Surveyor = Annotated[Caller, Depends(require_role("surveyor"))]
Reviewer = Annotated[Caller, Depends(require_role("reviewer"))]
Editor = Annotated[Caller, Depends(require_role("editor"))]
Admin = Annotated[Caller, Depends(require_role("admin"))]
Reader = Annotated[Caller | None, Depends(read_caller)]
#: ``openapi_extra`` of a route taking a ``Reader``: the key is optional (OpenAPI's empty requirement).
OPTIONAL_KEY: dict[str, Any] = {"security": [{}]}
