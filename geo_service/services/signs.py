"""Place-name signs (地名标志): each shows an approved name and its romanisation near the place it names.

A sign is to replace while it stands and shows a name its place no longer has (``collections.SIGN_TO_REPLACE``,
derived from the register, so a rename flags it and retiring it clears it). Work orders list those per district,
longest waiting first, as JSON or a CSV for the crews. A caller limited to a district (``district_limits``)
registers signs only for its places and standing in it, and retires and inspects only the signs standing in it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.db.sql import compose
from geo_service.domain.errors import Conflict, FeatureErrors, Forbidden, InvalidInput, NotFound
from geo_service.domain.geometry_input import geometry_word, parse_geometry
from geo_service.domain.words import status_word
from geo_service.i18n import t
from geo_service.services import attachments, collections, exports, features_query, geojson
from geo_service.services.district_limits import acts_outside
from geo_service.services.keys import Caller
from geo_service.services.locate import containing_code_sql

#: A sign stands by the place it names: farther than this (geodesic metres) from the place's geometry is a mistake
#: (the wrong place, or coordinates in another CRS).
MAX_DISTANCE_M = 500.0
#: Columns of a work-order download → their headers (Chinese, with the key for other tools).
WORK_ORDER_HEADERS = {
    "sign_id": "标志编号 sign_id",
    "district_code": "区划代码 district_code",
    "district_name": "区 district",
    "current_name": "现名称 current_name",
    "current_pinyin": "现罗马字母拼写 current_pinyin",
    "text": "标志所示名称 text",
    "pinyin": "标志所示拼写 pinyin",
    "renamed_on": "更名日期 renamed_on",
    "days_since_rename": "距更名天数 days_since_rename",
    "lon": "经度 lon",
    "lat": "纬度 lat",
    "status": "状态 status",
    "installed_on": "设立日期 installed_on",
}

_PLACE = compose(
    "SELECT p.name, p.pinyin, p.status, ST_Distance(p.geom::geography, CAST(:g AS geography)), p.district_code, "
    "{district} FROM place_names p WHERE p.id = :id",
    district=containing_code_sql("district", ":g"),
)

_INSERT_SIGN = text(
    compose(
        "INSERT INTO place_name_signs (place_name_id, text, pinyin, installed_on, status, geom, district_code) "
        "VALUES (:p, :t, :py, :d, 'intact', :g, {district}) RETURNING id",
        district=containing_code_sql("district", ":g"),
    )
).bindparams(bindparam("g", type_=Geometry(srid=4326)))


def _same_romanisation(shown: str, standard: str) -> bool:
    """Signs may print the romanisation in capitals; spacing and apostrophes must otherwise agree."""
    return " ".join(shown.split()).casefold() == standard.casefold()


def _position(position: dict[str, Any], crs: str) -> Point:
    geom = parse_geometry(position, crs)
    if not isinstance(geom, Point):
        raise InvalidInput(
            t("position must be a GeoJSON Point, not a {kind}", kind=geometry_word(geom.geom_type))
        )
    return geom


async def register(
    conn: AsyncConnection,
    caller: Caller,
    place_name_id: int,
    position: dict[str, Any],
    installed_on: dt.date,
    sign_text: str,
    pinyin: str,
    crs: str,
    attachment_ids: list[int] | None = None,
) -> dict[str, Any]:
    """Register a sign; 422 when its text or romanisation differs from the approved name, or when it stands
    more than 500 m from the place; 403 for a caller limited to another district than the place's or the sign's."""
    if installed_on > dt.date.today():
        raise InvalidInput(t("installed_on lies in the future"))
    geom = from_shape(_position(position, crs), 4326)
    stmt = text(_PLACE).bindparams(bindparam("g", type_=Geometry(srid=4326)))
    name = (await conn.execute(stmt, {"id": place_name_id, "g": geom})).first()
    if name is None:
        raise NotFound(t("no place name {number}", number=place_name_id))
    if name[2] != "approved":
        raise Conflict(
            t(
                "place name {place_id} is {status}: only approved names get signs",
                place_id=place_name_id,
                status=status_word(name[2]),
            )
        )
    if acts_outside(caller, name[4]):
        raise Forbidden(
            t(
                "{caller!r} acts in district {district} only: the sign's place, place name {place_id}, "
                "lies in district {code}",
                caller=caller.name,
                district=caller.district,
                place_id=place_name_id,
                code=name[4],
            )
        )
    errors = []
    if sign_text.strip() != name[0]:
        errors.append(
            {
                "rule": "sign_text",
                "message": t(
                    "the sign reads {shown!r}; the approved name is {name!r}", shown=sign_text, name=name[0]
                ),
            }
        )
    if not _same_romanisation(pinyin, name[1]):
        errors.append(
            {
                "rule": "sign_pinyin",
                "message": t(
                    "the sign's romanisation {shown!r} should be {pinyin!r}", shown=pinyin, pinyin=name[1]
                ),
            }
        )
    if name[3] > MAX_DISTANCE_M:
        errors.append(
            {
                "rule": "sign_distance",
                "message": t(
                    "the sign stands {distance:,.0f} m from {name!r}: at most {limit:,.0f} m "
                    "(is the position in the declared crs, {crs}?)",
                    distance=name[3],
                    name=name[0],
                    limit=MAX_DISTANCE_M,
                    crs=crs,
                ),
            }
        )
    if errors:
        # The detail sums up what the errors say: one problem is told as it is (a sign 520 m away may read right).
        summary = (
            errors[0]["message"]
            if len(errors) == 1
            else t("the sign has {count} problems", count=len(errors))
        )
        raise FeatureErrors(summary, errors)
    if acts_outside(caller, name[5]):
        raise Forbidden(
            t(
                "{caller!r} acts in district {district} only: the sign would stand in district {code}",
                caller=caller.name,
                district=caller.district,
                code=name[5],
            )
        )
    values = {"p": place_name_id, "t": sign_text.strip(), "py": pinyin, "d": installed_on, "g": geom}
    sign_id = (await conn.execute(_INSERT_SIGN, values)).scalar_one()
    linked = await attachments.link(conn, "sign", sign_id, attachment_ids)
    await audit.record(
        conn,
        caller.name,
        "create",
        "place_name_sign",
        str(sign_id),
        None,
        {"place_name_id": place_name_id, "text": sign_text, "attachment_ids": linked},
    )
    return await get(conn, sign_id, crs)


async def get(conn: AsyncConnection, sign_id: int, crs: str, caller: Caller | None = None) -> dict[str, Any]:
    """One sign as a feature, with its version; staff (a caller) also see its attachments."""
    try:
        feature = await features_query.one(conn, collections.STATIC["place-name-signs"], str(sign_id), crs)
    except NotFound:
        raise NotFound(t("no place-name sign {sign_id}", sign_id=sign_id)) from None
    if caller is not None:
        feature = geojson.parsed(feature)
        feature["properties"]["attachment_ids"] = (await attachments.linked(conn, "sign", [sign_id]))[sign_id]
    return feature


def require_sign_district(caller: Caller, sign_id: int, district_code: str | None) -> None:
    """403 when a caller limited to one district would retire or inspect a sign standing in another."""
    if acts_outside(caller, district_code):
        raise Forbidden(
            t(
                "{caller!r} acts in district {district} only: place-name sign {sign_id} stands in district {code}",
                caller=caller.name,
                district=caller.district,
                sign_id=sign_id,
                code=district_code,
            )
        )


async def retire(
    conn: AsyncConnection, caller: Caller, sign_id: int, reason: str, on: dt.date, crs: str
) -> dict[str, Any]:
    """Take a sign down (``replaced`` by a new one, or ``removed``): it leaves the signs to replace and takes no
    inspections; its record stays. Call with the sign locked (If-Match checked). 403 for a caller limited to
    another district than the sign's."""
    row = (
        await conn.execute(
            text(
                "SELECT retired_on, retired_reason, installed_on, version, district_code FROM place_name_signs "
                "WHERE id = :id"
            ),
            {"id": sign_id},
        )
    ).first()
    if row is None:
        raise NotFound(t("no place-name sign {sign_id}", sign_id=sign_id))
    require_sign_district(caller, sign_id, row[4])
    if row[0] is not None:
        raise Conflict(
            t(
                "place-name sign {sign_id} was already retired ({reason}) on {on}",
                sign_id=sign_id,
                reason=row[1],
                on=row[0].isoformat(),
            )
        )
    if on > dt.date.today():
        raise InvalidInput(
            t("on ({on}) lies in the future: retire a sign once it is down", on=on.isoformat())
        )
    if row[2] is not None and on < row[2]:
        raise InvalidInput(
            t(
                "on ({on}) is before the sign was installed ({installed})",
                on=on.isoformat(),
                installed=row[2].isoformat(),
            )
        )
    await conn.execute(
        text(
            "UPDATE place_name_signs SET retired_on = :on, retired_reason = :r, version = version + 1 "
            "WHERE id = :id"
        ),
        {"on": on, "r": reason, "id": sign_id},
    )
    await audit.record(
        conn,
        caller.name,
        "retire",
        "place_name_sign",
        str(sign_id),
        {"version": row[3]},
        {"retired_on": on.isoformat(), "retired_reason": reason},
    )
    return await get(conn, sign_id, crs, caller)


async def listing(
    conn: AsyncConnection, to_replace: bool | None, district: str | None, crs: str
) -> dict[str, Any]:
    """Signs (of a district: where they stand), optionally only those to replace; those longest waiting for a
    new sign first (then by district and id) when only those are asked for."""
    filters = {} if to_replace is None else {"to_replace": "true" if to_replace else "false"}
    if district:
        filters["district_code"] = district
    page = await features_query.page(
        conn, collections.STATIC["place-name-signs"], crs, 10_000, filters=filters
    )
    features = page.features
    if to_replace:
        features = [geojson.parsed(f) for f in features]
        features.sort(
            key=lambda f: (
                -(f["properties"]["days_since_rename"] or 0),
                f["properties"]["district_code"] or "",
                f["id"],
            )
        )
    return {"type": "FeatureCollection", "features": features, "numberReturned": len(features)}


async def work_order_csv(conn: AsyncConnection, collection: dict[str, Any]) -> bytes:
    """The signs of a listing as a work-order table for a spreadsheet (formula-safe)."""
    found = await conn.execute(text("SELECT code, name FROM divisions WHERE level = 'district'"))
    names: dict[str, str] = {code: name for code, name in found.all()}
    rows = []
    for f in map(geojson.parsed, collection["features"]):
        props, (lon, lat) = f["properties"], f["geometry"]["coordinates"]
        rows.append(
            {
                **props,
                "sign_id": f["id"],
                "district_name": names.get(props["district_code"]),
                "lon": lon,
                "lat": lat,
            }
        )
    frame = pd.DataFrame(rows, columns=list(WORK_ORDER_HEADERS)).rename(columns=WORK_ORDER_HEADERS)
    return exports.csv_table(frame)
