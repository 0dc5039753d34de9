"""Facilities: editors create, update and close them (closing keeps the record)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from geo_service.api.auth import Editor
from geo_service.api.deps import ConnDep, EngineDep
from geo_service.api.params import Id
from geo_service.api.place_names import if_match_version
from geo_service.api.responses import GeoJSONBody, JSONBody
from geo_service.api.schemas import FacilityCreate, FacilityUpdate
from geo_service.services import facilities, facility_types

router = APIRouter(prefix="/v1/facilities", tags=["facilities"])

IfMatch = Annotated[str | None, Header(description="The version the change was made on.")]


@router.post("", status_code=201, summary="Create a facility", response_class=GeoJSONBody)
async def create_facility(engine: EngineDep, caller: Editor, body: FacilityCreate) -> GeoJSONBody:
    async with engine.begin() as conn:
        feature = await facilities.create(conn, caller, body.properties.model_dump(), body.geometry, body.crs)
    return GeoJSONBody(feature, status_code=201)


@router.patch("/{facility_id}", summary="Update a facility", response_class=GeoJSONBody)
async def update_facility(
    engine: EngineDep, caller: Editor, facility_id: Id, body: FacilityUpdate, if_match: IfMatch = None
) -> GeoJSONBody:
    """Needs If-Match with the version the editor saw: 412 when it changed since, 428 without it."""
    version = if_match_version(if_match)
    async with engine.begin() as conn:
        feature = await facilities.update(conn, caller, facility_id, version, body.model_dump(exclude_unset=True),
                                          body.crs)  # fmt: skip
    return GeoJSONBody(feature)


@router.delete("/{facility_id}", summary="Close a facility")
async def delete_facility(
    engine: EngineDep, caller: Editor, facility_id: Id, if_match: IfMatch = None
) -> JSONBody:
    """Marks it closed (not deleted): it stops appearing in nearest and coverage, its history stays."""
    version = if_match_version(if_match) if if_match is not None else None
    async with engine.begin() as conn:
        return JSONBody(await facilities.close(conn, caller, facility_id, version))


@router.get("/types", summary="Facility types")
async def read_facility_types(conn: ConnDep) -> JSONBody:
    return JSONBody([t.__dict__ for t in await facility_types.all_types(conn)])
