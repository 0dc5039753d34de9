"""Place-name signs (地名标志): each shows an approved name and its romanisation; renames flag them for replacement."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.domain.errors import Conflict, FeatureErrors, InvalidInput, NotFound
from geo_service.domain.geometry_input import parse_geometry
from geo_service.services import collections, features_query
from geo_service.services.keys import Caller


def _same_romanisation(shown: str, standard: str) -> bool:
    """Signs may print the romanisation in capitals; spacing and apostrophes must otherwise agree."""
    return " ".join(shown.split()).casefold() == standard.casefold()


async def register(
    conn: AsyncConnection, caller: Caller, place_name_id: int, position: dict[str, Any], installed_on: dt.date,
    sign_text: str, pinyin: str, crs: str,
) -> dict[str, Any]:  # fmt: skip
    """Register a sign; 422 when its text or romanisation differs from the approved name."""
    name = (await conn.execute(text("SELECT name, pinyin, status FROM place_names WHERE id = :id"),
                               {"id": place_name_id})).first()  # fmt: skip
    if name is None:
        raise NotFound(f"no place name {place_name_id}")
    if name[2] != "approved":
        raise Conflict(f"place name {place_name_id} is {name[2]}: only approved names get signs")
    errors = []
    if sign_text.strip() != name[0]:
        errors.append(
            {
                "rule": "sign_text",
                "message": f"the sign reads {sign_text!r}; the approved name is {name[0]!r}",
            }
        )
    if not _same_romanisation(pinyin, name[1]):
        errors.append(
            {"rule": "sign_pinyin", "message": f"the sign's romanisation {pinyin!r} should be {name[1]!r}"}
        )
    if errors:
        raise FeatureErrors("the sign does not match the approved name", errors)
    if installed_on > dt.date.today():
        raise InvalidInput("installed_on lies in the future")
    geom = parse_geometry(position, crs)
    if not isinstance(geom, Point):
        raise InvalidInput(f"position must be a GeoJSON Point, not a {geom.geom_type}")
    sign_id = (
        await conn.execute(
            text("INSERT INTO place_name_signs (place_name_id, text, pinyin, installed_on, status, geom) "
                 "VALUES (:p, :t, :py, :d, 'intact', :g) RETURNING id").bindparams(bindparam("g", type_=Geometry(srid=4326))),
            {"p": place_name_id, "t": sign_text.strip(), "py": pinyin, "d": installed_on, "g": from_shape(geom, 4326)},
        )
    ).scalar_one()  # fmt: skip
    await audit.record(conn, caller.name, "create", "place_name_sign", str(sign_id), None,
                       {"place_name_id": place_name_id, "text": sign_text})  # fmt: skip
    return await features_query.one(conn, collections.STATIC["place-name-signs"], str(sign_id), crs)


async def get(conn: AsyncConnection, sign_id: int, crs: str) -> dict[str, Any]:
    """One sign as a feature, with its version."""
    try:
        return await features_query.one(conn, collections.STATIC["place-name-signs"], str(sign_id), crs)
    except NotFound:
        raise NotFound(f"no place-name sign {sign_id}") from None


async def listing(conn: AsyncConnection, to_replace: bool | None, crs: str) -> dict[str, Any]:
    """Signs, optionally only those still showing a name that has since been renamed."""
    filters = {} if to_replace is None else {"to_replace": "true" if to_replace else "false"}
    page = await features_query.page(
        conn, collections.STATIC["place-name-signs"], crs, 10_000, filters=filters
    )
    return {"type": "FeatureCollection", "features": page.features, "numberReturned": len(page.features)}
