"""Inspections of boundary markers (界桩联检) and place-name signs: every one kept; status = the latest one's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.domain.errors import InvalidInput, NotFound
from geo_service.domain.geometry_input import parse_geometry
from geo_service.services.keys import Caller

#: kind → (target table, inspections table, foreign key)
TARGETS = {
    "marker": ("boundary_markers", "marker_inspections", "marker_id"),
    "sign": ("place_name_signs", "sign_inspections", "sign_id"),
}


def _position(position: dict[str, Any] | None, crs: str) -> Any:
    if position is None:
        return None
    geom = parse_geometry(position, crs)
    if not isinstance(geom, Point):
        raise InvalidInput(f"position must be a GeoJSON Point, not a {geom.geom_type}")
    return from_shape(geom, srid=4326)


async def record(
    conn: AsyncConnection, caller: Caller, kind: str, target_id: int, status: str, inspected_on: dt.date,
    note: str | None, position: dict[str, Any] | None, crs: str,
) -> dict[str, Any]:  # fmt: skip
    """Add an inspection; the target's status and last inspection date follow its latest inspection."""
    table, log, fk = TARGETS[kind]
    if inspected_on > dt.date.today():
        raise InvalidInput("inspected_on lies in the future")
    before = (await conn.execute(text(f"SELECT status, last_inspected_on FROM {table} WHERE id = :id FOR UPDATE"),
                                 {"id": target_id})).first()  # fmt: skip
    if before is None:
        raise NotFound(f"no {kind} {target_id}")
    stmt = text(
        f"INSERT INTO {log} ({fk}, status, inspected_on, note, inspector, position) "
        "VALUES (:t, :s, :d, :n, :who, :pos) RETURNING id"
    ).bindparams(bindparam("pos", type_=Geometry(srid=4326)))
    new_id = (await conn.execute(stmt, {"t": target_id, "s": status, "d": inspected_on, "n": note,
                                        "who": caller.name, "pos": _position(position, crs)})).scalar_one()  # fmt: skip
    latest = (
        await conn.execute(
            text(f"UPDATE {table} SET (status, last_inspected_on) = (SELECT status, inspected_on FROM {log} "
                 f"WHERE {fk} = :t ORDER BY inspected_on DESC, id DESC LIMIT 1), version = version + 1 "
                 "WHERE id = :t RETURNING status, last_inspected_on, version"),
            {"t": target_id},
        )
    ).one()  # fmt: skip
    await audit.record(conn, caller.name, "inspect", kind, str(target_id),
                       {"status": before[0], "last_inspected_on": str(before[1]) if before[1] else None},
                       {"status": latest[0], "inspection": int(new_id)})  # fmt: skip
    return {"id": int(new_id), kind + "_id": target_id, "status": status, "inspected_on": inspected_on.isoformat(),
            "note": note, "inspector": caller.name,
            kind: {"status": latest[0], "last_inspected_on": latest[1].isoformat(), "version": latest[2]}}  # fmt: skip


async def history(
    conn: AsyncConnection, kind: str, target_id: int, caller: Caller | None = None
) -> list[dict[str, Any]]:
    """Every inspection of a marker or sign, oldest first: date and status for the public; notes, inspector and
    position for staff (a caller)."""
    table, log, fk = TARGETS[kind]
    if (await conn.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"), {"id": target_id})).first() is None:
        raise NotFound(f"no {kind} {target_id}")
    rows = await conn.execute(
        text(f"SELECT id, status, inspected_on, note, inspector, ST_AsGeoJSON(position, 7) FROM {log} "
             f"WHERE {fk} = :id ORDER BY inspected_on, id"),
        {"id": target_id},
    )  # fmt: skip
    if caller is None:
        return [{"id": r[0], "status": r[1], "inspected_on": r[2].isoformat()} for r in rows.all()]
    return [{"id": r[0], "status": r[1], "inspected_on": r[2].isoformat(), "note": r[3], "inspector": r[4],
             "position": orjson.loads(r[5]) if r[5] else None} for r in rows.all()]  # fmt: skip
