"""Administration: facility types, place-name readings, forbidden terms, protected names (admin keys only)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from geo_service.api.auth import Admin
from geo_service.api.deps import EngineDep
from geo_service.api.responses import JSONBody
from geo_service.api.schemas import FacilityTypeCreate
from geo_service.db import audit
from geo_service.domain.errors import Conflict, InvalidInput
from geo_service.services import facility_types

router = APIRouter(prefix="/v1/admin", tags=["administration"])


class ReadingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phrase: str = Field(min_length=1, max_length=10, description="e.g. 花都")
    reading: str = Field(
        min_length=1, max_length=80, description="One toneless syllable per character: hua du"
    )


class TermCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    term: str = Field(min_length=1, max_length=40)
    kind: Literal["person", "foreign_place", "company"]


class ProtectedCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=40)
    reason: str | None = Field(default=None, max_length=2000)


async def _insert(
    engine: EngineDep, caller: Admin, entity: str, sql: str, values: dict[str, object]
) -> JSONBody:
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql), values)
            await audit.record(
                conn, caller.name, "create", entity, str(next(iter(values.values()))), None, values
            )
    except IntegrityError as exc:
        raise Conflict(f"{entity} {next(iter(values.values()))!r} exists already or breaks a rule") from exc
    return JSONBody(values, status_code=201)


@router.post("/facility-types", status_code=201, summary="Add a facility type")
async def create_facility_type(engine: EngineDep, caller: Admin, body: FacilityTypeCreate) -> JSONBody:
    """A new type with its default radius and coverage mode; no code change, a new OGC collection at once."""
    response = await _insert(
        engine, caller, "facility_type",
        "INSERT INTO facility_types (code, collection, name_zh, name_en, default_radius_m, default_mode, "
        "presence_level) VALUES (:code, :collection, :name_zh, :name_en, :default_radius_m, :default_mode, "
        ":presence_level)",
        body.model_dump(),
    )  # fmt: skip
    facility_types.forget()
    return response


@router.post("/readings", status_code=201, summary="Add a place-name reading")
async def create_reading(engine: EngineDep, caller: Admin, body: ReadingCreate) -> JSONBody:
    """For characters pypinyin misreads in place names (e.g. 花都 → hua du)."""
    syllables = body.reading.lower().split()
    if len(syllables) != len(body.phrase) or not all(
        (s.isalpha() and s.isascii()) or "ü" in s for s in syllables
    ):
        raise InvalidInput("give one toneless syllable per character, separated by spaces (花都 → hua du)")
    return await _insert(engine, caller, "place_name_reading",
                         "INSERT INTO place_name_readings (phrase, reading) VALUES (:phrase, :reading)",
                         {"phrase": body.phrase, "reading": " ".join(syllables)})  # fmt: skip


@router.post("/forbidden-terms", status_code=201, summary="Add a forbidden term")
async def create_forbidden_term(engine: EngineDep, caller: Admin, body: TermCreate) -> JSONBody:
    return await _insert(engine, caller, "forbidden_term",
                         "INSERT INTO forbidden_terms (term, kind) VALUES (:term, :kind)", body.model_dump())  # fmt: skip


@router.post("/protected-names", status_code=201, summary="Add a name to the protected list")
async def create_protected_name(engine: EngineDep, caller: Admin, body: ProtectedCreate) -> JSONBody:
    return await _insert(engine, caller, "protected_name",
                         "INSERT INTO protected_names (name, reason, listed_on) VALUES (:name, :reason, current_date)",
                         body.model_dump())  # fmt: skip
