"""Data-set version counters: every write bumps its data set, caches and ETags key on them."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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


async def current(conn: AsyncConnection) -> dict[str, int]:
    """The current version of every data set."""
    rows = (await conn.execute(text("SELECT name, version FROM data_versions"))).all()
    found = {name: int(version) for name, version in rows}
    return {name: found.get(name, 0) for name in DATA_SETS}
