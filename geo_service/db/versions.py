"""Data-set version counters: caches and ETags key on them.

Every write bumps its data set in the database itself (statement-level triggers, migration 0006), whoever
makes it: the service, psql or an ETL job. Facilities also bump one set per type touched (``facility_type``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw

DATA_SETS = ("divisions", "facilities", "boundaries", "place_names", "signs")


def facility_type(code: str) -> str:
    """The data set of one facility type's facilities (so that a canteen edit leaves stations' caches alone)."""
    return f"facilities:{code}"


async def version_of(conn: AsyncConnection, name: str) -> int:
    """The version of one data set (0 before its first write)."""
    return (await versions_of(conn, name))[name]


async def versions_of(conn: AsyncConnection, *names: str) -> dict[str, int]:
    """The versions of the named data sets, in one query (0 before a first write)."""
    rows = await raw.fetch(
        conn, "SELECT name, version FROM data_versions WHERE name = ANY($1::text[])", names
    )
    found = {name: int(version) for name, version in rows}
    return {name: found.get(name, 0) for name in names}


async def current(conn: AsyncConnection) -> dict[str, int]:
    """The current version of every data set."""
    return await versions_of(conn, *DATA_SETS)
