"""Health: is the service up and can it reach its database."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from geo_service.api.deps import EngineDep
from geo_service.api.responses import JSONBody
from geo_service.db.replicas import ReadRouter

router = APIRouter(tags=["health"])


async def _answers(engine: AsyncEngine, sql: str = "SELECT 1") -> object:
    """What the server returns for ``sql`` within 2 s (one retry: a pooled connection from before an outage
    fails once, and the pool is renewed); raises when it cannot."""
    for attempt in range(2):
        try:
            async with asyncio.timeout(2.0), engine.connect() as conn:
                return (await conn.execute(text(sql))).scalar_one()
        except Exception:
            if attempt:
                raise
    raise AssertionError("unreachable")


@router.get("/health", summary="Service and database health")
async def read_health(request: Request, engine: EngineDep) -> JSONBody:
    """200 when the database answers within 2 s, 503 otherwise (recovers by itself). With replicas, also where
    public reads go now (`reads_from`) and each replica's state and lag."""
    try:
        await _answers(engine)
    except Exception:
        return JSONBody({"status": "degraded", "database": "unavailable"}, status_code=503)
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    router: ReadRouter = request.app.state.reads
    if router.replicas:
        reads = await router.pick()
        try:
            in_recovery = await _answers(reads, "SELECT pg_is_in_recovery()")
        except Exception:
            in_recovery = False
        body["reads_from"] = "replica" if in_recovery else "primary"
        body["replicas"] = [{"name": r.name, "state": r.state, "lag_s": r.lag_s} for r in router.replicas]
    return JSONBody(body)


@router.get("/favicon.ico", include_in_schema=False)
async def read_favicon() -> Response:
    """No icon: an empty answer instead of a 404 in every browser console."""
    return Response(status_code=204)
