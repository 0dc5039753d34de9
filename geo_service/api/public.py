"""Public reads of place names and boundaries (no key needed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from geo_service.api.deps import ConnDep
from geo_service.api.params import Crs, DivisionCode
from geo_service.api.responses import GeoJSONBody
from geo_service.db.models import MARKER_STATUSES
from geo_service.domain.errors import InvalidInput
from geo_service.services import collections, features_query, place_names

router = APIRouter(prefix="/v1", tags=["place names and boundaries"])


@router.get("/place-names", summary="Search place names", response_class=GeoJSONBody)
async def read_place_names(
    conn: ConnDep,
    q: Annotated[
        str | None, Query(max_length=100, description="Chinese text, pinyin or a near spelling.")
    ] = None,
    division: DivisionCode = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str, Query(max_length=16)] = "approved",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    crs: Crs = "wgs84",
) -> GeoJSONBody:
    """`q` matches the name (substring), its pinyin (case, spaces and tones ignored; homophones too) and
    near spellings (trigram similarity), best match first."""
    return GeoJSONBody(await place_names.search(conn, q, division, category, status, limit, offset, crs))


@router.get(
    "/place-names/{place_name_id}", summary="One place name with its history", response_class=GeoJSONBody
)
async def read_place_name(conn: ConnDep, place_name_id: int, crs: Crs = "wgs84") -> GeoJSONBody:
    return GeoJSONBody(await place_names.get(conn, place_name_id, crs))


@router.get("/boundary-lines", summary="Boundary lines", response_class=GeoJSONBody)
async def read_boundary_lines(
    conn: ConnDep, district: DivisionCode = None, crs: Crs = "wgs84"
) -> GeoJSONBody:
    """Every boundary line (or those of one division), with marker counts and the last inspection."""
    coll = collections.STATIC["boundary-lines"]
    extra = "(t.left_code = :d OR t.right_code = :d)" if district else None
    page = await features_query.page(conn, coll, crs, 10_000, extra_where=extra, extra_params={"d": district})
    return GeoJSONBody(
        {"type": "FeatureCollection", "features": page.features, "numberReturned": len(page.features)}
    )


@router.get("/boundary-markers", summary="Boundary markers", response_class=GeoJSONBody)
async def read_boundary_markers(
    conn: ConnDep,
    line: Annotated[str | None, Query(max_length=32, description="Boundary line code.")] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    crs: Crs = "wgs84",
) -> GeoJSONBody:
    if status is not None and status not in MARKER_STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(MARKER_STATUSES)}")
    filters = {k: v for k, v in (("line_code", line), ("status", status)) if v is not None}
    coll = collections.STATIC["boundary-markers"]
    page = await features_query.page(conn, coll, crs, 10_000, filters=filters)
    return GeoJSONBody(
        {"type": "FeatureCollection", "features": page.features, "numberReturned": len(page.features)}
    )
