"""Data-set version counters: every write bumps its data set, caches and ETags key on them."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw

DATA_SETS = ("divisions", "facilities", "boundaries", "place_names", "signs")


async def bump(conn: AsyncConnection, *names: str) -> None:
    """Increment the version of each named data set (inside the caller's transaction)."""
    await conn.execute(
        text(
            "INSERT INTO data_versions (name, version) SELECT unnest(CAST(:names AS text[])), 1 "
            "ON CONFLICT (name) DO UPDATE SET version = data_versions.version + 1"
        ),
        {"names": list(names)},
    )


def facility_type(code: str) -> str:
    """The data set of one facility type's facilities (so that a canteen edit leaves stations' caches alone)."""
    return f"facilities:{code}"


async def facilities_changed(conn: AsyncConnection, *types: str) -> None:
    """Bump the facilities data set and that of each type concerned."""
    await bump(conn, "facilities", *(facility_type(t) for t in sorted(set(types))))


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
