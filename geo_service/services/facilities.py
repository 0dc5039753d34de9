"""Editing facilities: create, update (on the version the editor saw), close. Closing keeps the history.

Where a facility may stand is one rule for a single edit and a bulk import (``placement_problems``): inside a
loaded district, and not on top of an active facility of the same type and name (within 10 m: the same facility
entered twice). Edits of a type's facilities take that type's lock first, so two editors entering the same
facility at once cannot both pass the check. A caller limited to a district (``district_limits``) creates,
edits, closes and imports facilities only there: where the facility stands decides, and for a move both where
it stood and where it goes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import shapely.geometry
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.db.sql import Sql, compose, ident, join
from geo_service.domain.errors import Conflict, FeatureErrors, Forbidden, InvalidInput, NotFound, StaleVersion
from geo_service.domain.geometry_input import geometry_word, parse_geometry
from geo_service.i18n import t
from geo_service.services import collections, facility_types, features_query, geojson
from geo_service.services.district_limits import acts_outside
from geo_service.services.keys import Caller
from geo_service.services.locate import assign_facility_divisions, containing_code_sql

#: Two active facilities of one type and name this close (geodesic metres) are one facility entered twice.
DUPLICATE_WITHIN_M = 10.0
# For each candidate (index, type, name, lon, lat, id of the facility it replaces or 0): the district it lies in, the
# active facility it duplicates, and the earlier candidate it duplicates (a file naming one facility twice). The
# box test lets the spatial index find the neighbours (0.001° is over 100 m at these latitudes).
_PLACEMENT = compose(
    """
WITH c AS (
  SELECT i, type, name, self, ST_SetSRID(ST_MakePoint(x, y), 4326) AS pt
  FROM unnest(CAST(:i AS int[]), CAST(:t AS text[]), CAST(:n AS text[]), CAST(:x AS float8[]),
              CAST(:y AS float8[]), CAST(:self AS bigint[])) AS u(i, type, name, x, y, self))
SELECT c.i, {district},
  (SELECT min(f.id) FROM facilities f WHERE f.type = c.type AND f.name = c.name AND f.status = 'active'
     AND f.id <> c.self AND f.geom && ST_Expand(c.pt, 0.001)
     AND ST_DWithin(f.geom::geography, c.pt::geography, {within})),
  (SELECT min(o.i) FROM c o WHERE o.i < c.i AND o.type = c.type AND o.name = c.name
     AND ST_DWithin(o.pt::geography, c.pt::geography, {within}))
FROM c ORDER BY c.i
""",
    district=containing_code_sql("district", "c.pt"),
    within=DUPLICATE_WITHIN_M,
)

_EDITABLE = ("name", "address", "phone", "opening_hours", "capacity", "status")
_SNAPSHOT = (
    "SELECT type, name, address, phone, opening_hours, capacity, status, attributes, version, closed_on, "
    "closed_reason, ST_AsGeoJSON(geom, 7) FROM facilities WHERE id = :id"
)


def _point(geometry: dict[str, Any], crs: str) -> Point:
    geom = parse_geometry(geometry, crs)
    if not isinstance(geom, Point):
        raise InvalidInput(
            t("a facility is a GeoJSON Point, not a {kind}", kind=geometry_word(geom.geom_type))
        )
    return geom


async def lock_types(conn: AsyncConnection, types: set[str]) -> None:
    """Take the edit locks of facility types (sorted, as every transaction takes them), held to commit."""
    for code in sorted(types):
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('facility-type:' || :t, 0))"), {"t": code}
        )


async def placement_problems(
    conn: AsyncConnection, candidates: list[tuple[int, str, str, Point, int]], caller: Caller | None = None
) -> list[dict[str, Any]]:
    """The problems of facilities about to be placed, by index: (index, type, name, point, id it replaces or 0).

    ``outside``: in no loaded district; ``district``: in another district than the one a limited ``caller`` acts
    in; ``duplicate``: an active facility (``facility_id``) or an earlier one of the same
    candidates (``duplicate_of``) of the same type and name within 10 m."""
    if not candidates:
        return []
    rows = await conn.execute(
        text(_PLACEMENT),
        {
            "i": [c[0] for c in candidates],
            "t": [c[1] for c in candidates],
            "n": [c[2] for c in candidates],
            "x": [c[3].x for c in candidates],
            "y": [c[3].y for c in candidates],
            "self": [c[4] for c in candidates],
        },
    )
    names = {c[0]: c[2] for c in candidates}
    problems: list[dict[str, Any]] = []
    for i, district, existing, earlier in rows.all():
        if district is None:
            problems.append(
                {
                    "index": i,
                    "rule": "outside",
                    "message": t(
                        "{name!r} lies outside every loaded district (is the crs right?)", name=names[i]
                    ),
                }
            )
        elif caller is not None and acts_outside(caller, district):
            problems.append(
                {
                    "index": i,
                    "rule": "district",
                    "message": t(
                        "{name!r} lies in district {code}, outside district {district} where you act",
                        name=names[i],
                        code=district,
                        district=caller.district,
                    ),
                }
            )
        if existing is not None:
            problems.append(
                {
                    "index": i,
                    "rule": "duplicate",
                    "facility_id": int(existing),
                    "message": t(
                        "{name!r} is already facility {facility_id}, within {limit:.0f} m",
                        name=names[i],
                        facility_id=existing,
                        limit=DUPLICATE_WITHIN_M,
                    ),
                }
            )
        if earlier is not None:
            problems.append(
                {
                    "index": i,
                    "rule": "duplicate",
                    "duplicate_of": int(earlier),
                    "message": t(
                        "{name!r} repeats feature {index}, within {limit:.0f} m",
                        name=names[i],
                        index=earlier,
                        limit=DUPLICATE_WITHIN_M,
                    ),
                }
            )
    return problems


async def _check_placement(
    conn: AsyncConnection, ftype: str, name: str, point: Point, self_id: int = 0
) -> None:
    """409 naming the facility a single edit would duplicate; 422 when it would lie outside every district."""
    problems = await placement_problems(conn, [(0, ftype, name, point, self_id)])
    duplicate = next((p for p in problems if p["rule"] == "duplicate"), None)
    if duplicate is not None:
        message = duplicate["message"]
        raise Conflict(message, conflicting_ids=[duplicate["facility_id"]])
    if problems:
        message = problems[0]["message"]
        raise FeatureErrors(message, [{k: v for k, v in p.items() if k != "index"} for p in problems])


async def _district_at(conn: AsyncConnection, point: Point) -> str | None:
    """The district a point lies in (None: in none)."""
    stmt = text(compose("SELECT {code}", code=containing_code_sql("district", ":g"))).bindparams(
        bindparam("g", type_=Geometry(srid=4326))
    )
    code: str | None = (await conn.execute(stmt, {"g": from_shape(point, srid=4326)})).scalar()
    return code


async def _require_district(conn: AsyncConnection, caller: Caller, facility_id: int) -> None:
    """403 when a caller limited to a district would change a facility standing in another."""
    if caller.district is None:
        return
    found = await conn.execute(
        text("SELECT district_code FROM facilities WHERE id = :id"), {"id": facility_id}
    )
    code = found.scalar()
    if acts_outside(caller, code):
        raise Forbidden(
            t(
                "{caller!r} acts in district {district} only: facility {facility_id} stands in district {code}",
                caller=caller.name,
                district=caller.district,
                facility_id=facility_id,
                code=code,
            )
        )


def _stale(facility_id: int, current: int, seen: int) -> StaleVersion:
    return StaleVersion(
        t(
            "facility {facility_id} is at version {current}, not {seen}: reload it",
            facility_id=facility_id,
            current=current,
            seen=seen,
        ),
        current_version=current,
    )


async def _snapshot(conn: AsyncConnection, facility_id: int, lock: bool = False) -> dict[str, Any]:
    row = (await conn.execute(text(_SNAPSHOT + (" FOR UPDATE" if lock else "")), {"id": facility_id})).first()
    if row is None:
        raise NotFound(t("no facility {facility_id}", facility_id=facility_id))
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
        "closed_on",
        "closed_reason",
        "geometry",
    )
    snap = dict(zip(keys, row, strict=True))
    snap["geometry"] = orjson.loads(snap["geometry"])
    snap["closed_on"] = snap["closed_on"] and snap["closed_on"].isoformat()
    return snap


async def _feature(conn: AsyncConnection, facility_type: str, facility_id: int, crs: str) -> dict[str, Any]:
    info = await facility_types.get_type(conn, facility_type)
    coll = await collections.get_collection(conn, info.collection)
    assert coll is not None
    return await features_query.one(conn, coll, str(facility_id), crs)


async def get(
    conn: AsyncConnection, facility_id: int, crs: str, caller: Caller | None = None
) -> dict[str, Any]:
    """One facility as a feature of its type's collection, whatever its status; staff (a caller) also read why
    a closed one closed."""
    row = (
        await conn.execute(
            text("SELECT type, closed_reason FROM facilities WHERE id = :id"), {"id": facility_id}
        )
    ).first()
    if row is None:
        raise NotFound(t("no facility {facility_id}", facility_id=facility_id))
    feature = await _feature(conn, row[0], facility_id, crs)
    if caller is not None:
        feature = geojson.parsed(feature)
        feature["properties"]["closed_reason"] = row[1]
    return feature


async def create(
    conn: AsyncConnection, caller: Caller, props: dict[str, Any], geometry: dict[str, Any], crs: str
) -> dict[str, Any]:
    """A new active facility; its divisions come from its position. 422 outside every district, 409 when it
    is an active facility of the same type and name within 10 m, 403 in another district than a limited
    caller's."""
    await facility_types.get_type(conn, props["type"])
    point = _point(geometry, crs)
    if caller.district is not None and acts_outside(caller, code := await _district_at(conn, point)):
        raise Forbidden(
            t(
                "{caller!r} acts in district {district} only: the facility would stand in district {code}",
                caller=caller.name,
                district=caller.district,
                code=code,
            )
        )
    await lock_types(conn, {props["type"]})
    await _check_placement(conn, props["type"], props["name"].strip(), point)
    stmt = text(
        "INSERT INTO facilities (type, name, address, phone, opening_hours, capacity, status, attributes, "
        "geometry_source, geom) VALUES (:type, :name, :address, :phone, :opening_hours, :capacity, 'active', "
        "CAST(:attributes AS jsonb), 'surveyed', :geom) RETURNING id"
    ).bindparams(bindparam("geom", type_=Geometry(srid=4326)))
    values = {k: props.get(k) for k in ("type", "name", "address", "phone", "opening_hours", "capacity")}
    values["name"] = props["name"].strip()
    fid = int(
        (
            await conn.execute(
                stmt,
                {
                    **values,
                    "attributes": orjson.dumps(props.get("attributes") or {}).decode(),
                    "geom": from_shape(point, srid=4326),
                },
            )
        ).scalar_one()
    )
    await assign_facility_divisions(conn, [fid])
    await audit.record(
        conn, caller.name, "create", "facility", str(fid), None, {**values, "geometry": geometry}
    )
    return await _feature(conn, props["type"], fid, crs)


async def update(
    conn: AsyncConnection, caller: Caller, facility_id: int, version: int, changes: dict[str, Any], crs: str
) -> dict[str, Any]:
    """Apply changes made on ``version``; 412 when someone else changed the facility since. The placement rules
    hold for its new name or position as for a new facility; reopening it clears its closure. A caller limited
    to a district edits only its facilities, and moves them only within it (403)."""
    before = await _snapshot(conn, facility_id, lock=True)
    await _require_district(conn, caller, facility_id)
    if before["version"] != version:
        raise _stale(facility_id, before["version"], version)
    sets = [compose("{c} = :{k}", c=ident(k), k=Sql(k)) for k in _EDITABLE if changes.get(k) is not None]
    params: dict[str, Any] = {k: changes[k] for k in _EDITABLE if changes.get(k) is not None}
    if changes.get("attributes") is not None:
        sets.append(Sql("attributes = CAST(:attributes AS jsonb)"))
        params["attributes"] = orjson.dumps(changes["attributes"]).decode()
    if changes.get("name") is not None:
        params["name"] = changes["name"].strip()
    stmt_geom = changes.get("geometry") is not None
    point = _point(changes["geometry"], crs) if stmt_geom else shapely.geometry.shape(before["geometry"])
    if stmt_geom and caller.district and acts_outside(caller, code := await _district_at(conn, point)):
        raise Forbidden(
            t(
                "{caller!r} acts in district {district} only: the new position lies in district {code}",
                caller=caller.name,
                district=caller.district,
                code=code,
            )
        )
    if stmt_geom:
        sets.append(Sql("geom = :geom"))
        params["geom"] = from_shape(point, srid=4326)
    if not sets:
        raise InvalidInput(t("nothing to change: give at least one field"))
    status = params.get("status", before["status"])
    if status == "active" and (stmt_geom or "name" in params or before["status"] != "active"):
        await lock_types(conn, {before["type"]})
        await _check_placement(conn, before["type"], params.get("name", before["name"]), point, facility_id)
    if status != before["status"]:  # closed by a PATCH: today; reopened: no closure any more
        sets.append(
            Sql(
                "closed_on = CASE WHEN CAST(:status AS varchar) = 'closed' THEN current_date END, "
                "closed_reason = NULL"
            )
        )
    stmt = text(
        compose(
            "UPDATE facilities SET {sets}, version = version + 1, updated_at = now() WHERE id = :id",
            sets=join(", ", sets),
        )
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
    conn: AsyncConnection,
    caller: Caller,
    facility_id: int,
    version: int | None,
    reason: str | None = None,
    closed_on: dt.date | None = None,
) -> dict[str, Any]:
    """Mark a facility closed on a date (today by default), for a reason: it leaves nearest and coverage at
    once, its record stays. 409 when it is closed already; 403 in another district than a limited caller's."""
    before = await _snapshot(conn, facility_id, lock=True)
    await _require_district(conn, caller, facility_id)
    if version is not None and before["version"] != version:
        raise _stale(facility_id, before["version"], version)
    if before["status"] == "closed":
        if before["closed_on"]:
            raise Conflict(
                t(
                    "facility {facility_id} is closed already (since {since})",
                    facility_id=facility_id,
                    since=before["closed_on"],
                )
            )
        raise Conflict(t("facility {facility_id} is closed already (since unknown)", facility_id=facility_id))
    closed_on = closed_on or dt.date.today()
    if closed_on > dt.date.today():
        raise InvalidInput(
            t(
                "closed_on ({closed_on}) lies in the future: close a facility once it has",
                closed_on=closed_on.isoformat(),
            )
        )
    await conn.execute(
        text(
            "UPDATE facilities SET status = 'closed', closed_on = :on, closed_reason = :why, version = version + 1, "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": facility_id, "on": closed_on, "why": reason},
    )
    after = {"status": "closed", "closed_on": closed_on.isoformat(), "closed_reason": reason}
    await audit.record(conn, caller.name, "close", "facility", str(facility_id), before, after)
    return {"id": facility_id, **after, "version": before["version"] + 1}
