"""What coverage requests with random radii leave behind: database growth (and ``coverage_pieces`` while it
existed) and the memory of the serving process.

Each distinct radius is a new union of service discs. Before migration 0007 each one was stored in the UNLOGGED
table ``coverage_pieces`` and never removed; now each process keeps the last few in memory.

Usage: python -m bench.coverage_pieces_growth [--requests 1000] [--type elderly_canteen] [--url URL]
Without --url, a throwaway cluster with the sample loaded (as the tests make it); with --url, that database
(the sample, or the bench data, loaded).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from bench.common import connect, rss_mb
from geo_service.api.app import create_app
from geo_service.db.embedded import EmbeddedCluster
from geo_service.db.engine import create_engine, prepare_database
from geo_service.services import service_areas
from geo_service.services.sample_load import load_sample
from geo_service.settings import Settings


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A cluster of its own on a free port, with the schema and the sample loaded."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    home = Path(tempfile.mkdtemp(prefix="geo-bench-pieces-"))
    cluster = EmbeddedCluster(home, port, "geo_service")
    cluster.start()
    try:
        prepare_database(cluster.url())

        async def load() -> None:
            engine = create_engine(cluster.url(), pool_size=1)
            try:
                await load_sample(engine, Settings().sample_dir)
            finally:
                await engine.dispose()

        asyncio.run(load())
        yield cluster.url()
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


async def sizes(url: str) -> tuple[int, int | None]:
    """The database's size and that of ``coverage_pieces`` (None when there is no such table), in bytes."""
    conn = await connect(url)
    try:
        database = await conn.fetchval("SELECT pg_database_size(current_database())")
        pieces = await conn.fetchval(
            "SELECT pg_total_relation_size(to_regclass('coverage_pieces')) "
            "WHERE to_regclass('coverage_pieces') IS NOT NULL"
        )
        return int(database), None if pieces is None else int(pieces)
    finally:
        await conn.close()


def run(url: str, requests: int, ftype: str, seed: int) -> None:
    rng = random.Random(seed)
    radii = [rng.randint(100, 5000) for _ in range(requests)]  # whole metres, as a client would send them
    database_before, pieces_before = asyncio.run(sizes(url))
    settings = Settings(database_url=url, rate_limit_per_minute=0, warm_up=False)
    with TestClient(create_app(settings)) as http:
        rss_before = rss_mb([os.getpid()])
        started = time.monotonic()
        for radius in radii:
            resp = http.get("/v1/coverage", params={"type": ftype, "radius_m": radius, "level": "district"})
            assert resp.status_code == 200, resp.text
        elapsed = time.monotonic() - started
        rss_after = rss_mb([os.getpid()])
    database_after, pieces_after = asyncio.run(sizes(url))
    mb = 1024 * 1024
    distinct = len(set(radii))
    print(
        f"{requests:,} coverage requests ({ftype}, {distinct:,} distinct radii of 100-5,000 m) in {elapsed:.0f} s"
    )
    if pieces_after is None:
        print("coverage_pieces: no such table (nothing stored in the database)")
    else:
        before = (pieces_before or 0) / mb
        print(
            f"coverage_pieces (pg_total_relation_size): {before:,.1f} MB before, {pieces_after / mb:,.1f} MB after"
        )
    grown = (database_after - database_before) / mb
    print(
        f"database (pg_database_size): {database_before / mb:,.1f} MB -> {database_after / mb:,.1f} MB ({grown:+,.1f})"
    )
    held = len(service_areas._areas_cache.items)
    print(f"serving process: RSS {rss_before:,.0f} MB -> {rss_after:,.0f} MB; unions kept in memory: {held}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--type", default="elderly_canteen")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--url", help="a database with the sample loaded (default: a throwaway cluster)")
    args = parser.parse_args()
    if args.url:
        run(Settings(database_url=args.url).database_url or args.url, args.requests, args.type, args.seed)
    else:
        with throwaway_database() as url:
            run(url, args.requests, args.type, args.seed)


if __name__ == "__main__":
    main()
