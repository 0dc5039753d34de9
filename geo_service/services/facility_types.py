"""Facility types: rows in the database, so an admin can add one without a code change."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import i18n
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t


@dataclass(frozen=True)
class FacilityTypeInfo:
    """A facility type and its coverage defaults."""

    code: str
    collection: str
    name_zh: str
    name_en: str
    default_radius_m: float
    default_mode: str
    presence_level: str


#: Types change rarely and are read by every facility query: kept for a few seconds per database.
CACHE_TTL_S = 5.0
_cache: dict[URL, tuple[float, list[FacilityTypeInfo]]] = {}


def forget() -> None:
    """Drop the cached types (after a type is added or changed in this process)."""
    _cache.clear()


async def all_types(conn: AsyncConnection) -> list[FacilityTypeInfo]:
    """Every facility type, by code."""
    key = conn.engine.url  # hashable, and cheaper than rendering it
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_TTL_S:
        return hit[1]
    rows = await conn.execute(
        text(
            "SELECT code, collection, name_zh, name_en, default_radius_m, default_mode, presence_level "
            "FROM facility_types ORDER BY code"
        )
    )
    types = [FacilityTypeInfo(*r) for r in rows.all()]
    _cache[key] = (time.monotonic(), types)
    return types


async def get_type(conn: AsyncConnection, code: str) -> FacilityTypeInfo:
    """One facility type by its code or its collection id; InvalidInput naming the known types otherwise."""
    types = await all_types(conn)
    for info in types:
        if code in (info.code, info.collection):
            return info
    known = ", ".join(info.code for info in types)
    raise InvalidInput(t("unknown facility type {code!r}: use one of {known}", code=code, known=known))


def type_word(info: FacilityTypeInfo) -> str:
    """A facility type inside a message: its code in English (elderly_canteen), its name in Chinese (长者饭堂)."""
    return info.name_zh if i18n.language() == "zh" else info.code


async def taken(conn: AsyncConnection, code: str, collection: str) -> str | None:
    """Why a new type cannot be added as ``code`` with ``collection``: which of the two another type has."""
    row = (
        await conn.execute(
            text(
                "SELECT code = :code, collection FROM facility_types WHERE code = :code OR collection = :collection "
                "ORDER BY code = :code DESC LIMIT 1"
            ),
            {"code": code, "collection": collection},
        )
    ).first()
    if row is None:
        return None
    if row[0]:
        return t("facility type {code!r} exists already", code=code)
    return t("collection {collection!r} is the collection of another facility type", collection=collection)
