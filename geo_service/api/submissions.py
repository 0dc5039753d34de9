"""Bulk submissions of place names by surveyors: one file, all features or none."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from geo_service.api.auth import Surveyor
from geo_service.api.deps import ConnDep, EngineDep, SettingsDep, UploadPoolDep
from geo_service.api.responses import JSONBody
from geo_service.domain.errors import InvalidInput, PayloadTooLarge
from geo_service.i18n import t
from geo_service.services import submissions
from geo_service.services.upload_parse import Limits, Upload
from geo_service.services.vector_files import ACCEPTED, accepted, kind_suffix

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])
CHUNK = 1024 * 1024


def limits_of(settings: Any) -> Limits:
    return Limits(max_bytes=settings.max_upload_mb * 1024 * 1024, max_features=settings.max_upload_features)


async def save_upload(upload: UploadFile, folder: Path, max_bytes: int) -> tuple[Path, str]:
    """The upload on disk under a name of ours (only its suffix is the client's); the name the client gave."""
    shown = Path(upload.filename or "").name[:200]  # the client's folders are not ours
    if not shown or shown.startswith("."):
        raise InvalidInput(
            t("the uploaded file needs a name with its extension ({accepted})", accepted=accepted())
        )
    target = folder / f"upload{kind_suffix(shown)}"
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(t("the file is larger than {mb} MB", mb=max_bytes // (1024 * 1024)))
            out.write(chunk)
    return target, shown


@router.post("", status_code=201, summary="Upload place names in bulk")
async def create_submission(
    engine: EngineDep,
    settings: SettingsDep,
    pool: UploadPoolDep,
    caller: Surveyor,
    file: Annotated[UploadFile, File(description=f"The file: {ACCEPTED}.")],
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
    layer: Annotated[
        str | None, Form(description="The layer to read, for a GeoPackage of several.", max_length=200)
    ] = None,
) -> JSONBody:
    """201 with the new ids and warnings; 422 with every error by feature (row and name) and nothing written;
    413 when the file or its feature count is over the limits; 503 `busy` when every upload slot is taken.
    A dry run answers 200 and writes nothing."""
    limits = limits_of(settings)
    folder = Path(tempfile.mkdtemp(prefix="geo-upload-"))
    try:
        path, shown = await save_upload(file, folder, limits.max_bytes)
        upload = Upload(path, shown, crs, category, encoding, layer, dry_run)
        parsed = await submissions.parse(engine, pool, upload, limits)
        async with engine.begin() as conn:
            result = await submissions.commit(conn, caller, parsed, upload)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    return JSONBody(result, status_code=200 if dry_run else 201)


@router.get("/{submission_id}", summary="A submission as it was accepted")
async def read_submission(conn: ConnDep, caller: Surveyor, submission_id: str) -> JSONBody:
    return JSONBody(await submissions.get(conn, submission_id[:36]))
