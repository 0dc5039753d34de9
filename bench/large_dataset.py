"""Build the large bench dataset: the sample divisions and 1,000,000 facilities spread where people live.

Usage: python bench/large_dataset.py [--facilities 1000000] [--force]
Writes to its own database (geo_bench beside the embedded one, or GEO_BENCH_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import geopandas as gpd
import numpy as np

from bench.common import bench_url, connect, prepare
from geo_service.db.engine import create_engine
from geo_service.services.sample_build import random_points_in
from geo_service.services.sample_load import load_sample
from geo_service.settings import Settings

BENCH_TYPE = "bench_point"  # the 1M generated facilities; the sample's own 4,412 facilities stay as they are


def generate(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points in villages drawn by population; returns lon, lat and village codes."""
    rng = np.random.default_rng(seed)
    villages = gpd.read_file(Settings().sample_dir / "divisions.geojson")
    villages = villages[villages["level"] == "village"].reset_index(drop=True)
    weights = villages["population"].to_numpy(float) + 200.0
    counts = rng.multinomial(n, weights / weights.sum())
    lons, lats, codes = [], [], []
    for geom, code, count in zip(villages.geometry.values, villages["code"], counts, strict=True):
        if count == 0:
            continue
        pts = random_points_in(geom, int(count), rng)  # uniform in degrees: fine within one village
        lons.append(pts[:, 0])
        lats.append(pts[:, 1])
        codes += [code] * count
    return np.concatenate(lons), np.concatenate(lats), np.array(codes)


async def build(url: str, n: int, force: bool) -> None:
    conn = await connect(url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM facilities WHERE type = $1", BENCH_TYPE)
        if have >= n and not force:
            print(f"bench database already has {have:,} bench facilities (use --force to rebuild)")
            return
    finally:
        await conn.close()
    engine = create_engine(url, pool_size=1)
    started = time.monotonic()
    try:
        await load_sample(engine, Settings().sample_dir)
    finally:
        await engine.dispose()
    conn = await connect(url)
    try:
        await conn.execute(
            "INSERT INTO facility_types (code, collection, name_zh, name_en, default_radius_m, default_mode, "
            "presence_level) VALUES ($1, 'bench-points', '压测设施', 'Bench facility', 1000, 'radius', 'village') "
            "ON CONFLICT DO NOTHING",
            BENCH_TYPE,
        )
        await conn.execute("DELETE FROM facilities WHERE type = $1", BENCH_TYPE)
        lon, lat, codes = generate(n)
        print(f"generated {n:,} points in {time.monotonic() - started:.1f} s")
        await conn.execute(
            "CREATE TEMP TABLE staging (type text, name text, lon float8, lat float8, village text)"
        )
        records = [
            (BENCH_TYPE, f"设施{i}", float(x), float(y), str(c))
            for i, (x, y, c) in enumerate(zip(lon, lat, codes, strict=True))
        ]
        await conn.copy_records_to_table("staging", records=records)
        await conn.execute("ALTER TABLE facilities DISABLE TRIGGER ALL")
        await conn.execute("DROP INDEX IF EXISTS idx_facilities_geom")
        await conn.execute(
            "INSERT INTO facilities (type, name, status, geometry_source, geom, district_code, township_code, "
            "village_code) SELECT type, name, 'active', 'generated', ST_SetSRID(ST_MakePoint(lon, lat), 4326), "
            "left(village, 6), left(village, 9), village FROM staging"
        )
        await conn.execute("CREATE INDEX idx_facilities_geom ON facilities USING gist (geom)")
        await conn.execute("ALTER TABLE facilities ENABLE TRIGGER ALL")
        await conn.execute("UPDATE data_versions SET version = version + 1 WHERE name LIKE 'facilities%'")
        await conn.execute("VACUUM ANALYZE facilities")
        print(f"loaded {n:,} facilities in {time.monotonic() - started:.1f} s")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facilities", type=int, default=1_000_000)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    url = bench_url()
    prepare(url)
    asyncio.run(build(url, args.facilities, args.force))


if __name__ == "__main__":
    main()
