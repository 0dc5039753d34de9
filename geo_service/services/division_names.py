"""Divisions named by code or by name: ``within=天河区`` as well as ``within=440106``."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw
from geo_service.db.sql import Sql, compose
from geo_service.domain.division_names import short_village_name
from geo_service.domain.errors import Ambiguous, InvalidInput, NotFound
from geo_service.i18n import t

#: A division code: 6 ASCII digits (district), 9 (township) or 12 (village).
CODE = re.compile(r"[0-9]{6}([0-9]{3}([0-9]{3})?)?")
_DIVISIONS_WHERE = Sql(
    "SELECT d.code, d.name, d.level, d.parent_code, p.name FROM divisions d "
    "LEFT JOIN divisions p ON p.code = d.parent_code WHERE {where} ORDER BY d.code"
)
_BY_NAME = compose(_DIVISIONS_WHERE, where=Sql("d.name = $1"))
_BY_NAME_START = compose(_DIVISIONS_WHERE, where=Sql("starts_with(d.name, $1)"))


async def division_code(conn: AsyncConnection, ref: str) -> str:
    """The code of the division given by its code or its name.

    A name is the full name at any level (天河区, 石牌街道, 翠洲社区居民委员会), or the short form of a
    village's (翠洲社区, 大岗村). NotFound when no division has it; ``Ambiguous`` (422, listing their codes)
    when several do.
    """
    ref = ref.strip()
    if not ref:
        raise InvalidInput(t("within: give a division code (440106) or name (天河区)"))
    if CODE.fullmatch(ref):
        if not await raw.fetch(conn, "SELECT 1 FROM divisions WHERE code = $1", ref):
            raise NotFound(t("unknown division code {code!r}", code=ref))
        return ref
    rows = await raw.fetch(conn, _BY_NAME, ref)
    if not rows:  # a village by the name in use: 大岗村 for 大岗村民委员会
        stem = ref.removesuffix("村") or ref
        near = await raw.fetch(conn, _BY_NAME_START, stem)
        rows = [r for r in near if short_village_name(r[1]) == ref]
    if not rows:
        raise NotFound(
            t("no division is named {name!r}: give its full name (天河区, 石牌街道) or its code", name=ref)
        )
    if len(rows) > 1:
        listed = ", ".join(f"{r[0]} ({r[4] or ''}{r[1]})" for r in rows)
        raise Ambiguous(
            t(
                "{count} divisions are named {name!r}: {listed}; give the code of the one you mean",
                count=len(rows),
                name=ref,
                listed=listed,
            ),
            candidates=[
                {"code": r[0], "name": r[1], "level": r[2], "parent_code": r[3], "parent_name": r[4]}
                for r in rows
            ],
        )
    return str(rows[0][0])


async def name_of(conn: AsyncConnection, code: str | None) -> str | None:
    """The name of a division (None for none, or an unknown code)."""
    if code is None:
        return None
    rows = await raw.fetch(conn, "SELECT name FROM divisions WHERE code = $1", code)
    return str(rows[0][0]) if rows else None
