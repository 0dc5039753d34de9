"""The audit log: who changed what, when, with before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.models import AuditLog


async def record(
    conn: AsyncConnection,
    actor: str | None,
    action: str,
    entity: str,
    entity_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry inside the caller's transaction."""
    await conn.execute(
        insert(AuditLog).values(
            actor=actor, action=action, entity=entity, entity_id=entity_id, before=before, after=after
        )
    )
