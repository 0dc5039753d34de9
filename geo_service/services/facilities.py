"""Editing facilities: create, update (on the version the editor saw), close. Closing keeps the history."""

from __future__ import annotations

from typing import Any

import orjson
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.domain.errors import InvalidInput, NotFound, StaleVersion
from geo_service.domain.geometry_input import parse_geometry
from geo_service.services import collections, facility_types, features_query
from geo_service.services.keys import Caller
from geo_service.services.locate import assign_facility_divisions

_EDITABLE = ("name", "address", "phone", "opening_hours", "capacity", "status")
_SNAPSHOT = (
    "SELECT type, name, address, phone, opening_hours, capacity, status, attributes, version, "
    "ST_AsGeoJSON(geom, 7) FROM facilities WHERE id = :id"
)


def _point(geometry: dict[str, Any], crs: str) -> Any:
    geom = parse_geometry(geometry, crs)
    if not isinstance(geom, Point):
        raise InvalidInput(f"a facility is a GeoJSON Point, not a {geom.geom_type}")
    return from_shape(geom, srid=4326)


async def _snapshot(conn: AsyncConnection, facility_id: int, lock: bool = False) -> dict[str, Any]:
    row = (await conn.execute(text(_SNAPSHOT + (" FOR UPDATE" if lock else "")), {"id": facility_id})).first()
    if row is None:
        raise NotFound(f"no facility {facility_id}")
    keys = (
        "type",
        "name",
        "address",
        "phone",
        "opening_hours",
        "capacity",
        "status",
        "attributes",
        "version",
        "geometry",
    )
    snap = dict(zip(keys, row, strict=True))
    snap["geometry"] = orjson.loads(snap["geometry"])
    return snap


async def _feature(conn: AsyncConnection, facility_type: str, facility_id: int, crs: str) -> dict[str, Any]:
    info = await facility_types.get_type(conn, facility_type)
    coll = await collections.get_collection(conn, info.collection)
    assert coll is not None
    return await features_query.one(conn, coll, str(facility_id), crs)


async def get(conn: AsyncConnection, facility_id: int, crs: str) -> dict[str, Any]:
    """One facility as a feature of its type's collection, whatever its status."""
    row = (
        await conn.execute(text("SELECT type FROM facilities WHERE id = :id"), {"id": facility_id})
    ).first()
    if row is None:
        raise NotFound(f"no facility {facility_id}")
    return await _feature(conn, row[0], facility_id, crs)


async def create(conn: AsyncConnection, caller: Caller, props: dict[str, Any], geometry: dict[str, Any],
                 crs: str) -> dict[str, Any]:  # fmt: skip
    """A new active facility; its divisions come from its position."""
    await facility_types.get_type(conn, props["type"])
    stmt = text(
        "INSERT INTO facilities (type, name, address, phone, opening_hours, capacity, status, attributes, "
        "geometry_source, geom) VALUES (:type, :name, :address, :phone, :opening_hours, :capacity, 'active', "
        "CAST(:attributes AS jsonb), 'surveyed', :geom) RETURNING id"
    ).bindparams(bindparam("geom", type_=Geometry(srid=4326)))
    values = {k: props.get(k) for k in ("type", "name", "address", "phone", "opening_hours", "capacity")}
    fid = int((await conn.execute(stmt, {**values, "attributes": orjson.dumps(props.get("attributes") or {}).decode(),
                                         "geom": _point(geometry, crs)})).scalar_one())  # fmt: skip
    await assign_facility_divisions(conn, [fid])
    await audit.record(
        conn, caller.name, "create", "facility", str(fid), None, {**values, "geometry": geometry}
    )
    return await _feature(conn, props["type"], fid, crs)


async def update(conn: AsyncConnection, caller: Caller, facility_id: int, version: int, changes: dict[str, Any],
                 crs: str) -> dict[str, Any]:  # fmt: skip
    """Apply changes made on ``version``; 412 when someone else changed the facility since."""
    before = await _snapshot(conn, facility_id, lock=True)
    if before["version"] != version:
        raise StaleVersion(f"facility {facility_id} is at version {before['version']}, not {version}: reload it",
                           current_version=before["version"])  # fmt: skip
    sets = [f"{k} = :{k}" for k in _EDITABLE if changes.get(k) is not None]
    params: dict[str, Any] = {k: changes[k] for k in _EDITABLE if changes.get(k) is not None}
    if changes.get("attributes") is not None:
        sets.append("attributes = CAST(:attributes AS jsonb)")
        params["attributes"] = orjson.dumps(changes["attributes"]).decode()
    stmt_geom = changes.get("geometry") is not None
    if stmt_geom:
        sets.append("geom = :geom")
        params["geom"] = _point(changes["geometry"], crs)
    if not sets:
        raise InvalidInput("nothing to change: give at least one field")
    stmt = text(
        f"UPDATE facilities SET {', '.join(sets)}, version = version + 1, updated_at = now() WHERE id = :id"
    )
    if stmt_geom:
        stmt = stmt.bindparams(bindparam("geom", type_=Geometry(srid=4326)))
    await conn.execute(stmt, {**params, "id": facility_id})
    if stmt_geom:
        await assign_facility_divisions(conn, [facility_id])
    after = await _snapshot(conn, facility_id)
    await audit.record(conn, caller.name, "update", "facility", str(facility_id), before, after)
    return await _feature(conn, before["type"], facility_id, crs)


async def close(
    conn: AsyncConnection, caller: Caller, facility_id: int, version: int | None
) -> dict[str, Any]:
    """Mark a facility closed: it leaves nearest and coverage at once, its record stays."""
    before = await _snapshot(conn, facility_id, lock=True)
    if version is not None and before["version"] != version:
        raise StaleVersion(f"facility {facility_id} is at version {before['version']}, not {version}: reload it",
                           current_version=before["version"])  # fmt: skip
    await conn.execute(
        text(
            "UPDATE facilities SET status = 'closed', version = version + 1, updated_at = now() WHERE id = :id"
        ),
        {"id": facility_id},
    )
    await audit.record(conn, caller.name, "close", "facility", str(facility_id), before, {"status": "closed"})
    return {"id": facility_id, "status": "closed", "version": before["version"] + 1}
