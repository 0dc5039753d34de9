"""Engines and the database's life: where it is (embedded or given), creating it, migrating it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from geo_service.db.embedded import EmbeddedCluster
from geo_service.db.sql import compose, configured_ident
from geo_service.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
EXTENSIONS = ("postgis", "pg_trgm", "btree_gist")


def embedded_cluster(settings: Settings) -> EmbeddedCluster:
    """The embedded cluster the settings describe."""
    return EmbeddedCluster(settings.data_dir, settings.embedded_port, settings.embedded_database)


def database_url(settings: Settings, start: bool = True) -> str:
    """The URL to use: the configured one, or the embedded cluster's (started when ``start``)."""
    if settings.database_url:
        return settings.database_url
    cluster = embedded_cluster(settings)
    if start:
        cluster.start()
    return cluster.url()


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def ensure_database(url: str) -> None:
    """Create the database (if it can and must) and the PostGIS and pg_trgm extensions."""
    name = make_url(url).database
    try:
        conn = await asyncpg.connect(_dsn(url))
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(_dsn(url, "postgres"))
        try:
            await admin.execute(str(compose("CREATE DATABASE {name}", name=configured_ident(name or ""))))
        finally:
            await admin.close()
        conn = await asyncpg.connect(_dsn(url))
    try:
        for ext in EXTENSIONS:
            await conn.execute(
                str(compose("CREATE EXTENSION IF NOT EXISTS {ext}", ext=configured_ident(ext)))
            )
    finally:
        await conn.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest migration (blocking; call from a thread inside a loop)."""
    command.upgrade(alembic_config(url), "head")


def prepare_database(url: str) -> None:
    """Create if needed, add extensions, migrate: everything before the first query."""
    asyncio.run(ensure_database(url))
    migrate(url)


def create_engine(url: str, pool_size: int = 10, statement_timeout_ms: int | None = None) -> AsyncEngine:
    """An asyncpg engine with a fixed pool and a statement timeout.

    No overflow: connections opened and closed under load cost a fork and a catalogue warm-up each, far
    more than waiting for a pooled one. No pre-ping either: a disconnect invalidates the whole pool, so after
    an outage one query fails and the next ones reconnect.
    """
    # Short OLTP queries: JIT compilation and parallel workers cost more (10–20 ms) than they save.
    server_settings = {
        "application_name": "geo_service",
        "jit": "off",
        "max_parallel_workers_per_gather": "0",
    }
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=10,
        connect_args={"server_settings": server_settings, "timeout": 5, "command_timeout": 60},
    )
