"""Bulk submissions of place names by surveyors: one file, all features or none."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile

from geo_service.api.auth import Surveyor
from geo_service.api.deps import ConnDep, EngineDep, SettingsDep
from geo_service.api.responses import JSONBody
from geo_service.domain.errors import InvalidInput, PayloadTooLarge
from geo_service.services import submissions

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])
CHUNK = 1024 * 1024


def limits_of(settings: Any) -> submissions.Limits:
    return submissions.Limits(
        max_bytes=settings.max_upload_mb * 1024 * 1024, max_features=settings.max_upload_features
    )


async def _save(upload: UploadFile, folder: Path, max_bytes: int) -> Path:
    name = Path(upload.filename or "upload").name  # the client's folders are not ours
    if not name or name.startswith("."):
        raise InvalidInput("the uploaded file needs a name with its extension (.geojson, .gpkg, .zip, .csv)")
    target = folder / name
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
            out.write(chunk)
    return target


@router.post("", status_code=201, summary="Upload place names in bulk")
async def create_submission(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    caller: Surveyor,
    file: Annotated[
        UploadFile, File(description=".geojson, .gpkg, zipped Shapefile or .csv (lon/lat or wkt).")
    ],
    crs: Annotated[
        str, Form(description="wgs84, cgcs2000, gcj02, bd09 or EPSG:n: what the file's coordinates are.")
    ],
    category: Annotated[
        str | None, Form(description="Category of every feature (else a 'category' column).")
    ] = None,
    dry_run: Annotated[bool, Form(description="Check only; write nothing.")] = False,
    encoding: Annotated[
        str | None, Form(description="Text encoding when not UTF-8 or GBK.", max_length=30)
    ] = None,
) -> JSONBody:
    """201 with the new ids and warnings; 422 with every error by feature index and nothing written;
    413 when the file or its feature count is over the limits. A dry run answers 200 and writes nothing."""
    limits = limits_of(settings)
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limits.max_bytes + 64 * 1024:
        raise PayloadTooLarge(f"the upload is larger than {settings.max_upload_mb} MB")
    folder = Path(tempfile.mkdtemp(prefix="geo-upload-"))
    try:
        path = await _save(file, folder, limits.max_bytes)
        async with engine.begin() as conn:
            result = await submissions.submit(
                conn, caller, path, path.name, category, crs, dry_run, encoding, limits
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return JSONBody(result, status_code=200 if dry_run else 201)


@router.get("/{submission_id}", summary="A submission as it was accepted")
async def read_submission(conn: ConnDep, caller: Surveyor, submission_id: str) -> JSONBody:
    return JSONBody(await submissions.get(conn, submission_id[:36]))
