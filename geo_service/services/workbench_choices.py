"""What the workbench's selects offer from the data: the districts and the facility types."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.services import facility_types


@dataclass(frozen=True)
class Choices:
    """Districts as (code, name) and facility types as (code, Chinese name, English name)."""

    districts: list[tuple[str, str]]
    facility_types: list[tuple[str, str, str]]


async def load(conn: AsyncConnection) -> Choices:
    """The districts by code and every facility type."""
    rows = await conn.execute(text("SELECT code, name FROM divisions WHERE level = 'district' ORDER BY code"))
    types = await facility_types.all_types(conn)
    return Choices([(r[0], r[1]) for r in rows.all()], [(t.code, t.name_zh, t.name_en) for t in types])
