"""Administration: facility types; the lists the naming rules read (readings, forbidden terms, protected names,
local characters: list, add, delete by id); the audit log (admins only)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from geo_service.api.auth import Admin
from geo_service.api.deps import EngineDep
from geo_service.api.params import Id
from geo_service.api.responses import JSONBody, download_responses
from geo_service.api.schemas import FacilityTypeCreate
from geo_service.db import audit
from geo_service.domain.errors import Conflict, InvalidInput
from geo_service.i18n import t
from geo_service.services import admin_lists, audit_log, collections, exports, facility_types
from geo_service.services.admin_lists import (
    FORBIDDEN_TERMS,
    LOCAL_CHARACTERS,
    PROTECTED_NAMES,
    READINGS,
    AdminList,
)

router = APIRouter(prefix="/v1/admin", tags=["administration"])
#: A phrase of Chinese characters (the unified ideographs and their extensions, as place names use them).
_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")


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


class LocalCharacterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    character: str = Field(min_length=1, max_length=1, description="e.g. 滘")
    note: str | None = Field(default=None, max_length=2000)


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
        raise Conflict(
            t(
                "{entity} {value!r} exists already or breaks a rule",
                entity=entity,
                value=next(iter(values.values())),
            )
        ) from exc
    return JSONBody(values, status_code=201)


@router.post("/facility-types", status_code=201, summary="Add a facility type")
async def create_facility_type(engine: EngineDep, caller: Admin, body: FacilityTypeCreate) -> JSONBody:
    """A new type with its default radius and coverage mode; no code change, a new OGC collection at once.
    409 saying which is taken: the code or the collection id (a built-in collection's too)."""
    if body.collection in collections.STATIC or body.collection in collections.STAFF:
        raise Conflict(t("the collection id {id!r} is taken by another collection", id=body.collection))
    async with engine.connect() as conn:
        clash = await facility_types.taken(conn, body.code, body.collection)
    if clash is not None:
        raise Conflict(clash)
    response = await _insert(
        engine,
        caller,
        "facility_type",
        "INSERT INTO facility_types (code, collection, name_zh, name_en, default_radius_m, default_mode, "
        "presence_level) VALUES (:code, :collection, :name_zh, :name_en, :default_radius_m, :default_mode, "
        ":presence_level)",
        body.model_dump(),
    )
    facility_types.forget()
    return response


@router.get("/readings", summary="The place-name readings")
async def read_readings(engine: EngineDep, caller: Admin) -> JSONBody:
    return await _listing(engine, READINGS, "readings")


@router.post("/readings", status_code=201, summary="Add a place-name reading")
async def create_reading(engine: EngineDep, caller: Admin, body: ReadingCreate) -> JSONBody:
    """For characters pypinyin misreads in place names (e.g. 花都 → hua du)."""
    if not _HANZI.fullmatch(body.phrase):
        raise InvalidInput(t("a phrase is written in Chinese characters, not {phrase!r}", phrase=body.phrase))
    syllables = body.reading.lower().split()
    if len(syllables) != len(body.phrase) or not all(
        (s.isalpha() and s.isascii()) or "ü" in s for s in syllables
    ):
        raise InvalidInput(t("give one toneless syllable per character, separated by spaces (花都 → hua du)"))
    return await _add(engine, caller, READINGS, {"phrase": body.phrase, "reading": " ".join(syllables)})


@router.delete("/readings/{entry_id}", summary="Remove a place-name reading")
async def delete_reading(engine: EngineDep, caller: Admin, entry_id: Id) -> JSONBody:
    """Names romanised with it keep their pinyin; new proposals are read by pypinyin (or another reading)."""
    return await _delete(engine, caller, READINGS, entry_id)


@router.get("/forbidden-terms", summary="The forbidden terms")
async def read_forbidden_terms(engine: EngineDep, caller: Admin) -> JSONBody:
    return await _listing(engine, FORBIDDEN_TERMS, "forbidden_terms")


@router.post("/forbidden-terms", status_code=201, summary="Add a forbidden term")
async def create_forbidden_term(engine: EngineDep, caller: Admin, body: TermCreate) -> JSONBody:
    return await _add(engine, caller, FORBIDDEN_TERMS, body.model_dump())


@router.delete("/forbidden-terms/{entry_id}", summary="Remove a forbidden term")
async def delete_forbidden_term(engine: EngineDep, caller: Admin, entry_id: Id) -> JSONBody:
    return await _delete(engine, caller, FORBIDDEN_TERMS, entry_id)


@router.get("/local-characters", summary="The region's standard characters outside GB2312")
async def read_local_characters(engine: EngineDep, caller: Admin) -> JSONBody:
    return await _listing(engine, LOCAL_CHARACTERS, "local_characters")


@router.post("/local-characters", status_code=201, summary="Allow a character outside GB2312 in place names")
async def create_local_character(engine: EngineDep, caller: Admin, body: LocalCharacterCreate) -> JSONBody:
    """A character the region's standard names use though GB2312 lacks it (滘, 塱 in Guangdong)."""
    if not "\u3400" <= body.character <= "\u9fff":
        raise InvalidInput(
            t("a local character is one Chinese character, not {character!r}", character=body.character)
        )
    return await _add(engine, caller, LOCAL_CHARACTERS, body.model_dump())


@router.delete("/local-characters/{entry_id}", summary="No longer allow a local character")
async def delete_local_character(engine: EngineDep, caller: Admin, entry_id: Id) -> JSONBody:
    """Names already stored keep it; new proposals with it are refused as rare characters."""
    return await _delete(engine, caller, LOCAL_CHARACTERS, entry_id)


@router.get("/protected-names", summary="The protected place-names list (地名保护名录)")
async def read_protected_names(engine: EngineDep, caller: Admin) -> JSONBody:
    return await _listing(engine, PROTECTED_NAMES, "protected_names")


@router.post("/protected-names", status_code=201, summary="Add a name to the protected list")
async def create_protected_name(engine: EngineDep, caller: Admin, body: ProtectedCreate) -> JSONBody:
    return await _add(engine, caller, PROTECTED_NAMES, {**body.model_dump(), "listed_on": dt.date.today()})


@router.delete("/protected-names/{entry_id}", summary="Remove a name from the protected list")
async def delete_protected_name(engine: EngineDep, caller: Admin, entry_id: Id) -> JSONBody:
    """A place that was renamed while protected stays protected (protection belongs to the place)."""
    return await _delete(engine, caller, PROTECTED_NAMES, entry_id)


async def _listing(engine: EngineDep, kind: AdminList, key: str) -> JSONBody:
    async with engine.connect() as conn:
        return JSONBody({key: await admin_lists.listing(conn, kind)})


async def _add(engine: EngineDep, caller: Admin, kind: AdminList, values: dict[str, object]) -> JSONBody:
    async with engine.begin() as conn:
        return JSONBody(await admin_lists.add(conn, kind, values, caller.name), status_code=201)


async def _delete(engine: EngineDep, caller: Admin, kind: AdminList, entry_id: int) -> JSONBody:
    async with engine.begin() as conn:
        return JSONBody({"deleted": await admin_lists.delete(conn, kind, entry_id, caller.name)})


@router.get(
    "/audit",
    summary="The audit log: who changed what, when",
    response_class=Response,
    responses=download_responses(JSONBody.media_type, exports.MEDIA_TYPES["csv"]),
)
async def read_audit(
    engine: EngineDep,
    caller: Admin,
    since: Annotated[
        dt.datetime | None,
        Query(description="Entries at or after this date or time (ISO 8601; without an offset, UTC)."),
    ] = None,
    actor: Annotated[
        str | None, Query(max_length=100, description="Who: a key's or a person's name.")
    ] = None,
    table: Annotated[
        str | None, Query(max_length=64, description="A table name: place_names, facilities, users, …")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")] = "json",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Newest first; each entry with the row (or the fields that changed) before and after."""
    async with engine.connect() as conn:
        found = await audit_log.entries(conn, since, actor, table, limit, offset)
    if format == "csv":
        return Response(
            audit_log.csv_file(found),
            media_type=exports.MEDIA_TYPES["csv"],
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    return JSONBody({"entries": found, "numberReturned": len(found)})
