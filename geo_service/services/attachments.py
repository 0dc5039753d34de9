"""Attachments: photos and approval documents uploaded by staff, referenced from proposals, signs and inspections.

A file is checked by its bytes (``attachment_files``), stored once by its SHA-256 (``attachment_store``) and
recorded here; the same bytes uploaded again get the same id. Links say what a file belongs to; an id that does
not exist is refused (422) and nothing is written. Only staff read attachments and the links to them.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.db.sql import Sql, compose, ident
from geo_service.domain.errors import FeatureErrors, NotFound, StorageUnavailable
from geo_service.i18n import t
from geo_service.services import attachment_files
from geo_service.services.attachment_store import AttachmentStore
from geo_service.services.keys import Caller

Target = Literal["place_name", "sign", "marker_inspection", "sign_inspection"]
#: What an attachment may belong to → its column in attachment_links.
_LINK_COLUMNS: dict[str, str] = {
    "place_name": "place_name_id",
    "sign": "sign_id",
    "marker_inspection": "marker_inspection_id",
    "sign_inspection": "sign_inspection_id",
}
#: Most attachments one record takes.
MAX_PER_RECORD = 20


def ids_sql(target: Target, record: Sql) -> Sql:
    """SQL for the JSON array of the attachment ids of the ``target`` record whose id is ``record`` (staff only)."""
    return compose(
        "(SELECT coalesce(json_agg(l.attachment_id ORDER BY l.attachment_id), '[]'::json) "
        "FROM attachment_links l WHERE l.{column} = {record})",
        column=ident(_LINK_COLUMNS[target]),
        record=record,
    )


@dataclass(frozen=True)
class StoredFile:
    """An attachment's record and bytes."""

    id: int
    content_type: str
    sha256: str
    data: bytes

    @property
    def filename(self) -> str:
        """The name it is served under (ours: a client's name for it is never echoed)."""
        return f"attachment-{self.id}.{attachment_files.EXTENSIONS[self.content_type]}"


async def upload(
    conn: AsyncConnection, store: AttachmentStore, caller: Caller, data: bytes
) -> dict[str, Any]:
    """Check and store a file; its id, content type, size and SHA-256 (the same id for the same bytes)."""
    facts = await asyncio.to_thread(attachment_files.check, data)
    sha256 = hashlib.sha256(data).hexdigest()
    # Stored before it is recorded: a record never names a missing file (a file without a record is harmless,
    # and the next upload of the same bytes records it).
    await asyncio.to_thread(store.put, sha256, data)
    row = (
        await conn.execute(
            text(
                "INSERT INTO attachments (sha256, content_type, bytes, width, height, uploaded_by) "
                "VALUES (:sha, :ct, :n, :w, :h, :who) "
                "ON CONFLICT (sha256) DO UPDATE SET sha256 = EXCLUDED.sha256 "
                "RETURNING id, (xmax = 0) AS created"
            ),
            {
                "sha": sha256,
                "ct": facts.content_type,
                "n": len(data),
                "w": facts.width,
                "h": facts.height,
                "who": caller.name,
            },
        )
    ).one()
    attachment_id = int(row[0])
    if row[1]:
        await audit.record(
            conn,
            caller.name,
            "upload",
            "attachment",
            str(attachment_id),
            None,
            {"sha256": sha256, "content_type": facts.content_type, "bytes": len(data)},
        )
    return {"id": attachment_id, "content_type": facts.content_type, "bytes": len(data), "sha256": sha256}


async def link(conn: AsyncConnection, target: Target, record_id: int, ids: list[int] | None) -> list[int]:
    """Attach the files ``ids`` to a record; 422 naming every id that is no attachment (nothing linked)."""
    wanted = sorted(set(ids or []))
    if not wanted:
        return []
    found = set(
        (
            await conn.execute(text("SELECT id FROM attachments WHERE id = ANY(:ids)"), {"ids": wanted})
        ).scalars()
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise FeatureErrors(
            t(
                "no attachment {ids}: upload files with POST /v1/attachments first",
                ids=", ".join(map(str, missing)),
            ),
            [{"rule": "attachment_ids", "message": t("no attachment {id}", id=i)} for i in missing],
        )
    insert = compose(
        "INSERT INTO attachment_links (attachment_id, {column}) SELECT unnest(CAST(:ids AS bigint[])), :r",
        column=ident(_LINK_COLUMNS[target]),
    )
    await conn.execute(
        text(insert),
        {"ids": wanted, "r": record_id},
    )
    return wanted


async def linked(conn: AsyncConnection, target: Target, record_ids: list[int]) -> dict[int, list[int]]:
    """The attachment ids of each of the records (staff only)."""
    query = compose(
        "SELECT {column}, attachment_id FROM attachment_links WHERE {column} = ANY(:ids) ORDER BY attachment_id",
        column=ident(_LINK_COLUMNS[target]),
    )
    rows = await conn.execute(
        text(query),
        {"ids": record_ids},
    )
    found: dict[int, list[int]] = {i: [] for i in record_ids}
    for record_id, attachment_id in rows.all():
        found[int(record_id)].append(int(attachment_id))
    return found


async def read(conn: AsyncConnection, store: AttachmentStore, attachment_id: int) -> StoredFile:
    """An attachment's bytes, checked against its SHA-256."""
    row = (
        await conn.execute(
            text("SELECT content_type, sha256 FROM attachments WHERE id = :id"), {"id": attachment_id}
        )
    ).first()
    if row is None:
        raise NotFound(t("no attachment {id}", id=attachment_id))
    content_type, sha256 = row
    try:
        data = await asyncio.to_thread(store.get, sha256)
    except FileNotFoundError:
        raise StorageUnavailable(
            t("the file of attachment {id} is missing from the store", id=attachment_id)
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise StorageUnavailable(t("the stored file of attachment {id} is damaged", id=attachment_id))
    return StoredFile(attachment_id, content_type, sha256, data)


async def thumbnail(conn: AsyncConnection, store: AttachmentStore, attachment_id: int) -> bytes:
    """A small upright JPEG of a photo attachment, without its EXIF; 404 for a document."""
    stored = await read(conn, store, attachment_id)
    if stored.content_type == attachment_files.PDF:
        raise NotFound(t("attachment {id} is a PDF document: it has no thumbnail", id=attachment_id))
    return await asyncio.to_thread(attachment_files.thumbnail, stored.data, stored.content_type)
