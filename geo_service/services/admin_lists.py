"""The lists admins keep for the naming rules: protected names (地名保护名录), forbidden terms, readings, local
characters.

Each entry has an id (for DELETE) besides its natural key (the name, term or phrase). Every change is audited
under the list's table name. A change to the protected list changes what place-name answers say (``protected``):
a trigger on the table moves the place-names data version (migration 0008), so cached answers follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.db.sql import Sql, compose, ident, join
from geo_service.domain.errors import Conflict, NotFound
from geo_service.i18n import t


@dataclass(frozen=True)
class AdminList:
    """One list: its table, the columns an entry has (its natural key first) and what one entry is called."""

    table: str
    columns: tuple[str, ...]
    words: Callable[[], str]  # what a client calls an entry, in the request's language

    @property
    def key(self) -> str:
        """The column that names an entry (unique)."""
        return self.columns[0]


PROTECTED_NAMES = AdminList("protected_names", ("name", "reason", "listed_on"), lambda: t("protected name"))
FORBIDDEN_TERMS = AdminList("forbidden_terms", ("term", "kind"), lambda: t("forbidden term"))
READINGS = AdminList("place_name_readings", ("phrase", "reading"), lambda: t("reading"))
LOCAL_CHARACTERS = AdminList("local_characters", ("character", "note"), lambda: t("local character"))


def _columns(kind: AdminList) -> Sql:
    """The list's columns (its table's, from the schema), quoted."""
    return join(", ", (ident(c) for c in kind.columns))


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


async def listing(conn: AsyncConnection, kind: AdminList) -> list[dict[str, Any]]:
    """Every entry of a list with its id, oldest first."""
    sql = compose(
        "SELECT id, {columns} FROM {table} ORDER BY id", columns=_columns(kind), table=ident(kind.table)
    )
    rows = await conn.execute(text(sql))
    return [_jsonable(dict(r._mapping)) for r in rows]


async def add(conn: AsyncConnection, kind: AdminList, values: dict[str, Any], actor: str) -> dict[str, Any]:
    """Add an entry (409 when its name is on the list already); the entry with its id."""
    given = [c for c in kind.columns if c in values]
    sql = compose(
        "INSERT INTO {table} ({given}) VALUES ({places}) RETURNING id, {columns}",
        table=ident(kind.table),
        given=join(", ", (ident(c) for c in given)),
        places=join(", ", (compose(":v{i}", i=i) for i in range(len(given)))),
        columns=_columns(kind),
    )
    try:
        async with conn.begin_nested():
            row = (await conn.execute(text(sql), {f"v{i}": values[c] for i, c in enumerate(given)})).one()
    except IntegrityError as exc:
        raise Conflict(
            t("the {what} {value!r} is on the list already", what=kind.words(), value=values[kind.key])
        ) from exc
    entry = _jsonable(dict(row._mapping))
    await audit.record(conn, actor, "create", kind.table, str(entry["id"]), None, entry)
    return entry


async def delete(conn: AsyncConnection, kind: AdminList, entry_id: int, actor: str) -> dict[str, Any]:
    """Remove an entry by id (404 when there is none); the entry as it was."""
    row = (
        await conn.execute(
            text(
                compose(
                    "DELETE FROM {table} WHERE id = :id RETURNING id, {columns}",
                    table=ident(kind.table),
                    columns=_columns(kind),
                )
            ),
            {"id": entry_id},
        )
    ).first()
    if row is None:
        raise NotFound(t("no {what} with id {id}", what=kind.words(), id=entry_id))
    entry = _jsonable(dict(row._mapping))
    await audit.record(conn, actor, "delete", kind.table, str(entry_id), entry, None)
    return entry
