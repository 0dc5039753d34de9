"""The version of one versioned record (place name, facility, boundary marker, place-name sign), read for a write."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.sql import compose, ident
from geo_service.domain.errors import NotFound

RecordKind = Literal["place_name", "facility", "marker", "sign"]
#: kind → (table, the words a client reads)
_RECORDS: dict[str, tuple[str, str]] = {
    "place_name": ("place_names", "place name"),
    "facility": ("facilities", "facility"),
    "marker": ("boundary_markers", "boundary marker"),
    "sign": ("place_name_signs", "place-name sign"),
}


def words(kind: RecordKind) -> str:
    """What a client calls a record of this kind."""
    return _RECORDS[kind][1]


_LOCKED = "SELECT version FROM {table} WHERE id = :id FOR UPDATE"


async def locked_version(conn: AsyncConnection, kind: RecordKind, record_id: int) -> int:
    """The record's current version, its row locked until the transaction ends; NotFound when there is none.

    Locked, so that the version a precondition was checked against is still the version the write changes.
    """
    table, name = _RECORDS[kind]
    found = (await conn.execute(text(compose(_LOCKED, table=ident(table))), {"id": record_id})).first()
    if found is None:
        raise NotFound(f"no {name} {record_id}")
    return int(found[0])
