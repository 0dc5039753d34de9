"""Feature collections: every layer the service publishes, described once.

The OGC API – Features endpoints, the boundary endpoints and the maps read layers through these
descriptions; the SQL of each property is written here and nowhere else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.services import facility_types
from geo_service.services.keys import Caller
from geo_service.services.place_names import APPROVED_PLACES


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
    properties: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # bound values the base filter uses
    grid: bool = False  # a point table with lon, lat and grid_cell columns (db/point_grid.py)
    staff: bool = False  # listed and served to staff only (a key or a signed-in person)

    @functools.cached_property
    def properties_json_sql(self) -> str:
        """The properties as one JSON object (text), built in the database."""
        pairs = ", ".join(f"'{name}', {expr}" for name, expr in self.properties.items())
        return f"json_build_object({pairs})::text"


_SIGN_PLACE = "(SELECT p.{column} FROM place_names p WHERE p.id = t.place_name_id)"
#: A sign is to replace while it stands (not retired) and shows another name than its place's current one.
SIGN_TO_REPLACE = f"(t.retired_on IS NULL AND t.text <> {_SIGN_PLACE.format(column='name')})"
#: When the name a sign shows stopped being the place's name (its latest end in the place's history).
_SIGN_RENAMED_ON = (
    f"(CASE WHEN {SIGN_TO_REPLACE} THEN (SELECT max(h.valid_to) FROM place_name_history h "
    "WHERE h.place_name_id = t.place_name_id AND h.name = t.text) END)"
)

_LINE_MARKERS = "(SELECT count(*) FROM boundary_markers m WHERE m.line_code = t.code{extra})"

DIVISION_PROPS = {
    "code": "t.code",
    "name": "t.name",
    "level": "t.level",
    "kind": "t.kind",
    "parent_code": "t.parent_code",
    "population": "t.population",
    "area_km2": "round(CAST(t.area_m2 / 1e6 AS numeric), 6)",
    "geometry_source": "t.geometry_source",
}

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
                where=f"t.level = '{level}'",
                id_sql="t.code",
                numeric_id=False,
                properties=DIVISION_PROPS,
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
            properties={
                "code": "t.code",
                "name": "t.name",
                "left_code": "t.left_code",
                "right_code": "t.right_code",
                "length_m": "round(CAST(ST_Length(t.geom::geography) AS numeric), 1)",
                "marker_count": _LINE_MARKERS.format(extra=""),
                "markers_intact": _LINE_MARKERS.format(extra=" AND m.status = 'intact'"),
                "last_inspected_on": "(SELECT max(m.last_inspected_on) FROM boundary_markers m "
                "WHERE m.line_code = t.code)",
                "geometry_source": "t.geometry_source",
            },
        ),
        Collection(
            id="boundary-markers",
            title="Boundary markers 界桩",
            description="Boundary markers; status is that of the latest inspection",
            table="boundary_markers",
            where="true",
            id_sql="t.id",
            numeric_id=True,
            properties={
                "number": "t.number",
                "line_code": "t.line_code",
                "kind": "t.kind",
                "status": "t.status",
                "installed_on": "t.installed_on",
                "last_inspected_on": "t.last_inspected_on",
                "version": "t.version",
            },
        ),
        Collection(
            id="place-names",
            title="Place names 地名",
            description="Approved standard place names",
            table="place_names",
            where=APPROVED_PLACES,
            id_sql="t.id",
            numeric_id=True,
            properties={
                "name": "t.name",
                "pinyin": "t.pinyin",
                "category": "t.category",
                "specific": "t.specific",
                "generic": "t.generic",
                "status": "t.status",
                "division_code": "t.division_code",
                "district_code": "t.district_code",
                "approved_on": "t.approved_on",
                "geometry_source": "t.geometry_source",
            },
        ),
        Collection(
            id="place-name-signs",
            title="Place-name signs 地名标志",
            description="Place-name signs and whether they still show a renamed name",
            table="place_name_signs",
            where="true",
            id_sql="t.id",
            numeric_id=True,
            properties={
                "place_name_id": "t.place_name_id",
                "text": "t.text",
                "pinyin": "t.pinyin",
                "status": "t.status",
                "to_replace": SIGN_TO_REPLACE,
                "current_name": _SIGN_PLACE.format(column="name"),
                "current_pinyin": _SIGN_PLACE.format(column="pinyin"),
                "renamed_on": _SIGN_RENAMED_ON,
                "days_since_rename": f"(current_date - {_SIGN_RENAMED_ON})",
                "district_code": "t.district_code",
                "installed_on": "t.installed_on",
                "last_inspected_on": "t.last_inspected_on",
                "retired_on": "t.retired_on",
                "retired_reason": "t.retired_reason",
                "version": "t.version",
            },
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
    properties={
        "name": "t.name",
        "status": "t.status",
        "category": "t.category",
        "pinyin": "t.pinyin",
        "specific": "t.specific",
        "generic": "t.generic",
        "division_code": "t.division_code",
        "district_code": "t.district_code",
        "rename_of": "t.rename_of",
        "proposed_by": "t.proposed_by",
        "created_at": "t.created_at",
        "warnings": "t.warnings",
        "version": "t.version",
    },
    staff=True,
)
#: Collections for staff only, by id.
STAFF: dict[str, Collection] = {PROPOSALS.id: PROPOSALS}
#: What a surveyor reads of a proposal that is not its own (API.md, "Anonymous callers"): enough for a conflict.
SURVEYOR_VIEW = ("name", "status", "category")

FACILITY_PROPS = {
    "type": "t.type",
    "name": "t.name",
    "address": "t.address",
    "phone": "t.phone",
    "opening_hours": "t.opening_hours",
    "capacity": "t.capacity",
    "status": "t.status",
    "district_code": "t.district_code",
    "township_code": "t.township_code",
    "village_code": "t.village_code",
    "geometry_source": "t.geometry_source",
    "version": "t.version",
    "closed_on": "t.closed_on",
}


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
            properties=FACILITY_PROPS,
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
