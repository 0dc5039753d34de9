"""Health: is the service up and can it reach its database."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import text

from geo_service.api.deps import EngineDep
from geo_service.api.responses import JSONBody

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service and database health")
async def read_health(engine: EngineDep) -> JSONBody:
    """200 when the database answers within 2 s, 503 otherwise (recovers by itself)."""
    for _ in range(2):  # a pooled connection from before an outage fails once, and the pool is renewed
        try:
            async with asyncio.timeout(2.0), engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return JSONBody({"status": "ok", "database": "ok"})
        except Exception:
            continue
    return JSONBody({"status": "degraded", "database": "unavailable"}, status_code=503)


@router.get("/favicon.ico", include_in_schema=False)
async def read_favicon() -> Response:
    """No icon: an empty answer instead of a 404 in every browser console."""
    return Response(status_code=204)
