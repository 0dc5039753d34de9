"""Checking proposed place names against every rule, one at a time or a whole file at once.

The pure rules come from ``domain.naming_rules``; here are the ones that need the database: geometry in the
region and in its division, uniqueness in scope (same name or same toneless pinyin → conflict, near homophone
→ warning), protected names. A batch costs a fixed number of indexed queries, not one per feature.

Uniqueness holds under concurrency: before looking for conflicts a transaction takes advisory locks on each
name and each romanisation in its scope (held until it commits), so of two proposals of one name, or of two
names that sound the same, the second waits for the first and then sees it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.models import PLACE_NAME_CATEGORIES
from geo_service.db.sql import compose
from geo_service.domain.errors import InvalidInput
from geo_service.domain.geometry_input import geometry_word, invalid_reason, parse_geometry
from geo_service.domain.naming import split_name
from geo_service.domain.naming_rules import (
    category_word,
    check_name,
    near_homophone_key,
    place_kind,
    same_series,
    uniqueness_scope,
    unknown_category,
)
from geo_service.domain.naming_warnings import shown, warning
from geo_service.domain.romanize import romanize_syllables, syllables_many
from geo_service.domain.words import listing
from geo_service.i18n import t
from geo_service.services.division_index import DivisionIndex, division_index
from geo_service.services.place_names import APPROVED_PLACES
from geo_service.services.upload_rows import finite, not_finite

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
    id: int | None = (
        None  # the stored proposal this one changes (resubmitted): it does not conflict with itself
    )
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
    local: frozenset[str] = frozenset()  # the region's standard characters outside GB2312


async def load_rules(conn: AsyncConnection) -> RuleBook:
    """The forbidden terms, the place-name readings and the local characters (lists admins keep)."""
    forbidden: dict[str, list[str]] = {}
    for term, kind in (await conn.execute(text("SELECT term, kind FROM forbidden_terms"))).all():
        forbidden.setdefault(kind, []).append(term)
    readings: dict[str, str] = dict(
        (await conn.execute(text("SELECT phrase, reading FROM place_name_readings"))).all()
    )
    local = frozenset((await conn.execute(text("SELECT character FROM local_characters"))).scalars())
    return RuleBook(forbidden, readings, local)


def _geometry_kind(p: Proposal) -> None:
    kind = p.geom.geom_type
    word = category_word(p.category)
    if p.category in LINE_CATEGORIES and kind not in ("LineString", "MultiLineString"):
        p.violations.append(
            {
                "rule": "geometry",
                "message": t(
                    "a {category} is drawn as a line, not a {kind}", category=word, kind=geometry_word(kind)
                ),
            }
        )
    elif p.category in AREA_CATEGORIES and kind not in ("Point", "Polygon", "MultiPolygon"):
        p.violations.append(
            {
                "rule": "geometry",
                "message": t(
                    "a {category} is a point or a polygon, not a {kind}",
                    category=word,
                    kind=geometry_word(kind),
                ),
            }
        )
    if not finite(p.geom):
        p.violations.append({"rule": "geometry", "message": not_finite()})
    elif not p.geom.is_valid:
        reason = invalid_reason(p.geom)
        p.violations.append({"rule": "geometry", "message": t("invalid geometry: {reason}", reason=reason)})


def check_pure(proposals: list[Proposal], rules: RuleBook) -> None:
    """The rules that need no database: category, characters, structure, forbidden terms, geometry kind."""
    for p in proposals:
        if p.category not in PLACE_NAME_CATEGORIES:
            p.violations.append({"rule": "category", "message": unknown_category(p.category)})
            continue
        p.violations += [v.as_dict() for v in check_name(p.name, p.category, rules.forbidden, rules.local)]
        _geometry_kind(p)
    # Parts and pinyin even for an unknown category (a dry run shows them), romanised as of no known category.
    all_syllables = syllables_many([p.name.replace("|", "?") for p in proposals], rules.readings)
    for p, sylls in zip(proposals, all_syllables, strict=True):
        parts = split_name(p.name)
        p.specific, p.generic = parts.specific, parts.generic
        p.pinyin = romanize_syllables(
            p.name, sylls, p.category if p.category in PLACE_NAME_CATEGORIES else None
        )
        p.pinyin_key = "".join(sylls).lower()
        p.near_key = near_homophone_key(sylls)


async def check_places(conn: AsyncConnection, proposals: list[Proposal]) -> None:
    """Geometry within the region and the declared division; assign the division by location."""
    place(proposals, await division_index(conn))


def place(proposals: list[Proposal], index: DivisionIndex) -> None:
    """``check_places`` with the divisions at hand (uploads run it in a worker process)."""
    todo = [p for p in proposals if p.geom.is_valid and not p.geom.is_empty]
    if not todo:
        return
    geoms = np.array([p.geom for p in todo], dtype=object)
    points = shapely.point_on_surface(geoms)
    inside = index.in_region(geoms)
    districts = index.locate(points, "district")
    villages = index.locate(points, "village")
    townships = index.locate(points, "township")
    for p, ok, district, village, township in zip(todo, inside, districts, villages, townships, strict=True):
        if district is None or not ok:
            p.violations.append(
                {
                    "rule": "geometry",
                    "message": t("the geometry lies (partly) outside the region: is the declared CRS right?"),
                }
            )
            continue
        if p.division_code is not None:
            declared = index.by_code.get(p.division_code)
            if declared is None:
                p.violations.append(
                    {"rule": "division", "message": t("unknown division code {code!r}", code=p.division_code)}
                )
            elif not shapely.covers(declared, p.geom):
                p.violations.append(
                    {
                        "rule": "division",
                        "message": t(
                            "the geometry lies outside the declared division {code}", code=p.division_code
                        ),
                    }
                )
        else:
            p.division_code = village or township or district
        p.district_code = district


#: Proposals that hold their name for uniqueness while they wait (API.md, "States of a proposal").
OPEN_STATUSES = ("proposed", "returned")

# Names are held by approved places (an approved rename proposal lives on in its place, which holds the new name)
# and, unless only approved ones count, by open proposals.
_SCOPE = compose(
    """
SELECT t.id, t.name, t.category, lower(replace(t.pinyin, ' ', '')), t.near_key, t.specific, t.district_code, t.status
FROM place_names t
WHERE (({approved}) OR (NOT :approved_only AND t.status = ANY(:open)))
  AND (t.name = ANY(:names) OR t.pinyin_key = ANY(:keys) OR t.near_key = ANY(:nears) OR t.specific = ANY(:specifics))
""",
    approved=APPROVED_PLACES,
)

#: Advisory-lock classes (the first key of ``pg_advisory_xact_lock(int, int)``; other users take bigint keys,
#: a key space of its own).
_NAME_LOCKS = 1
_PLACE_LOCKS = 2
#: Names and romanisations are hashed into this many locks: a file of thousands of names takes at most this
#: many (PostgreSQL's lock table holds about 64 per connection), and two different names that share a lock
#: only wait for each other, they do not conflict.
NAME_LOCK_BUCKETS = 1024
#: Batches larger than this are compared in a worker thread (200,000 names take ~1 s of Python).
THREAD_BATCH = 2_000


def _scope_key(category: str, district: str | None) -> str:
    scope = uniqueness_scope(category)
    return scope if scope == "city" else f"district:{district}"


def _roman(pinyin: str) -> str:
    """The romanisation compared for homophones: apostrophes kept, so that 西安 Xi'an ≠ 先 Xian."""
    return pinyin.lower().replace(" ", "")


def _lock_key(scope: str, kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"{scope}\x1f{kind}\x1f{value}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % NAME_LOCK_BUCKETS


def _lock_keys(p: Proposal) -> list[int]:
    scope = _scope_key(p.category, p.district_code)
    return [_lock_key(scope, "name", p.name), _lock_key(scope, "roman", _roman(p.pinyin))]


async def _lock(conn: AsyncConnection, space: int, keys: Iterable[int]) -> None:
    # One statement, keys ascending: transactions that share keys take them in the same order (no deadlock).
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:space, k) FROM unnest(CAST(:keys AS int[])) AS k"),
        {"space": space, "keys": sorted(set(keys))},
    )


async def lock_names(conn: AsyncConnection, proposals: list[Proposal]) -> None:
    """Hold every proposal's name and romanisation in its scope until the transaction ends."""
    await _lock(conn, _NAME_LOCKS, (key for p in proposals for key in _lock_keys(p)))


async def lock_place(conn: AsyncConnection, place_id: int) -> None:
    """Hold a place (its renames) until the transaction ends; take it before any name lock."""
    await _lock(conn, _PLACE_LOCKS, [place_id % 2**31])


async def check_uniqueness(
    conn: AsyncConnection,
    proposals: list[Proposal],
    exclude: set[int] | None = None,
    approved_only: bool = False,
    lock: bool = True,
) -> None:
    """No duplicate and no homophone in scope (409 material); near homophones and repeated specifics warn.

    The names are locked first (``lock_names``), for the rest of the transaction. Rows are found by the indexed
    toneless key (a superset); the conflict test compares romanisations. ``approved_only``: conflicts with
    approved places only (at approval), not with other open proposals. ``lock=False``: a dry run, which writes
    nothing and so waits for no one.

    One indexed query for the whole batch, then dictionary look-ups: no scan per feature."""
    live = [p for p in proposals if not p.violations]
    if not live:
        return
    if lock:
        await lock_names(conn, live)
    rows = (
        await conn.execute(
            text(_SCOPE),
            {
                "names": [p.name for p in live],
                "keys": [p.pinyin_key for p in live],
                "nears": [p.near_key for p in live],
                "specifics": [p.specific for p in live],
                "approved_only": approved_only,
                "open": list(OPEN_STATUSES),
            },
        )
    ).all()
    if len(live) > THREAD_BATCH:
        await asyncio.to_thread(_compare, live, rows, exclude or set())  # a file's worth: off the event loop
    else:
        _compare(live, rows, exclude or set())


def _compare(live: list[Proposal], rows: Sequence[Any], exclude: set[int]) -> None:
    """Conflicts, warnings and duplicates within the batch, from the rows found in scope."""
    by: dict[str, dict[tuple[str, str], list[Any]]] = {"name": {}, "key": {}, "near": {}, "specific": {}}
    for r in rows:
        if r[0] in exclude:
            continue
        scope = _scope_key(r[2], r[6])
        for kind, value in (("name", r[1]), ("key", r[3]), ("near", r[4]), ("specific", r[5])):
            by[kind].setdefault((scope, value), []).append(r)
    seen: dict[tuple[str, str], Proposal] = {}
    for p in live:
        scope = _scope_key(p.category, p.district_code)
        roman = _roman(p.pinyin)  # homophones: the same romanisation
        same = {int(r[0]) for r in by["name"].get((scope, p.name), []) + by["key"].get((scope, roman), [])}
        p.conflicts += sorted(same)
        for r in by["near"].get((scope, p.near_key), []):
            if int(r[0]) not in same and not same_series(p.name, r[1]):
                p.warnings.append(warning("near_homophone", name=r[1], id=int(r[0])))
        kind = place_kind(p.category)
        for r in by["specific"].get((scope, p.specific), []) if p.specific else []:
            if int(r[0]) not in same and place_kind(r[2]) == kind and not same_series(p.name, r[1]):
                p.warnings.append(warning("specific_repeats", specific=p.specific, name=r[1], id=int(r[0])))
        earlier = seen.get((scope, p.name)) or seen.get((scope, "#" + roman))
        if earlier is not None:
            p.violations.append(
                {
                    "rule": "duplicate",
                    "message": t(
                        "{name!r} repeats {earlier!r} of this batch", name=p.name, earlier=earlier.name
                    ),
                }
            )
        seen.setdefault((scope, p.name), p)
        seen.setdefault((scope, "#" + roman), p)
        if p.conflicts:
            p.violations.append(
                {
                    "rule": "duplicate",
                    "message": t(
                        "{name!r} duplicates or sounds the same as place name(s) {ids}",
                        name=p.name,
                        ids=listing(sorted(set(p.conflicts))),
                    ),
                }
            )


async def check_all(
    conn: AsyncConnection, proposals: list[Proposal], rules: RuleBook | None = None
) -> RuleBook:
    """Every rule on every proposal; violations, conflicts and warnings are left on each."""
    rules = rules or await load_rules(conn)
    check_pure(proposals, rules)
    await check_places(conn, proposals)
    exclude = {i for p in proposals for i in (p.rename_of, p.id) if i is not None}
    await check_uniqueness(conn, proposals, exclude)
    return rules


async def dry_run(
    conn: AsyncConnection,
    name: str,
    category: str | None,
    geometry: dict[str, Any] | None,
    crs: str,
    division_code: str | None = None,
    proposal_id: int | None = None,
    district: str | None = None,
) -> dict[str, Any]:
    """The check of one proposal as far as it is filled in, written nowhere and locking nothing (API.md,
    "POST /v1/place-names/check"): its parts, pinyin, division, problems, conflicts and warnings.

    A missing category or geometry, or one that cannot be read, is a problem like any other. Conflicts are
    looked for whatever else is wrong (the live check shows them as the surveyor types), unless the name or
    category itself is unusable. ``proposal_id``: the proposal being edited (not a conflict of itself);
    ``district``: the caller acts only there (a place elsewhere is a problem)."""
    geometry_problem = None
    geom: BaseGeometry = shapely.GeometryCollection()
    if geometry is None:
        geometry_problem = t("no geometry yet: draw the line or tap the point")
    else:
        try:
            geom = parse_geometry(geometry, crs)
        except InvalidInput as exc:
            geometry_problem = exc.detail
    p = Proposal(
        name=name.strip(), category=category or "", geom=geom, division_code=division_code, id=proposal_id
    )
    check_pure([p], await load_rules(conn))
    if category is None:
        p.violations = [{"rule": "category", "message": t("choose a category")}]
    if geometry_problem is not None:
        p.violations = [v for v in p.violations if v["rule"] != "geometry"]
        p.violations.append({"rule": "geometry", "message": geometry_problem})
    await check_places(conn, [p])
    if not any(v["rule"] in ("category", "characters") for v in p.violations):
        problems, p.violations = p.violations, []
        await check_uniqueness(conn, [p], {proposal_id} if proposal_id else set(), lock=False)
        p.violations = problems + p.violations
    if district is not None and p.district_code is not None and p.district_code != district:
        p.violations.append(
            {
                "rule": "district",
                "message": t(
                    "the place lies in district {place}; you propose in district {district} only",
                    place=p.district_code,
                    district=district,
                ),
            }
        )
    division = None
    if p.division_code is not None:
        found = await conn.execute(text("SELECT name FROM divisions WHERE code = :c"), {"c": p.division_code})
        division_name = found.scalar()
        division = {"code": p.division_code, "name": division_name} if division_name else None
    return {
        "ok": not p.violations,
        "name": p.name,
        "specific": p.specific,
        "generic": p.generic,
        "category": category,
        "pinyin": p.pinyin,
        "division": division,
        "problems": p.violations,
        "conflicts": sorted(set(p.conflicts)),
        "warnings": shown(p.warnings),
    }
