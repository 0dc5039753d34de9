"""Attachments: staff upload photos and approval documents, then reference them by id; only staff read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response

from geo_service.api.auth import Surveyor
from geo_service.api.deps import ConnDep, EngineDep, SettingsDep
from geo_service.api.params import Id
from geo_service.api.responses import JSONBody, error_response
from geo_service.domain.errors import PayloadTooLarge
from geo_service.i18n import t
from geo_service.services import attachment_files, attachments
from geo_service.services.attachment_store import AttachmentStore

router = APIRouter(prefix="/v1/attachments", tags=["attachments"])
CHUNK = 1024 * 1024
#: A served file is data, never a page: no scripts, no plugins, no frames, even if a browser opens it.
_SERVED = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


async def get_store(request: Request) -> AttachmentStore:
    """The attachment store the app was built with."""
    store: AttachmentStore = request.app.state.attachment_store
    return store


StoreDep = Annotated[AttachmentStore, Depends(get_store)]


async def _read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    parts, size = [], 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(t("an attachment may be at most {mb} MB", mb=max_bytes // (1024 * 1024)))
        parts.append(chunk)
    return b"".join(parts)


@router.post(
    "",
    status_code=201,
    summary="Upload a photo or a document",
    responses={415: error_response("Not a photo or document the service takes (its bytes decide)")},
)
async def create_attachment(
    engine: EngineDep,
    settings: SettingsDep,
    store: StoreDep,
    caller: Surveyor,
    file: Annotated[UploadFile, File(description=f"The file: {attachment_files.ACCEPTED}.")],
) -> JSONBody:
    """201 `{"id", "content_type", "bytes", "sha256"}`. What the file is comes from its bytes, never its name:
    415 for another kind of file, 422 for a damaged one, 413 over the size limit (10 MB by default). The same
    bytes uploaded again keep their id. Reference the id as `attachment_ids` in proposals, signs and
    inspections."""
    data = await _read_limited(file, settings.attachment_max_mb * 1024 * 1024)
    async with engine.begin() as conn:
        stored = await attachments.upload(conn, store, caller, data)
    return JSONBody(stored, status_code=201)


@router.get(
    "/{attachment_id}",
    summary="An attachment's file (staff)",
    response_class=Response,
    responses={200: {"content": {ctype: {} for ctype in attachment_files.EXTENSIONS}}},
)
async def read_attachment(conn: ConnDep, store: StoreDep, caller: Surveyor, attachment_id: Id) -> Response:
    """The file as uploaded (a photo keeps its EXIF: only staff read it)."""
    stored = await attachments.read(conn, store, attachment_id)
    disposition = "attachment" if stored.content_type == attachment_files.PDF else "inline"
    headers = {
        **_SERVED,
        "Content-Disposition": f'{disposition}; filename="{stored.filename}"',
        "ETag": f'"{stored.sha256}"',
    }
    return Response(stored.data, media_type=stored.content_type, headers=headers)


@router.get(
    "/{attachment_id}/thumbnail",
    summary="A photo attachment's thumbnail (staff)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def read_attachment_thumbnail(
    conn: ConnDep, store: StoreDep, caller: Surveyor, attachment_id: Id
) -> Response:
    """A JPEG at most 320 pixels across, upright, without EXIF; 404 for a PDF."""
    data = await attachments.thumbnail(conn, store, attachment_id)
    return Response(data, media_type="image/jpeg", headers=_SERVED)
