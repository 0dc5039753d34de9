"""Alembic environment: runs migrations over the asyncpg engine given in the config's attributes."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from geo_service.db.models import Base

target_metadata = Base.metadata


def _include_object(obj: Any, name: Any, type_: Any, reflected: bool, compare_to: Any) -> bool:
    # PostGIS' own tables (spatial_ref_sys, tiger...) are not ours.
    return not (type_ == "table" and reflected and compare_to is None)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, include_object=_include_object)
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = create_async_engine(context.config.attributes["url"], poolclass=pool.NullPool)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


asyncio.run(_main())
