"""Inspections of boundary markers (界桩联检) and place-name signs: every one kept; status = the latest one's.

A marker found more than 1 km from where it stands is far more often a position in the wrong CRS than a marker
carried off: a ``moved`` report that far needs ``confirm_far_move``. A joint inspection names its inspectors with
the side (district) each came from: one of the line's two. A caller limited to a district inspects the markers
of lines its district is a side of (either side may, alone or jointly) and the signs standing in it. Notes,
positions, inspectors and photos are for staff; the public reads dates and statuses.
"""

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
from geo_service.db.sql import Sql, compose, ident
from geo_service.domain.errors import Conflict, FeatureErrors, Forbidden, InvalidInput, NotFound
from geo_service.domain.geometry_input import geometry_word, parse_geometry
from geo_service.i18n import t
from geo_service.services import attachments
from geo_service.services.district_limits import acts_outside, district_of
from geo_service.services.keys import Caller
from geo_service.services.signs import require_sign_district

#: kind → (target table, inspections table, foreign key, attachment link target)
TARGETS: dict[str, tuple[str, str, str, attachments.Target]] = {
    "marker": ("boundary_markers", "marker_inspections", "marker_id", "marker_inspection"),
    "sign": ("place_name_signs", "sign_inspections", "sign_id", "sign_inspection"),
}
#: A marker reported moved farther than this (geodesic metres) needs the surveyor's confirmation.
FAR_MOVE_M = 1000.0
#: Where the target's installation date is in its row (``_TARGET_SQL``).
_INSTALLED = {"marker": 5, "sign": 6}
# What the inspection's target is, locked for the write: the marker's line sides, the sign's retirement.
_TARGET_SQL = {
    "marker": "SELECT t.status, t.last_inspected_on, l.left_code, l.right_code, {distance}, t.installed_on "
    "FROM boundary_markers t JOIN boundary_lines l ON l.code = t.line_code WHERE t.id = :id FOR UPDATE OF t",
    "sign": "SELECT t.status, t.last_inspected_on, t.retired_on, t.retired_reason, {distance}, t.district_code, "
    "t.installed_on FROM place_name_signs t WHERE t.id = :id FOR UPDATE",
}
_DISTANCE = Sql("ST_Distance(t.geom::geography, CAST(:pos AS geography))")
# A joint inspection (markers only) also stores its inspectors.
_JOINT_COLUMN = {"marker": Sql(", inspectors"), "sign": Sql("")}
_JOINT_VALUE = {"marker": Sql(", CAST(:inspectors AS jsonb)"), "sign": Sql("")}
_JOINT_READ = {"marker": Sql("inspectors"), "sign": Sql("NULL")}


def _position(position: dict[str, Any] | None, crs: str) -> Any:
    if position is None:
        return None
    geom = parse_geometry(position, crs)
    if not isinstance(geom, Point):
        raise InvalidInput(
            t("position must be a GeoJSON Point, not a {kind}", kind=geometry_word(geom.geom_type))
        )
    return from_shape(geom, srid=4326)


def _check_marker(
    target_id: int, row: Any, status: str, inspectors: list[dict[str, str]] | None, confirm_far_move: bool
) -> list[dict[str, Any]]:
    """The problems of a marker inspection: a far move unconfirmed, inspectors from a side not on the line."""
    problems: list[dict[str, Any]] = []
    distance = row[4]
    if status == "moved" and distance is not None and distance > FAR_MOVE_M and not confirm_far_move:
        problems.append(
            {
                "rule": "far_move",
                "message": t(
                    "the position is {distance:,.0f} m from boundary marker {marker_id}: a move over "
                    '{limit:,.0f} m needs "confirm_far_move": true (check the crs first)',
                    distance=distance,
                    marker_id=target_id,
                    limit=FAR_MOVE_M,
                ),
            }
        )
    sides = (row[2], row[3])
    for i, person in enumerate(inspectors or []):
        if person["side"] not in sides:
            problems.append(
                {
                    "rule": "inspector_side",
                    "index": i,
                    "message": t(
                        "inspector {name!r} is from {side}: the line's sides are {left} and {right}",
                        name=person["name"],
                        side=person["side"],
                        left=sides[0],
                        right=sides[1],
                    ),
                }
            )
    return problems


def _date_problems(
    kind: str,
    status: str,
    inspected_on: dt.date,
    installed_on: dt.date | None,
    position: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """The problems of what was reported: a date in the future or before the installation, a marker reported
    moved without the position it was found at."""
    problems: list[dict[str, Any]] = []
    if inspected_on > dt.date.today():
        problems.append({"rule": "inspected_on", "message": t("inspected_on lies in the future")})
    elif installed_on is not None and inspected_on < installed_on:
        message = t(
            "inspected_on {on} is before the installation on {installed}",
            on=inspected_on.isoformat(),
            installed=installed_on.isoformat(),
        )
        problems.append({"rule": "inspected_on", "message": message})
    if kind == "marker" and status == "moved" and position is None:
        message = t("a marker reported moved needs the position where it was found (position)")
        problems.append({"rule": "position", "message": message})
    return problems


def _not_recorded(kind: str, target_id: int) -> str:
    if kind == "marker":
        return t("the inspection of boundary marker {marker_id} was not recorded", marker_id=target_id)
    return t("the inspection of sign {sign_id} was not recorded", sign_id=target_id)


def _not_found(kind: str, target_id: int) -> NotFound:
    if kind == "marker":
        return NotFound(t("no marker {marker_id}", marker_id=target_id))
    return NotFound(t("no sign {sign_id}", sign_id=target_id))


def _require_marker_side(caller: Caller, marker_id: int, left: str, right: str) -> None:
    """403 unless a caller limited to a district is from one of the marker's two sides (either side may
    inspect, alone or jointly)."""
    if acts_outside(caller, left, right):
        raise Forbidden(
            t(
                "{caller!r} acts in district {district} only: boundary marker {marker_id} lies between "
                "districts {left} and {right}",
                caller=caller.name,
                district=caller.district,
                marker_id=marker_id,
                left=district_of(left),
                right=district_of(right),
            )
        )


async def _locked_target(conn: AsyncConnection, caller: Caller, kind: str, target_id: int, pos: Any) -> Any:
    """The target row (see ``_TARGET_SQL``), locked; 404, 403 outside a limited caller's district, 409 for a
    retired sign."""
    sql = compose(_TARGET_SQL[kind], distance=_DISTANCE if pos is not None else Sql("NULL"))
    stmt = text(sql).bindparams(bindparam("pos", type_=Geometry(srid=4326))) if pos is not None else text(sql)
    before = (await conn.execute(stmt, {"id": target_id, "pos": pos})).first()
    if before is None:
        raise _not_found(kind, target_id)
    if kind == "sign":
        require_sign_district(caller, target_id, before[5])
    else:
        _require_marker_side(caller, target_id, before[2], before[3])
    if kind == "sign" and before[2] is not None:
        raise Conflict(
            t(
                "sign {sign_id} was retired ({reason}) on {on}: it takes no inspections",
                sign_id=target_id,
                reason=before[3],
                on=before[2].isoformat(),
            )
        )
    return before


async def _insert(
    conn: AsyncConnection,
    kind: str,
    target_id: int,
    values: dict[str, Any],
    inspectors: list[dict[str, str]] | None,
) -> int:
    """Store one inspection of the target (``values``: status, date, note, inspector, position); its id."""
    _, log, fk, _ = TARGETS[kind]
    insert = text(
        compose(
            "INSERT INTO {log} ({fk}, status, inspected_on, note, inspector, position{joint}) "
            "VALUES (:t, :s, :d, :n, :who, :pos{joint_value}) RETURNING id",
            log=ident(log),
            fk=ident(fk),
            joint=_JOINT_COLUMN[kind],
            joint_value=_JOINT_VALUE[kind],
        )
    ).bindparams(bindparam("pos", type_=Geometry(srid=4326)))
    joint = orjson.dumps(inspectors).decode() if inspectors else None
    return int((await conn.execute(insert, {"t": target_id, "inspectors": joint, **values})).scalar_one())


async def _follow_latest(conn: AsyncConnection, kind: str, target_id: int) -> Any:
    """Set the target's status and last inspection date from its latest inspection: (status, date, version)."""
    table, log, fk, _ = TARGETS[kind]
    statement = compose(
        "UPDATE {table} SET (status, last_inspected_on) = (SELECT status, inspected_on FROM {log} "
        "WHERE {fk} = :t ORDER BY inspected_on DESC, id DESC LIMIT 1), version = version + 1 "
        "WHERE id = :t RETURNING status, last_inspected_on, version",
        table=ident(table),
        log=ident(log),
        fk=ident(fk),
    )
    return (await conn.execute(text(statement), {"t": target_id})).one()


async def record(
    conn: AsyncConnection,
    caller: Caller,
    kind: str,
    target_id: int,
    status: str,
    inspected_on: dt.date,
    note: str | None,
    position: dict[str, Any] | None,
    crs: str,
    *,
    inspectors: list[dict[str, str]] | None = None,
    confirm_far_move: bool = False,
    attachment_ids: list[int] | None = None,
) -> dict[str, Any]:
    """Add an inspection; the target's status and last inspection date follow its latest inspection. 403 for a
    caller limited to a district: a sign of another district, a marker of a line that district is not a side of."""
    if inspectors and kind != "marker":
        raise InvalidInput(t("inspectors (a joint inspection's sides) are for boundary markers"))
    pos = _position(position, crs)
    before = await _locked_target(conn, caller, kind, target_id, pos)
    problems = _date_problems(kind, status, inspected_on, before[_INSTALLED[kind]], position)
    if kind == "marker":
        problems += _check_marker(target_id, before, status, inspectors, confirm_far_move)
    if problems:
        detail = _not_recorded(kind, target_id)
        raise FeatureErrors(detail, problems)
    joint = {"inspectors": inspectors or []} if kind == "marker" else {}
    values = {"s": status, "d": inspected_on, "n": note, "who": caller.name, "pos": pos}
    new_id = await _insert(conn, kind, target_id, values, inspectors)
    linked = await attachments.link(conn, TARGETS[kind][3], new_id, attachment_ids)
    latest = await _follow_latest(conn, kind, target_id)
    was = {"status": before[0], "last_inspected_on": str(before[1]) if before[1] else None}
    now = {"status": latest[0], "inspection": new_id, "attachment_ids": linked, **joint}
    if confirm_far_move:
        now["confirm_far_move"] = True
    await audit.record(conn, caller.name, "inspect", kind, str(target_id), was, now)
    return {
        "id": new_id,
        kind + "_id": target_id,
        "status": status,
        "inspected_on": inspected_on.isoformat(),
        "note": note,
        "inspector": caller.name,
        "attachment_ids": linked,
        **joint,
        kind: {"status": latest[0], "last_inspected_on": latest[1].isoformat(), "version": latest[2]},
    }


async def history(
    conn: AsyncConnection, kind: str, target_id: int, caller: Caller | None = None
) -> list[dict[str, Any]]:
    """Every inspection of a marker or sign, oldest first: date and status for the public; notes, inspectors,
    position and photos for staff (a caller)."""
    table, log, fk, link_target = TARGETS[kind]
    exists = compose("SELECT 1 FROM {table} WHERE id = :id", table=ident(table))
    if (await conn.execute(text(exists), {"id": target_id})).first() is None:
        raise _not_found(kind, target_id)
    query = compose(
        "SELECT id, status, inspected_on, note, inspector, ST_AsGeoJSON(position, 7), {inspectors} FROM {log} "
        "WHERE {fk} = :id ORDER BY inspected_on, id",
        inspectors=_JOINT_READ[kind],
        log=ident(log),
        fk=ident(fk),
    )
    rows = await conn.execute(text(query), {"id": target_id})
    found = rows.all()
    if caller is None:
        return [{"id": r[0], "status": r[1], "inspected_on": r[2].isoformat()} for r in found]
    photos = await attachments.linked(conn, link_target, [int(r[0]) for r in found])
    return [
        {
            "id": r[0],
            "status": r[1],
            "inspected_on": r[2].isoformat(),
            "note": r[3],
            "inspector": r[4],
            "position": orjson.loads(r[5]) if r[5] else None,
            "attachment_ids": photos[int(r[0])],
            **({"inspectors": r[6] or []} if kind == "marker" else {}),
        }
        for r in found
    ]
