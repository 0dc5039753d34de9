"""Signing in and out (`/v1/session`): the session cookie and its CSRF token for the workbench's pages."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from geo_service.api.deps import EngineDep, SettingsDep
from geo_service.api.identity import CSRF_COOKIE, SESSION_COOKIE, identify
from geo_service.api.responses import JSONBody
from geo_service.i18n import t
from geo_service.services import sessions
from geo_service.services.keys import Caller

router = APIRouter(prefix="/v1/session", tags=["people"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


def _who(caller: Caller) -> dict[str, object]:
    return {"name": caller.name, "role": caller.role, "district": caller.district}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("", summary="Sign in", responses={401: {"description": "Unknown name or wrong password"}})
async def create_session(
    request: Request, body: SignIn, engine: EngineDep, settings: SettingsDep
) -> JSONBody:
    """Sets the session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) and the `csrf_token` cookie whose
    value unsafe requests send back in `X-CSRF-Token`. 429 after repeated failures, with Retry-After."""
    lifetime = dt.timedelta(hours=settings.session_hours)
    async with engine.begin() as conn:
        session = await sessions.sign_in(
            conn, body.name, body.password, _client(request), lifetime, settings.sign_in_failure_pause_s
        )
    if session is None:
        raise HTTPException(401, t("unknown name or wrong password"))
    answer = JSONBody({**_who(session.caller), "csrf_token": session.csrf_token})
    secure = request.url.scheme == "https"
    max_age = int(lifetime.total_seconds())
    answer.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    answer.set_cookie(
        CSRF_COOKIE, session.csrf_token, max_age=max_age, samesite="strict", secure=secure, path="/"
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.get("", summary="Who is signed in")
async def read_session(request: Request, engine: EngineDep) -> JSONBody:
    """The signed-in person (or key holder); 401 for the public."""
    async with engine.connect() as conn:
        caller = await identify(request, conn)
    if caller is None:
        raise HTTPException(401, t("not signed in"))
    answer = JSONBody(_who(caller))
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.delete("", status_code=204, summary="Sign out")
async def delete_session(request: Request, engine: EngineDep) -> Response:
    """Ends the session at once and clears its cookies."""
    token = request.cookies.get(SESSION_COOKIE)
    if token is not None:
        async with engine.begin() as conn:
            await identify(request, conn)  # the CSRF token is needed to sign someone out too
            await sessions.end(conn, token)
    answer = Response(status_code=204)
    answer.delete_cookie(SESSION_COOKIE, path="/")
    answer.delete_cookie(CSRF_COOKIE, path="/")
    return answer
