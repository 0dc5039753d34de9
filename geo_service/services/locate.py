"""Which divisions contain a point.

A point on a shared border is covered by both neighbours; the answer is the division with the lowest
code. Codes nest (a village code starts with its township's), so the rule gives one consistent chain
district > township > village.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw
from geo_service.db.sql import Sql, code_literal, compose
from geo_service.domain.errors import NotFound
from geo_service.i18n import t

#: SQL for the code of the division of a level covering the geometry expression ``{point}``.
CONTAINING_CODE = Sql(
    "(SELECT d.code FROM divisions d WHERE d.level = {level} AND ST_Covers(d.geom, {point}) "
    "ORDER BY d.code LIMIT 1)"
)


def containing_code_sql(level: str, point: str) -> Sql:
    """SQL expression for the code of the division of ``level`` that covers ``point`` (SQL written in the code)."""
    return compose(CONTAINING_CODE, level=code_literal(level), point=Sql(point))


async def assign_facility_divisions(conn: AsyncConnection, ids: list[int] | None = None) -> None:
    """Set the district/township/village codes of facilities (all, or those with the given ids)."""
    where = Sql("WHERE f.id = ANY(:ids)" if ids is not None else "")
    await conn.execute(
        text(
            compose(
                "UPDATE facilities f SET district_code = {district}, township_code = {township}, "
                "village_code = {village} {where}",
                district=containing_code_sql("district", "f.geom"),
                township=containing_code_sql("township", "f.geom"),
                village=containing_code_sql("village", "f.geom"),
                where=where,
            )
        ),
        {"ids": ids} if ids is not None else {},
    )


_LOCATE_SQL = (
    "SELECT d.level, d.code, d.name FROM (VALUES ('district'), ('township'), ('village')) AS l(level), "
    "LATERAL (SELECT code, name, level FROM divisions WHERE level = l.level "
    "AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code LIMIT 1) d"
)


async def locate(conn: AsyncConnection, lon: float, lat: float) -> dict[str, dict[str, str] | None]:
    """The district, township and village containing a WGS84 point; NotFound outside every district."""
    found = {
        r["level"]: {"code": r["code"], "name": r["name"]}
        for r in await raw.fetch(conn, _LOCATE_SQL, lon, lat)
    }
    if "district" not in found:
        raise NotFound(t("the point ({lon}, {lat}) lies outside every loaded district", lon=lon, lat=lat))
    return {"district": found["district"], "township": found.get("township"), "village": found.get("village")}
