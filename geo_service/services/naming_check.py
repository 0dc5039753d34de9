"""Checking proposed place names against every rule, one at a time or a whole file at once.

The pure rules come from ``domain.naming_rules``; here are the ones that need the database: geometry in the
region and in its division, uniqueness in scope (same name or same toneless pinyin → conflict, near homophone
→ warning), protected names. A batch costs a fixed number of indexed queries, not one per feature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.models import PLACE_NAME_CATEGORIES
from geo_service.domain.naming import split_name
from geo_service.domain.naming_rules import check_name, near_homophone_key, uniqueness_scope
from geo_service.domain.romanize import pinyin_key, romanize, syllables

LINE_CATEGORIES = ("road", "street", "alley", "bridge")
AREA_CATEGORIES = ("village", "community", "natural_village")


@dataclass
class Proposal:
    """One proposed name with its geometry (WGS84) and what the checks found."""

    name: str
    category: str
    geom: BaseGeometry
    division_code: str | None = None
    origin: str | None = None
    note: str | None = None
    justification: str | None = None
    rename_of: int | None = None
    # filled by the checks
    specific: str = ""
    generic: str = ""
    pinyin: str = ""
    pinyin_key: str = ""
    near_key: str = ""
    district_code: str | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RuleBook:
    """What the rules need from the database, read once per request or batch."""

    forbidden: dict[str, list[str]]
    readings: dict[str, str]
    protected: set[str]


async def load_rules(conn: AsyncConnection) -> RuleBook:
    forbidden: dict[str, list[str]] = {}
    for term, kind in (await conn.execute(text("SELECT term, kind FROM forbidden_terms"))).all():
        forbidden.setdefault(kind, []).append(term)
    readings: dict[str, str] = dict(
        (await conn.execute(text("SELECT phrase, reading FROM place_name_readings"))).all()
    )
    protected = {r[0] for r in (await conn.execute(text("SELECT name FROM protected_names"))).all()}
    return RuleBook(forbidden, readings, protected)


def _geometry_kind(p: Proposal) -> None:
    kind = p.geom.geom_type
    if p.category in LINE_CATEGORIES and kind not in ("LineString", "MultiLineString"):
        p.violations.append(
            {"rule": "geometry", "message": f"a {p.category} is drawn as a line, not a {kind}"}
        )
    elif p.category in AREA_CATEGORIES and kind not in ("Point", "Polygon", "MultiPolygon"):
        p.violations.append(
            {"rule": "geometry", "message": f"a {p.category} is a point or a polygon, not a {kind}"}
        )
    if not p.geom.is_valid:
        reason = shapely.is_valid_reason(p.geom)
        p.violations.append({"rule": "geometry", "message": f"invalid geometry: {reason}"})


def check_pure(p: Proposal, rules: RuleBook) -> None:
    """The rules that need no database: category, characters, structure, forbidden terms, geometry kind."""
    if p.category not in PLACE_NAME_CATEGORIES:
        p.violations.append({"rule": "category", "message": f"unknown category {p.category!r}: use one of "
                                                             f"{', '.join(PLACE_NAME_CATEGORIES)}"})  # fmt: skip
        return
    p.violations += [v.as_dict() for v in check_name(p.name, p.category, rules.forbidden)]
    _geometry_kind(p)
    parts = split_name(p.name)
    p.specific, p.generic = parts.specific, parts.generic
    p.pinyin = romanize(p.name, rules.readings)
    sylls = syllables(p.name, rules.readings)
    p.pinyin_key = pinyin_key(p.name, rules.readings)
    p.near_key = near_homophone_key(sylls)


_LOCATE = """
SELECT t.i,
       (SELECT d.code FROM divisions d WHERE d.level = 'district' AND ST_Covers(d.geom, ST_PointOnSurface(t.g))
        ORDER BY d.code LIMIT 1),
       (SELECT coalesce(
            (SELECT v.code FROM divisions v WHERE v.level = 'village' AND ST_Covers(v.geom, ST_PointOnSurface(t.g))
             ORDER BY v.code LIMIT 1),
            (SELECT v.code FROM divisions v WHERE v.level = 'township' AND ST_Covers(v.geom, ST_PointOnSurface(t.g))
             ORDER BY v.code LIMIT 1))),
       NOT EXISTS (SELECT 1 WHERE NOT ST_CoveredBy(t.g, (SELECT ST_Union(d.geom) FROM divisions d
                   WHERE d.level = 'district' AND d.geom && t.g))),
       CASE WHEN t.declared IS NULL THEN NULL
            ELSE (SELECT ST_Covers(d.geom, t.g) FROM divisions d WHERE d.code = t.declared) END
FROM (SELECT i, ST_GeomFromWKB(w, 4326) AS g, declared
      FROM unnest(CAST(:wkbs AS bytea[]), CAST(:declared AS text[])) WITH ORDINALITY AS u(w, declared, i)) t
"""


async def check_places(conn: AsyncConnection, proposals: list[Proposal]) -> None:
    """Geometry within the region and the declared division; assign the division by location."""
    todo = [p for p in proposals if p.geom.is_valid and not p.geom.is_empty]
    if not todo:
        return
    rows = await conn.execute(
        text(_LOCATE),
        {"wkbs": [shapely.to_wkb(p.geom) for p in todo], "declared": [p.division_code for p in todo]},
    )
    for i, district, local, inside_region, inside_declared in rows.all():
        p = todo[i - 1]
        if district is None or not inside_region:
            p.violations.append({"rule": "geometry", "message": "the geometry lies (partly) outside the region: "
                                                                "is the declared CRS right?"})  # fmt: skip
            continue
        if p.division_code is not None:
            if inside_declared is None:
                p.violations.append(
                    {"rule": "division", "message": f"unknown division code {p.division_code!r}"}
                )
            elif not inside_declared:
                p.violations.append({"rule": "division",
                                     "message": f"the geometry lies outside the declared division {p.division_code}"})  # fmt: skip
        else:
            p.division_code = local or district
        p.district_code = district


_SCOPE = """
SELECT id, name, category, pinyin_key, near_key, specific, district_code, status
FROM place_names
WHERE status IN ('approved', 'proposed')
  AND (name = ANY(:names) OR pinyin_key = ANY(:keys) OR near_key = ANY(:nears) OR specific = ANY(:specifics))
"""


def _same_scope(p: Proposal, category: str, district: str | None) -> bool:
    scope = uniqueness_scope(p.category)
    if scope != uniqueness_scope(category):
        return False
    return scope == "city" or district == p.district_code


async def check_uniqueness(
    conn: AsyncConnection, proposals: list[Proposal], exclude: set[int] | None = None
) -> None:
    """No duplicate and no homophone in scope (409 material); near homophones and repeated specifics warn."""
    live = [p for p in proposals if not p.violations]
    if not live:
        return
    rows = (
        await conn.execute(
            text(_SCOPE),
            {"names": [p.name for p in live], "keys": [p.pinyin_key for p in live],
             "nears": [p.near_key for p in live], "specifics": [p.specific for p in live]},
        )
    ).all()  # fmt: skip
    existing = [r for r in rows if r[0] not in (exclude or set())]
    seen: list[Proposal] = []
    for p in live:
        for r in existing:
            if not _same_scope(p, r[2], r[6]):
                continue
            if r[1] == p.name or r[3] == p.pinyin_key:
                p.conflicts.append(int(r[0]))
            elif r[4] == p.near_key:
                p.warnings.append({"rule": "near_homophone", "message": f"sounds close to {r[1]!r} (id {r[0]}) "
                                                                        "for Cantonese speakers"})  # fmt: skip
            elif r[5] == p.specific and p.specific:
                p.warnings.append({"rule": "specific_repeats", "message": f"the specific part {p.specific!r} is "
                                                                          f"used by {r[1]!r} (id {r[0]})"})  # fmt: skip
        for q in seen:  # earlier features of the same batch
            if _same_scope(p, q.category, q.district_code) and (
                q.name == p.name or q.pinyin_key == p.pinyin_key
            ):
                p.violations.append(
                    {"rule": "duplicate", "message": f"{p.name!r} repeats {q.name!r} of this batch"}
                )
        if p.conflicts:
            p.violations.append({"rule": "duplicate", "message": f"{p.name!r} duplicates or sounds the same as "
                                                                 f"place name(s) {sorted(set(p.conflicts))}"})  # fmt: skip
        seen.append(p)


async def check_all(
    conn: AsyncConnection, proposals: list[Proposal], rules: RuleBook | None = None
) -> RuleBook:
    """Every rule on every proposal; violations, conflicts and warnings are left on each."""
    rules = rules or await load_rules(conn)
    for p in proposals:
        check_pure(p, rules)
    await check_places(conn, proposals)
    await check_uniqueness(conn, proposals, {p.rename_of for p in proposals if p.rename_of})
    return rules
