"""Place-name signs: registered, inspected and retired by surveyors; the ones to replace listed publicly, per
district, as work orders (JSON or CSV)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from geo_service.api.auth import OPTIONAL_KEY, Reader, Surveyor
from geo_service.api.conditional import IfMatchDep, versioned_feature
from geo_service.api.deps import ConnDep, EngineDep
from geo_service.api.params import Crs, Id
from geo_service.api.responses import GeoJSONBody, JSONBody
from geo_service.api.schemas import InspectionCreate, SignCreate, SignRetire
from geo_service.services import exports, inspections, signs
from geo_service.services.district_limits import default_district

router = APIRouter(prefix="/v1/place-name-signs", tags=["place-name signs"])


@router.get(
    "",
    summary="Place-name signs; work orders of signs to replace",
    response_class=GeoJSONBody,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    openapi_extra=OPTIONAL_KEY,
)
async def read_signs(
    conn: ConnDep,
    caller: Reader,
    to_replace: Annotated[
        bool | None, Query(description="true: standing signs that show a name their place no longer has.")
    ] = None,
    district: Annotated[
        str | None,
        Query(
            pattern=r"^\d{6}$",
            description="The district (6-digit code) the signs stand in. Default: the caller's own district "
            "for a caller limited to one, else all.",
        ),
    ] = None,
    crs: Crs = "wgs84",
    format: Annotated[Literal["json", "csv"], Query(description="json, or csv for a work order.")] = "json",
) -> Response:
    """With `to_replace=true`: the work order, longest waiting first, each sign with its place's current name
    (`current_name`, `current_pinyin`), the name it shows (`text`), its position and `days_since_rename`.
    A caller limited to a district gets that district's signs unless it asks for another."""
    district = default_district(caller, district)
    listed = await signs.listing(conn, to_replace, district, crs)
    if format == "json":
        return GeoJSONBody(listed)
    stem = f"signs_to_replace_{district or 'all'}" if to_replace else f"signs_{district or 'all'}"
    return Response(
        await signs.work_order_csv(conn, listed),
        media_type=exports.MEDIA_TYPES["csv"],
        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
    )


@router.post("", status_code=201, summary="Register a sign", response_class=GeoJSONBody)
async def create_sign(engine: EngineDep, caller: Surveyor, body: SignCreate) -> GeoJSONBody:
    """422 when the text or the romanisation does not match the approved name, when the sign stands more than
    500 m (geodesic) from the place, or when an attachment id is unknown; 403 for a caller limited to another
    district than the place's or the one the sign stands in."""
    async with engine.begin() as conn:
        feature = await signs.register(
            conn,
            caller,
            body.place_name_id,
            body.position,
            body.installed_on,
            body.text,
            body.pinyin,
            body.crs,
            body.attachment_ids,
        )
    return versioned_feature(feature, status_code=201)


@router.get(
    "/{sign_id}", summary="One place-name sign", response_class=GeoJSONBody, openapi_extra=OPTIONAL_KEY
)
async def read_sign(conn: ConnDep, caller: Reader, sign_id: Id, crs: Crs = "wgs84") -> GeoJSONBody:
    """With the strong ETag of its version (`"3"`), for If-Match on a change; staff also see its attachments."""
    return versioned_feature(await signs.get(conn, sign_id, crs, caller))


@router.post("/{sign_id}/retire", summary="Retire a sign (replaced or removed)", response_class=GeoJSONBody)
async def retire_sign(
    engine: EngineDep,
    caller: Surveyor,
    sign_id: Id,
    body: SignRetire,
    if_match: IfMatchDep,
    crs: Crs = "wgs84",
) -> GeoJSONBody:
    """Needs If-Match with the sign's ETag (428 without, 412 when it changed since); 409 when it was retired
    already; 403 for a caller limited to another district than the sign's. A retired sign leaves the signs to
    replace and takes no more inspections; its record stays."""
    async with engine.begin() as conn:
        await if_match.check(conn, "sign", sign_id)
        feature = await signs.retire(conn, caller, sign_id, body.reason, body.on, crs)
    return versioned_feature(feature)


@router.get("/{sign_id}/inspections", summary="A sign's inspection history", openapi_extra=OPTIONAL_KEY)
async def read_sign_inspections(conn: ConnDep, caller: Reader, sign_id: Id) -> JSONBody:
    """Dates and statuses; notes, inspectors, positions and photos with a key."""
    return JSONBody(await inspections.history(conn, "sign", sign_id, caller))


@router.post("/{sign_id}/inspections", status_code=201, summary="Record a sign inspection")
async def create_sign_inspection(
    engine: EngineDep, caller: Surveyor, sign_id: Id, body: InspectionCreate
) -> JSONBody:
    """409 for a retired sign; 422 for an unknown attachment id; 403 for a caller limited to another district."""
    async with engine.begin() as conn:
        result = await inspections.record(
            conn,
            caller,
            "sign",
            sign_id,
            body.status,
            body.inspected_on,
            body.note,
            body.position,
            body.crs,
            inspectors=body.inspector_list(),
            attachment_ids=body.attachment_ids,
        )
    return JSONBody(result, status_code=201)
