"""Bulk upload of 100,000 valid street features: a dry run and the real, all-or-nothing submission.

Usage: python -m bench.upload_bench [--features 100000]
Runs against the bench database (its own proposals are removed afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import tempfile
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


def build_file(n: int, path: Path) -> None:
    chars = distinct_syllable_chars()
    pairs = list(itertools.product(chars, chars))
    random.Random(5).shuffle(pairs)
    # Valid and distinct by the service's own rules: no homophones (长 reads chang or zhang), no forbidden terms.
    candidates = [a + b + "路" for a, b in pairs[: int(n * 1.1) + 100]]
    names, seen = [], set()
    for name, sylls in zip(candidates, syllables_many(candidates), strict=True):
        roman = romanize_syllables(name, sylls).lower()
        if roman not in seen and not check_forbidden(name):
            seen.add(roman)
            names.append(name)
    names = names[:n]
    villages = gpd.read_file(Settings().sample_dir / "divisions.geojson")
    villages = villages[villages["level"] == "village"]
    points = villages.geometry.representative_point().to_numpy()
    rng = np.random.default_rng(3)
    picks = rng.integers(0, len(points), n)
    lines = [shapely.LineString([(p.x - 0.0002, p.y), (p.x + 0.0002, p.y)]) for p in points[picks]]
    gpd.GeoDataFrame({"name": names}, geometry=lines, crs="EPSG:4326").to_file(path, driver="GPKG")


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
    args = parser.parse_args()
    url = bench_url()
    prepare(url)
    asyncio.run(cleanup(url))
    key = asyncio.run(make_key(url))
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "streets.gpkg"
        build_file(args.features, path)
        size = os.path.getsize(path) / 1e6
        with served(url, 1, 8767) as base, httpx.Client(base_url=base, timeout=600) as http:
            print(
                f"{'upload of ' + format(args.features, ',') + ' street features (' + format(size, '.1f') + ' MB GeoPackage)':60}"
            )
            for dry in (True, False):
                t = time.perf_counter()
                with path.open("rb") as fh:
                    resp = http.post("/v1/submissions", files={"file": ("streets.gpkg", fh)},
                                     data={"crs": "wgs84", "category": "road", "dry_run": str(dry).lower()},
                                     headers={"Authorization": f"Bearer {key}"})  # fmt: skip
                elapsed = time.perf_counter() - t
                body = resp.json()
                print(f"  {'dry run' if dry else 'accepted':10} HTTP {resp.status_code}  {elapsed:6.1f} s  "
                      f"features {body.get('feature_count', body.get('detail'))}")  # fmt: skip
    asyncio.run(cleanup(url))


if __name__ == "__main__":
    main()
