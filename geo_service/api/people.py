"""Accounts and keys, kept by admins (`/v1/admin/users`, `/v1/admin/keys`): create, list, disable, new password."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from geo_service.api.auth import Admin
from geo_service.api.deps import EngineDep
from geo_service.api.responses import JSONBody
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services import keys, users

router = APIRouter(prefix="/v1/admin", tags=["people"])
Role = Literal["surveyor", "reviewer", "editor", "admin"]
District = Field(default=None, pattern=r"^[0-9]{6}$", description="Limit to one district (6-digit code).")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Role
    password: str = Field(min_length=users.MIN_PASSWORD, max_length=1000)
    district: str | None = District


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disabled: Literal[True] | None = None
    password: str | None = Field(default=None, min_length=users.MIN_PASSWORD, max_length=1000)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Role
    district: str | None = District


class KeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revoked: Literal[True]


@router.get("/users", summary="Accounts of people")
async def read_users(engine: EngineDep, caller: Admin) -> JSONBody:
    async with engine.connect() as conn:
        return JSONBody({"users": await users.listing(conn)}, headers={"Cache-Control": "private, no-store"})


@router.post("/users", status_code=201, summary="Add an account")
async def create_user(engine: EngineDep, caller: Admin, body: UserCreate) -> JSONBody:
    async with engine.begin() as conn:
        user = await users.create(conn, body.name, body.role, body.password, body.district, actor=caller.name)
    return JSONBody(user, status_code=201)


@router.patch("/users/{name}", summary="Disable an account or set its password")
async def update_user(engine: EngineDep, caller: Admin, name: str, body: UserUpdate) -> JSONBody:
    """Disabling ends the account's sessions at once; so does a new password (there is no e-mail reset)."""
    if body.disabled is None and body.password is None:
        raise InvalidInput(t('send {"disabled": true} or {"password": "…"}'))
    async with engine.begin() as conn:
        if body.password is not None:
            await users.set_password(conn, name, body.password, actor=caller.name)
        if body.disabled:
            await users.disable(conn, name, actor=caller.name)
    return JSONBody(
        {"name": name, "disabled": bool(body.disabled), "password_set": body.password is not None}
    )


@router.get("/keys", summary="API keys (never the keys themselves)")
async def read_keys(engine: EngineDep, caller: Admin) -> JSONBody:
    async with engine.connect() as conn:
        return JSONBody({"keys": await keys.listing(conn)}, headers={"Cache-Control": "private, no-store"})


@router.post("/keys", status_code=201, summary="Add an API key (shown once)")
async def create_key(engine: EngineDep, caller: Admin, body: KeyCreate) -> JSONBody:
    async with engine.begin() as conn:
        key = await keys.create(conn, body.name, body.role, actor=caller.name, district=body.district)
    return JSONBody(
        {"name": body.name, "role": body.role, "district": body.district, "key": key},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.patch("/keys/{name}", summary="Revoke an API key")
async def update_key(engine: EngineDep, caller: Admin, name: str, body: KeyUpdate) -> JSONBody:
    async with engine.begin() as conn:
        await keys.revoke(conn, name, actor=caller.name)
    return JSONBody({"name": name, "revoked": True})
