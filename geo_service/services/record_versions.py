"""The version of one versioned record (place name, facility, boundary marker, place-name sign), read for a write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.sql import compose, ident
from geo_service.domain.errors import NotFound
from geo_service.i18n import t

RecordKind = Literal["place_name", "facility", "marker", "sign"]
#: kind → (table, the words a client reads, in the request's language)
_RECORDS: dict[str, tuple[str, Callable[[], str]]] = {
    "place_name": ("place_names", lambda: t("place name")),
    "facility": ("facilities", lambda: t("facility")),
    "marker": ("boundary_markers", lambda: t("boundary marker")),
    "sign": ("place_name_signs", lambda: t("place-name sign")),
}


def words(kind: RecordKind) -> str:
    """What a client calls a record of this kind."""
    return _RECORDS[kind][1]()


_LOCKED = "SELECT version FROM {table} WHERE id = :id FOR UPDATE"


async def locked_version(conn: AsyncConnection, kind: RecordKind, record_id: int) -> int:
    """The record's current version, its row locked until the transaction ends; NotFound when there is none.

    Locked, so that the version a precondition was checked against is still the version the write changes.
    """
    table = _RECORDS[kind][0]
    found = (await conn.execute(text(compose(_LOCKED, table=ident(table))), {"id": record_id})).first()
    if found is None:
        raise NotFound(t("no {what} {id}", what=words(kind), id=record_id))
    return int(found[0])
