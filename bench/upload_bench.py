"""Bulk upload of 100,000 valid street features: a dry run and the real, all-or-nothing submission; then
/health latency while two uploads of 200,000 features are checked at once (the upload work runs in worker
processes, so the event loop keeps answering).

Usage: python -m bench.upload_bench [--features 100000] [--concurrent-features 200000]
Runs against the bench database (the sample is loaded if missing; its own proposals are removed afterwards).
Every upload is a cold answer: nothing about an upload is cached.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pypinyin import Style, lazy_pinyin

from bench.common import bench_url, connect, prepare, served
from geo_service.domain.naming_rules import check_forbidden
from geo_service.domain.romanize import romanize_syllables, syllables_many
from geo_service.settings import Settings


def distinct_syllable_chars(n: int = 420) -> list[str]:
    """Common characters (GB2312 level 1) each with a syllable no other has."""
    chars, seen = [], set()
    for lead, trail in itertools.product(range(0xB0, 0xD8), range(0xA1, 0xFF)):
        try:
            ch = bytes([lead, trail]).decode("gb2312")
        except UnicodeDecodeError:
            continue
        syl = lazy_pinyin(ch, style=Style.NORMAL)[0]
        if syl.isalpha() and syl not in seen:
            seen.add(syl)
            chars.append(ch)
    return chars[:n]


def distinct_names(n: int) -> list[str]:
    """``n`` valid street names, distinct by the service's own rules (no homophones, no forbidden terms)."""
    chars = distinct_syllable_chars()
    rng = random.Random(5)
    names: list[str] = []
    seen: set[str] = set()
    width = 2 if n <= 100_000 else 3  # 420² two-character names are not enough for 200,000
    while len(names) < n:
        batch = ["".join(rng.choice(chars) for _ in range(width)) + "路" for _ in range(n - len(names) + 100)]
        for name, sylls in zip(batch, syllables_many(batch), strict=True):
            roman = romanize_syllables(name, sylls).lower()
            if roman not in seen and not check_forbidden(name):
                seen.add(roman)
                names.append(name)
    return names[:n]


def build_file(n: int, path: Path) -> None:
    names = distinct_names(n)
    villages = gpd.read_file(Settings().sample_dir / "divisions.geojson")
    villages = villages[villages["level"] == "village"]
    points = villages.geometry.representative_point().to_numpy()
    rng = np.random.default_rng(3)
    picks = rng.integers(0, len(points), n)
    lines = [shapely.LineString([(p.x - 0.0002, p.y), (p.x + 0.0002, p.y)]) for p in points[picks]]
    gpd.GeoDataFrame({"name": names}, geometry=lines, crs="EPSG:4326").to_file(path, driver="GPKG")


def health_under_uploads(base: str, key: str, path: Path) -> None:
    """/health every 20 ms while two uploads of the file are checked at once (dry runs)."""
    import httpx

    latencies: list[float] = []
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while not done.is_set():
                t = time.perf_counter()
                http.get("/health")
                latencies.append((time.perf_counter() - t) * 1000)
                time.sleep(0.02)

    def send(results: list[str]) -> None:
        with httpx.Client(base_url=base, timeout=600) as http, path.open("rb") as fh:
            t = time.perf_counter()
            resp = http.post(
                "/v1/submissions",
                files={"file": (path.name, fh)},
                data={"crs": "wgs84", "category": "road", "dry_run": "true"},
                headers={"Authorization": f"Bearer {key}"},
            )
            body = resp.json()
            results.append(
                f"HTTP {resp.status_code} {time.perf_counter() - t:6.1f} s "
                f"features {body.get('feature_count', body.get('detail'))}"
            )

    results: list[str] = []
    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(1)
    idle = len(latencies)
    senders = [threading.Thread(target=send, args=(results,)) for _ in range(2)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    done.set()
    poller.join()
    during = np.array(latencies[idle:])
    print(f"  two concurrent dry runs: {'; '.join(results)}")
    print(
        f"  /health during them: {len(during)} requests, p50 {np.percentile(during, 50):.1f} ms, "
        f"p99 {np.percentile(during, 99):.1f} ms, max {during.max():.1f} ms"
    )


async def make_key(url: str, name: str = "bench-uploader", role: str = "surveyor") -> str:
    """A fresh key for a bench run (an older one of the same name is dropped)."""
    from sqlalchemy import text

    from geo_service.db.engine import create_engine
    from geo_service.services import keys

    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM api_keys WHERE name = :n"), {"n": name})
            return await keys.create(conn, name, role)
    finally:
        await engine.dispose()


async def ensure_sample(url: str) -> None:
    """Load the sample divisions if the bench database has none yet."""
    from geo_service.db.engine import create_engine
    from geo_service.services.sample_load import load_sample

    engine = create_engine(url, pool_size=1)
    try:
        await load_sample(engine, Settings().sample_dir)
    finally:
        await engine.dispose()


async def cleanup(url: str) -> None:
    conn = await connect(url)
    try:
        await conn.execute("DELETE FROM place_names WHERE proposed_by = 'bench-uploader'")
        await conn.execute("DELETE FROM submissions WHERE submitted_by = 'bench-uploader'")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--concurrent-features", type=int, default=200_000)
    args = parser.parse_args()
    url = bench_url()
    prepare(url)
    asyncio.run(ensure_sample(url))
    asyncio.run(cleanup(url))
    key = asyncio.run(make_key(url))
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "streets.gpkg"
        build_file(args.features, path)
        size = os.path.getsize(path) / 1e6
        with served(url, 1, 8767) as base, httpx.Client(base_url=base, timeout=600) as http:
            title = f"upload of {args.features:,} street features ({size:.1f} MB GeoPackage)"
            print(f"{title:60}")
            for dry in (True, False):
                t = time.perf_counter()
                with path.open("rb") as fh:
                    resp = http.post(
                        "/v1/submissions",
                        files={"file": ("streets.gpkg", fh)},
                        data={"crs": "wgs84", "category": "road", "dry_run": str(dry).lower()},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                elapsed = time.perf_counter() - t
                body = resp.json()
                print(
                    f"  {'dry run' if dry else 'accepted':10} HTTP {resp.status_code}  {elapsed:6.1f} s  "
                    f"features {body.get('feature_count', body.get('detail'))}"
                )
        asyncio.run(cleanup(url))
        big = Path(tmp) / "streets-big.gpkg"
        build_file(args.concurrent_features, big)
        with served(url, 1, 8768) as base:
            print(
                f"{'/health while two uploads of ' + format(args.concurrent_features, ',') + ' features run':60}"
            )
            health_under_uploads(base, key, big)
    asyncio.run(cleanup(url))


if __name__ == "__main__":
    main()
