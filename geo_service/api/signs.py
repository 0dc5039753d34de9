"""Place-name signs: registered and inspected by surveyors; the ones to replace listed publicly."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from geo_service.api.auth import OPTIONAL_KEY, Reader, Surveyor
from geo_service.api.conditional import versioned_feature
from geo_service.api.deps import ConnDep, EngineDep
from geo_service.api.params import Crs, Id
from geo_service.api.responses import GeoJSONBody, JSONBody
from geo_service.api.schemas import InspectionCreate, SignCreate
from geo_service.services import inspections, signs

router = APIRouter(prefix="/v1/place-name-signs", tags=["place-name signs"])


@router.get("", summary="Place-name signs", response_class=GeoJSONBody)
async def read_signs(
    conn: ConnDep,
    to_replace: Annotated[bool | None, Query(description="true: signs still showing a renamed name.")] = None,
    crs: Crs = "wgs84",
) -> GeoJSONBody:
    return GeoJSONBody(await signs.listing(conn, to_replace, crs))


@router.post("", status_code=201, summary="Register a sign", response_class=GeoJSONBody)
async def create_sign(engine: EngineDep, caller: Surveyor, body: SignCreate) -> GeoJSONBody:
    """422 when the text or the romanisation does not match the approved name."""
    async with engine.begin() as conn:
        feature = await signs.register(conn, caller, body.place_name_id, body.position, body.installed_on,
                                       body.text, body.pinyin, body.crs)  # fmt: skip
    return versioned_feature(feature, status_code=201)


@router.get("/{sign_id}", summary="One place-name sign", response_class=GeoJSONBody)
async def read_sign(conn: ConnDep, sign_id: Id, crs: Crs = "wgs84") -> GeoJSONBody:
    """With the strong ETag of its version (`"3"`), for If-Match on a change."""
    return versioned_feature(await signs.get(conn, sign_id, crs))


@router.get("/{sign_id}/inspections", summary="A sign's inspection history", openapi_extra=OPTIONAL_KEY)
async def read_sign_inspections(conn: ConnDep, caller: Reader, sign_id: Id) -> JSONBody:
    """Dates and statuses; notes, inspectors and positions with a key."""
    return JSONBody(await inspections.history(conn, "sign", sign_id, caller))


@router.post("/{sign_id}/inspections", status_code=201, summary="Record a sign inspection")
async def create_sign_inspection(
    engine: EngineDep, caller: Surveyor, sign_id: Id, body: InspectionCreate
) -> JSONBody:
    async with engine.begin() as conn:
        result = await inspections.record(conn, caller, "sign", sign_id, body.status, body.inspected_on, body.note,
                                          body.position, body.crs)  # fmt: skip
    return JSONBody(result, status_code=201)
