"""Boundary lines and markers: public reads; marker inspections with a key."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from geo_service.api.auth import OPTIONAL_KEY, Reader, Surveyor
from geo_service.api.conditional import versioned_feature
from geo_service.api.deps import ConnDep, EngineDep
from geo_service.api.ogc import next_href, request_url
from geo_service.api.params import Crs, DivisionCode, Id
from geo_service.api.responses import GeoJSONBody, JSONBody
from geo_service.api.schemas import InspectionCreate
from geo_service.db.sql import Sql
from geo_service.domain.errors import NotFound
from geo_service.i18n import t
from geo_service.services import collections, features_query, inspections

router = APIRouter(prefix="/v1", tags=["boundaries"])


@router.get("/boundary-lines", summary="Boundary lines", response_class=GeoJSONBody)
async def read_boundary_lines(
    conn: ConnDep, district: DivisionCode = None, crs: Crs = "wgs84"
) -> GeoJSONBody:
    """Every boundary line (or those of one division), with marker counts and the last inspection."""
    coll = collections.STATIC["boundary-lines"]
    extra = Sql("(t.left_code = :d OR t.right_code = :d)") if district else None
    page = await features_query.page(conn, coll, crs, 10_000, extra_where=extra, extra_params={"d": district})
    return GeoJSONBody(
        {"type": "FeatureCollection", "features": page.features, "numberReturned": len(page.features)}
    )


@router.get("/boundary-markers", summary="Boundary markers", response_class=GeoJSONBody)
async def read_boundary_markers(
    request: Request,
    conn: ConnDep,
    line: Annotated[str | None, Query(max_length=32, description="Boundary line code.")] = None,
    status: Literal["intact", "damaged", "missing", "moved"] | None = None,
    crs: Crs = "wgs84",
    limit: Annotated[int, Query(ge=1, le=10_000, description="Markers per page (1–10,000).")] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Markers to skip.")] = 0,
    after: Annotated[
        str | None, Query(max_length=64, description="Keyset cursor (from a next link).")
    ] = None,
) -> GeoJSONBody:
    """Markers in id order, a page at a time: a `next` link (as on OGC items) until the last page."""
    filters = {k: v for k, v in (("line_code", line), ("status", status)) if v is not None}
    coll = collections.STATIC["boundary-markers"]
    page = await features_query.page(conn, coll, crs, limit, offset, after, filters=filters)
    here = request_url(request)
    links = [{"href": here, "rel": "self", "type": "application/geo+json"}]
    if page.next_after is not None:
        links.append(
            {"href": next_href(here, page.next_after), "rel": "next", "type": "application/geo+json"}
        )
    body = {"type": "FeatureCollection", "features": page.features, "numberReturned": len(page.features)}
    return GeoJSONBody({**body, "links": links})


@router.get("/boundary-markers/{marker_id}", summary="One boundary marker", response_class=GeoJSONBody)
async def read_boundary_marker(conn: ConnDep, marker_id: Id, crs: Crs = "wgs84") -> GeoJSONBody:
    """With the strong ETag of its version (`"3"`), for If-Match on a change."""
    try:
        marker = await features_query.one(conn, collections.STATIC["boundary-markers"], str(marker_id), crs)
    except NotFound:
        raise NotFound(t("no boundary marker {id}", id=marker_id)) from None
    return versioned_feature(marker)


@router.get(
    "/boundary-markers/{marker_id}/inspections",
    summary="A marker's inspection history",
    openapi_extra=OPTIONAL_KEY,
)
async def read_marker_inspections(conn: ConnDep, caller: Reader, marker_id: Id) -> JSONBody:
    """Dates and statuses; notes, inspectors, positions and photos with a key."""
    return JSONBody(await inspections.history(conn, "marker", marker_id, caller))


@router.post(
    "/boundary-markers/{marker_id}/inspections", status_code=201, summary="Record a marker inspection"
)
async def create_marker_inspection(
    engine: EngineDep, caller: Surveyor, marker_id: Id, body: InspectionCreate
) -> JSONBody:
    """Every inspection stays in the history; the marker's status becomes that of its latest inspection.
    422 for a `moved` position over 1 km (geodesic) from the marker without `"confirm_far_move": true`, for an
    inspector whose `side` is not one of the line's two divisions, or for an unknown attachment id."""
    async with engine.begin() as conn:
        result = await inspections.record(
            conn,
            caller,
            "marker",
            marker_id,
            body.status,
            body.inspected_on,
            body.note,
            body.position,
            body.crs,
            inspectors=body.inspector_list(),
            confirm_far_move=body.confirm_far_move,
            attachment_ids=body.attachment_ids,
        )
    return JSONBody(result, status_code=201)
