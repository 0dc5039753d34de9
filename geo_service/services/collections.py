"""Feature collections: every layer the service publishes, described once.

The OGC API – Features endpoints, the boundary endpoints and the maps read layers through these
descriptions; the SQL of each property comes from ``feature_properties`` (written there once, which place-name
reads and nearest facilities pick from too).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.sql import Sql, code_literal, compose, json_object
from geo_service.services import facility_types
from geo_service.services import feature_properties as props
from geo_service.services.feature_properties import APPROVED_PLACES, SIGN_TO_REPLACE, pick
from geo_service.services.keys import Caller

__all__ = ["SIGN_TO_REPLACE", "Collection", "all_collections", "as_seen_by", "get_collection"]


@dataclass(frozen=True)
class Collection:
    """A published layer: a table, a base filter, an id and its properties as SQL expressions."""

    id: str
    title: str
    description: str
    table: str
    where: str
    id_sql: str
    numeric_id: bool
    properties: dict[str, Sql] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # bound values the base filter uses
    grid: bool = False  # a point table with lon, lat and grid_cell columns (db/point_grid.py)
    staff: bool = False  # listed and served to staff only (a key or a signed-in person)

    @functools.cached_property
    def properties_json_sql(self) -> str:
        """The properties as one JSON object (text), built in the database."""
        return compose("{json}::text", json=json_object(self.properties))


STATIC: dict[str, Collection] = {
    c.id: c
    for c in [
        *(
            Collection(
                id=f"{level}s",
                title={"district": "Districts 区", "township": "Townships 镇街", "village": "Villages 村居"}[
                    level
                ],
                description=f"Administrative divisions at {level} level",
                table="divisions",
                where=compose("t.level = {level}", level=code_literal(level)),
                id_sql="t.code",
                numeric_id=False,
                properties=props.DIVISION,
            )
            for level in ("district", "township", "village")
        ),
        Collection(
            id="boundary-lines",
            title="Boundary lines 界线",
            description="Shared borders of adjacent divisions, with their markers' state",
            table="boundary_lines",
            where="true",
            id_sql="t.code",
            numeric_id=False,
            properties=props.BOUNDARY_LINE,
        ),
        Collection(
            id="boundary-markers",
            title="Boundary markers 界桩",
            description="Boundary markers; status is that of the latest inspection",
            table="boundary_markers",
            where="true",
            id_sql="t.id",
            numeric_id=True,
            properties=props.BOUNDARY_MARKER,
        ),
        Collection(
            id="place-names",
            title="Place names 地名",
            description="Approved standard place names",
            table="place_names",
            where=APPROVED_PLACES,
            id_sql="t.id",
            numeric_id=True,
            properties=pick(
                props.PLACE_NAME_PUBLIC,
                "name",
                "pinyin",
                "category",
                "specific",
                "generic",
                "status",
                "division_code",
                "district_code",
                "approved_on",
                "geometry_source",
            ),
        ),
        Collection(
            id="place-name-signs",
            title="Place-name signs 地名标志",
            description="Place-name signs and whether they still show a renamed name",
            table="place_name_signs",
            where="true",
            id_sql="t.id",
            numeric_id=True,
            properties=props.SIGN,
        ),
    ]
}

#: Pending proposals, the review queue's set (``GET /v1/place-names?status=proposed``), for QGIS and GDAL: staff
#: only. Reviewers read who proposed and the warnings; a surveyor reads others' proposals as a conflict shows
#: them (``SURVEYOR_VIEW``).
PROPOSALS = Collection(
    id="place-name-proposals",
    title="Place-name proposals 待审地名",
    description="Pending place-name proposals (staff only)",
    table="place_names",
    where="t.status = 'proposed'",
    id_sql="t.id",
    numeric_id=True,
    properties=pick(
        props.PLACE_NAME_STAFF,
        "name",
        "status",
        "category",
        "pinyin",
        "specific",
        "generic",
        "division_code",
        "district_code",
        "rename_of",
        "proposed_by",
        "created_at",
        "warnings",
        "version",
    ),
    staff=True,
)
#: Collections for staff only, by id.
STAFF: dict[str, Collection] = {PROPOSALS.id: PROPOSALS}
#: What a surveyor reads of a proposal that is not its own (API.md, "Anonymous callers"): enough for a conflict.
SURVEYOR_VIEW = ("name", "status", "category")
#: Properties vector tiles leave out: a proposal's warnings are a JSON list (an MVT attribute holds one value;
#: ST_AsMVT drops it silently) of words shown in the reader's language, which a tile cached for all cannot be.
_NOT_IN_TILES = frozenset({"warnings"})


async def all_collections(conn: AsyncConnection, caller: Caller | None = None) -> list[Collection]:
    """Every collection ``caller`` may read: the static ones, one per facility type (types are data) and, for
    staff, the pending proposals."""
    public = _with_facility_types(tuple(await facility_types.all_types(conn)))
    return public if caller is None else [*public, *(as_seen_by(c, caller) for c in STAFF.values())]


def as_seen_by(coll: Collection, caller: Caller) -> Collection:
    """A staff collection with the properties ``caller`` may read (a surveyor: others' proposals as conflicts
    show them; its own in full are under /v1/place-names?mine=true)."""
    if caller.has("reviewer"):
        return coll
    return replace(coll, properties={k: v for k, v in coll.properties.items() if k in SURVEYOR_VIEW})


def in_tiles(coll: Collection) -> Collection:
    """The collection as its vector tiles carry it (and their metadata describes it): without ``_NOT_IN_TILES``."""
    if not _NOT_IN_TILES & coll.properties.keys():
        return coll
    return replace(coll, properties={k: v for k, v in coll.properties.items() if k not in _NOT_IN_TILES})


@functools.lru_cache(maxsize=16)
def _with_facility_types(types: tuple[facility_types.FacilityTypeInfo, ...]) -> list[Collection]:
    facility = [
        Collection(
            id=t.collection,
            title=f"{t.name_en} {t.name_zh}",
            description=f"Facilities of type {t.code} (all statuses; status=active for the open ones)",
            table="facilities",
            where="t.type = :ftype",
            id_sql="t.id",
            numeric_id=True,
            properties=props.FACILITY,
            params={"ftype": t.code},
            grid=True,
        )
        for t in types
    ]
    return [*STATIC.values(), *facility]


async def get_collection(
    conn: AsyncConnection, collection_id: str, caller: Caller | None = None
) -> Collection | None:
    """One collection by id as ``caller`` may read it (a facility collection also by its type code,
    elderly_canteen), or None (a staff collection for the public too)."""
    if collection_id in STATIC:
        return STATIC[collection_id]
    found = await all_collections(conn, caller)
    return next((c for c in found if c.id == collection_id or c.params.get("ftype") == collection_id), None)
