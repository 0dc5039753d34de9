"""Facility types: rows in the database, so an admin can add one without a code change."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.domain.errors import InvalidInput


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


async def all_types(conn: AsyncConnection) -> list[FacilityTypeInfo]:
    """Every facility type, by code."""
    rows = await conn.execute(
        text(
            "SELECT code, collection, name_zh, name_en, default_radius_m, default_mode, presence_level "
            "FROM facility_types ORDER BY code"
        )
    )
    return [FacilityTypeInfo(*r) for r in rows.all()]


async def get_type(conn: AsyncConnection, code: str) -> FacilityTypeInfo:
    """One facility type; InvalidInput naming the known types when it does not exist."""
    types = await all_types(conn)
    for t in types:
        if t.code == code:
            return t
    raise InvalidInput(f"unknown facility type {code!r}: use one of {', '.join(t.code for t in types)}")
