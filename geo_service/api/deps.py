"""FastAPI dependencies as Annotated aliases (all async: a sync dependency costs a thread hop per request)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.api.identity import has_credentials
from geo_service.db.raw import is_disconnect
from geo_service.db.replicas import ReadRouter
from geo_service.services.upload_pool import UploadPool
from geo_service.settings import Settings


async def get_engine(request: Request) -> AsyncEngine:
    """The primary: every write goes there."""
    engine: AsyncEngine = request.app.state.engine
    return engine


async def get_upload_pool(request: Request) -> UploadPool:
    """The worker processes that read and check uploads."""
    pool: UploadPool = request.app.state.upload_pool
    return pool


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@asynccontextmanager
async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection for one request of reads: autocommit, so no BEGIN/ROLLBACK round trips.

    Public reads go to a healthy replica when there is one; requests with a key read from the primary, so that
    staff see their own writes at once. A replica that fails is skipped from then on, and a request it failed is
    marked for one retry (on the primary) by ``ReplicaRetry``. A lost connection discards the idle ones kept
    for the same server (see ``ReadRouter.connection``). The busiest endpoints open it themselves (a
    dependency with ``yield`` costs a context stack per request); the others use ``ConnDep``.
    """
    router: ReadRouter = request.app.state.reads
    engine = router.primary if has_credentials(request) else await router.pick()
    replica = router.replica_of(engine)
    async with AsyncExitStack() as stack:
        try:
            conn = await stack.enter_async_context(router.connection(engine))
        except Exception:
            if replica is None:
                raise
            router.mark_down(replica)
            engine, replica = router.primary, None
            conn = await stack.enter_async_context(router.connection(engine))
        request.state.read_from = "replica" if replica else "primary"
        try:
            yield conn
        except Exception as exc:
            if _lost(exc):
                await router.drop_idle(engine)
                if replica is not None:
                    router.mark_down(replica)
                    request.state.replica_failed = True
            raise


async def get_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """``read_connection`` as a dependency."""
    async with read_connection(request) as conn:
        yield conn


def _lost(exc: BaseException) -> bool:
    """Whether an error means the connection (so the server) was lost, rather than a query error or a misuse."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", None)
    cause = getattr(orig, "__cause__", None) or orig or exc
    return is_disconnect(cause)


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
UploadPoolDep = Annotated[UploadPool, Depends(get_upload_pool)]
ConnDep = Annotated[AsyncConnection, Depends(get_connection)]
