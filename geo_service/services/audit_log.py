"""Reading the audit log: who changed what and when, filtered by time, person and table, as JSON or CSV.

Entries name what they changed by an entity: a table name (``place_names``, ``users``) or, in entries written
by older code, the kind of row (``place_name``, ``facility``). Clients filter and read table names only; the
mapping below is the one place that knows both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.models import Base
from geo_service.db.sql import Sql, compose, join
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services import exports

#: The table an entity names, where it is not the table's own name.
TABLE_OF: dict[str, str] = {
    "place_name": "place_names",
    "facility": "facilities",
    "facility_type": "facility_types",
    "marker": "boundary_markers",
    "sign": "place_name_signs",
    "place_name_sign": "place_name_signs",
    "api_key": "api_keys",
    "submission": "submissions",
    "protected_name": "protected_names",
    "forbidden_term": "forbidden_terms",
    "place_name_reading": "place_name_readings",
    "attachment": "attachments",
}
#: Column → header of the CSV download (Chinese, with the JSON key).
HEADERS = {
    "id": "编号 id",
    "at": "时间 at",
    "actor": "操作人 actor",
    "action": "操作 action",
    "table": "数据表 table",
    "entity_id": "记录 entity_id",
    "before": "修改前 before",
    "after": "修改后 after",
}


def table_of(entity: str) -> str:
    """The table an audit entity names."""
    return TABLE_OF.get(entity, entity)


def tables() -> list[str]:
    """The table names a filter may use: every table of the schema."""
    return sorted(Base.metadata.tables)


def _entities(table: str) -> list[str]:
    if table not in Base.metadata.tables:
        raise InvalidInput(
            t("unknown table {table!r}: use one of {tables}", table=table, tables=", ".join(tables()))
        )
    return [table, *(entity for entity, of in TABLE_OF.items() if of == table)]


def _instant(since: dt.date | dt.datetime) -> dt.datetime:
    """A time to compare with: a date is its midnight; a time without an offset is UTC."""
    if not isinstance(since, dt.datetime):
        since = dt.datetime.combine(since, dt.time())
    return since if since.tzinfo is not None else since.replace(tzinfo=dt.UTC)


async def entries(
    conn: AsyncConnection,
    since: dt.date | dt.datetime | None = None,
    actor: str | None = None,
    table: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Audit entries at or after ``since``, by ``actor``, on ``table``: newest first."""
    where: list[Sql] = [Sql("true")]
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if since is not None:
        where.append(Sql("at >= :since"))
        params["since"] = _instant(since)
    if actor is not None:
        where.append(Sql("actor = :actor"))
        params["actor"] = actor
    if table is not None:
        where.append(Sql("entity = ANY(:entities)"))
        params["entities"] = _entities(table)
    rows = await conn.execute(
        text(
            compose(
                "SELECT id, at, actor, action, entity, entity_id, before, after FROM audit_log "
                "WHERE {where} ORDER BY at DESC, id DESC LIMIT :limit OFFSET :offset",
                where=join(" AND ", where),
            )
        ),
        params,
    )
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "table": table_of(r.entity),
            "entity_id": r.entity_id,
            "before": r.before,
            "after": r.after,
        }
        for r in rows
    ]


def csv_file(found: list[dict[str, Any]]) -> bytes:
    """The entries as CSV (before and after as JSON text), formula-safe like every download."""
    frame = pd.DataFrame(
        [{**e, "before": _json_text(e["before"]), "after": _json_text(e["after"])} for e in found],
        columns=list(HEADERS),
    ).rename(columns=HEADERS)
    return exports.csv_table(frame)


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
