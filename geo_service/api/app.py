"""The FastAPI application factory: settings and engine are built here, never at import time."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from geo_service.api import (
    admin,
    attachments,
    boundaries,
    docs,
    errors,
    facilities,
    health,
    inspections,
    maps,
    ogc,
    ogc_tiles,
    people,
    place_names,
    planning,
    queries,
    session,
    signs,
    submissions,
    workbench,
)
from geo_service.api.fast_lane import FastLane
from geo_service.api.http_cache import HttpCache
from geo_service.api.middleware import (
    HeadAsGet,
    HeaderLimits,
    JsonBodyLimit,
    Language,
    RejectNulBytes,
    ReplicaRetry,
)
from geo_service.api.rate_limit import RateLimit
from geo_service.api.responses import COMMON_ERRORS, WRITE_ERRORS, JSONBody
from geo_service.db.engine import create_engine, database_url
from geo_service.db.replicas import ReadRouter, Replica
from geo_service.services import coverage
from geo_service.services.attachment_store import store_for
from geo_service.services.map_assets import STATIC_DIR
from geo_service.services.upload_pool import UploadPool
from geo_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for the given settings (defaults: environment and `.env`)."""
    settings = settings or Settings()
    app = FastAPI(
        title="geo_service",
        summary="Place names, administrative divisions and civil-affairs facilities",
        version="0.1.0",
        default_response_class=JSONBody,
        responses=COMMON_ERRORS,
        lifespan=_lifespan,
        docs_url=None,  # served by api/docs.py from the vendored Swagger UI
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.upload_pool = UploadPool(settings.upload_slots)
    app.state.attachment_store = store_for(settings)
    errors.install(app)
    _add_middleware(app, settings)
    _include_routers(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Engines (the writer's, and the reads' over the primary and replicas) for the app's life; warm-up."""
    settings: Settings = app.state.settings
    url = await asyncio.to_thread(database_url, settings)
    app.state.engine = create_engine(url, settings.pool_size, settings.statement_timeout_ms)
    # Reads have engines of their own (the primary's too): they keep their connections open between
    # requests, up to pool_size, and two more serve health and replica checks.
    read_pool = settings.pool_size + 2
    app.state.reads = ReadRouter(
        create_engine(url, read_pool, settings.statement_timeout_ms),
        [Replica(create_engine(r, read_pool, settings.statement_timeout_ms)) for r in settings.replica_urls],
        settings.replica_max_lag_s,
        settings.pool_size,
    )
    # Everything built so far (modules, schemas, the app) lives as long as the process: take it out of the
    # collector's reach. Full collections otherwise scan it all and stall every request for 80–150 ms.
    gc.freeze()
    warming = app.state.warming = (
        asyncio.create_task(coverage.warm(app.state.reads.primary)) if settings.warm_up else None
    )
    try:
        yield
    finally:
        if warming is not None:
            warming.cancel()
        app.state.upload_pool.close()
        await app.state.reads.dispose()
        await app.state.engine.dispose()


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """The middleware, innermost first (each one added wraps those before it)."""
    if settings.fast_lane:
        app.add_middleware(FastLane)
    app.add_middleware(RejectNulBytes)
    upload_limit = settings.max_upload_mb * 1024 * 1024 + 64 * 1024  # the file, its framing and form fields
    app.add_middleware(JsonBodyLimit, max_bytes=settings.max_json_kb * 1024, max_upload_bytes=upload_limit)
    app.add_middleware(HttpCache)
    app.add_middleware(HeadAsGet)  # outside the cache: a HEAD gets the GET's ETag, 304 and Content-Length
    if settings.replica_urls:
        app.add_middleware(ReplicaRetry)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Retry-After"],
        )
    app.add_middleware(
        RateLimit,
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
        trust_forwarded_for=settings.trust_forwarded_for,
    )
    app.add_middleware(HeaderLimits)  # before anything else reads the headers
    app.add_middleware(Language)  # outermost: every answer, middleware's too, in the client's language


def _include_routers(app: FastAPI) -> None:
    """The API's routers, the pages and their static files."""
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(queries.router)
    app.include_router(planning.router)
    for module in (session, place_names, boundaries, signs, submissions, facilities, admin, people):
        app.include_router(module.router, responses=WRITE_ERRORS)
    app.include_router(attachments.router, responses=WRITE_ERRORS)
    app.include_router(inspections.router, responses=WRITE_ERRORS)
    app.include_router(maps.router)
    app.include_router(ogc.router)
    app.include_router(ogc_tiles.router)
    app.include_router(workbench.router)  # the pages (templates/workbench, static/workbench)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
