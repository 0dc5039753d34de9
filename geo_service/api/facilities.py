"""Facilities: editors create, update, close and import them (closing keeps the record)."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from geo_service.api.auth import OPTIONAL_KEY, Editor, Reader
from geo_service.api.conditional import IfMatchDep, versioned_feature, versioned_json
from geo_service.api.deps import ConnDep, EngineDep, SettingsDep, UploadPoolDep
from geo_service.api.params import Crs, Id
from geo_service.api.responses import GeoJSONBody, JSONBody
from geo_service.api.schemas import FacilityCreate, FacilityUpdate
from geo_service.api.submissions import limits_of, save_upload
from geo_service.services import facilities, facility_import, facility_types
from geo_service.services.upload_parse import Upload
from geo_service.services.vector_files import ACCEPTED

router = APIRouter(prefix="/v1/facilities", tags=["facilities"])


@router.post("", status_code=201, summary="Create a facility", response_class=GeoJSONBody)
async def create_facility(engine: EngineDep, caller: Editor, body: FacilityCreate) -> GeoJSONBody:
    """422 outside every loaded district; 409 naming the active facility of the same type and name within
    10 m (the same facility entered twice)."""
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
        feature = await facilities.update(
            conn, caller, facility_id, version, body.model_dump(exclude_unset=True), body.crs
        )
    return versioned_feature(feature)


@router.delete("/{facility_id}", summary="Close a facility")
async def delete_facility(
    engine: EngineDep,
    caller: Editor,
    facility_id: Id,
    if_match: IfMatchDep,
    reason: Annotated[str | None, Query(max_length=500, description="Why it closed (staff read it).")] = None,
    closed_on: Annotated[dt.date | None, Query(description="The day it closed (default: today).")] = None,
) -> JSONBody:
    """Marks it closed (not deleted) with the reason and date: it stops appearing in nearest and coverage, its
    history stays. Needs If-Match like an update; 409 when it is closed already."""
    async with engine.begin() as conn:
        version = await if_match.check(conn, "facility", facility_id)
        closed = await facilities.close(conn, caller, facility_id, version, reason, closed_on)
    return versioned_json(closed, closed["version"])


@router.post("/import", status_code=201, summary="Import facilities from a file")
async def import_facilities(
    engine: EngineDep,
    settings: SettingsDep,
    pool: UploadPoolDep,
    caller: Editor,
    file: Annotated[UploadFile, File(description=f"The file: {ACCEPTED}.")],
    type: Annotated[str, Form(max_length=64, description="The facility type of every row.")],
    crs: Annotated[
        str, Form(description="wgs84, cgcs2000, gcj02, bd09 or EPSG:n: what the file's coordinates are.")
    ],
    dry_run: Annotated[bool, Form(description="Check only; write nothing.")] = False,
    encoding: Annotated[
        str | None, Form(description="Text encoding when not UTF-8 or GBK.", max_length=30)
    ] = None,
    layer: Annotated[
        str | None, Form(description="The layer to read, for a GeoPackage of several.", max_length=200)
    ] = None,
) -> JSONBody:
    """Every row or none: 201 with the new ids by row; 422 listing every row that cannot be imported (its
    spreadsheet `row` and `name`: no name, not a point, outside every district, a duplicate of an active
    facility or of another row) and nothing written; 413 over the upload limits; 503 `busy` when every upload
    slot is taken. A dry run answers 200 and writes nothing. Columns: name (名称), address (地址), phone (电话),
    opening_hours, capacity, status; others are kept as attributes."""
    limits = limits_of(settings)
    folder = Path(tempfile.mkdtemp(prefix="geo-upload-"))
    try:
        path, shown = await save_upload(file, folder, limits.max_bytes)
        upload = Upload(path, shown, crs, encoding=encoding, layer=layer, dry_run=dry_run)
        parsed = await facility_import.parse(engine, pool, upload, limits, type)
        async with engine.begin() as conn:
            result = await facility_import.commit(conn, caller, parsed, upload, type)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    return JSONBody(result, status_code=200 if dry_run else 201)


@router.get("/types", summary="Facility types")
async def read_facility_types(conn: ConnDep) -> JSONBody:
    return JSONBody([t.__dict__ for t in await facility_types.all_types(conn)])


@router.get("/{facility_id}", summary="One facility", response_class=GeoJSONBody, openapi_extra=OPTIONAL_KEY)
async def read_facility(conn: ConnDep, caller: Reader, facility_id: Id, crs: Crs = "wgs84") -> GeoJSONBody:
    """Whatever its status (a closed one too, with `closed_on`), with the strong ETag of its version for
    If-Match; staff also read `closed_reason`."""
    return versioned_feature(await facilities.get(conn, facility_id, crs, caller))
