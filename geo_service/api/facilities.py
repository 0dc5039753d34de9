"""Facilities: editors create, update and close them (closing keeps the record)."""

from __future__ import annotations

from fastapi import APIRouter

from geo_service.api.auth import Editor
from geo_service.api.conditional import IfMatchDep, versioned_feature, versioned_json
from geo_service.api.deps import ConnDep, EngineDep
from geo_service.api.params import Crs, Id
from geo_service.api.responses import GeoJSONBody, JSONBody
from geo_service.api.schemas import FacilityCreate, FacilityUpdate
from geo_service.services import facilities, facility_types

router = APIRouter(prefix="/v1/facilities", tags=["facilities"])


@router.post("", status_code=201, summary="Create a facility", response_class=GeoJSONBody)
async def create_facility(engine: EngineDep, caller: Editor, body: FacilityCreate) -> GeoJSONBody:
    async with engine.begin() as conn:
        feature = await facilities.create(conn, caller, body.properties.model_dump(), body.geometry, body.crs)
    return versioned_feature(feature, status_code=201)


@router.patch("/{facility_id}", summary="Update a facility", response_class=GeoJSONBody)
async def update_facility(
    engine: EngineDep, caller: Editor, facility_id: Id, body: FacilityUpdate, if_match: IfMatchDep
) -> GeoJSONBody:
    """Needs If-Match with the ETag the editor saw: 412 when it changed since, 428 without it."""
    async with engine.begin() as conn:
        version = await if_match.check(conn, "facility", facility_id)
        feature = await facilities.update(conn, caller, facility_id, version, body.model_dump(exclude_unset=True),
                                          body.crs)  # fmt: skip
    return versioned_feature(feature)


@router.delete("/{facility_id}", summary="Close a facility")
async def delete_facility(
    engine: EngineDep, caller: Editor, facility_id: Id, if_match: IfMatchDep
) -> JSONBody:
    """Marks it closed (not deleted): it stops appearing in nearest and coverage, its history stays.
    Needs If-Match like an update."""
    async with engine.begin() as conn:
        version = await if_match.check(conn, "facility", facility_id)
        closed = await facilities.close(conn, caller, facility_id, version)
    return versioned_json(closed, closed["version"])


@router.get("/types", summary="Facility types")
async def read_facility_types(conn: ConnDep) -> JSONBody:
    return JSONBody([t.__dict__ for t in await facility_types.all_types(conn)])


@router.get("/{facility_id}", summary="One facility", response_class=GeoJSONBody)
async def read_facility(conn: ConnDep, facility_id: Id, crs: Crs = "wgs84") -> GeoJSONBody:
    """Whatever its status (a closed one too), with the strong ETag of its version for If-Match."""
    return versioned_feature(await facilities.get(conn, facility_id, crs))
