"""Map pages: generation time and HTML size per facility type and for 5,000 facilities, and the time headless
Chromium takes until Leaflet has drawn. Runs on the bench database (python -m bench.large_dataset first).

Usage: python -m bench.maps_bench
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time

from bench.common import bench_url, connect, served
from geo_service.db.engine import create_engine
from geo_service.services import coverage_map, maps

FIVE_K = "bench_5k"
PAGES = [
    ("coverage elderly_canteen (township)", "type=elderly_canteen"),
    ("coverage elderly_canteen (village)", "type=elderly_canteen&level=village"),
    ("coverage social_work_station", "type=social_work_station"),
    ("coverage social_work_point (village)", "type=social_work_point"),
    ("coverage wedding_cert_point", "type=wedding_cert_point"),
    ("coverage 5,000 facilities (village)", f"type={FIVE_K}&level=village"),
]


async def ensure_five_k(url: str) -> None:
    conn = await connect(url)
    try:
        await conn.execute(
            "INSERT INTO facility_types (code, collection, name_zh, name_en, default_radius_m, default_mode, "
            "presence_level) VALUES ($1, 'bench-5k', '压测五千', 'Bench 5k', 1000, 'radius', 'village') "
            "ON CONFLICT DO NOTHING",
            FIVE_K,
        )
        if await conn.fetchval("SELECT count(*) FROM facilities WHERE type = $1", FIVE_K) < 5000:
            await conn.execute("DELETE FROM facilities WHERE type = $1", FIVE_K)
            await conn.execute(
                "INSERT INTO facilities (type, name, status, geometry_source, geom, district_code, township_code, "
                "village_code) SELECT $1, name, 'active', 'generated', geom, district_code, township_code, village_code "
                "FROM facilities WHERE type = 'bench_point' AND id % 200 = 0 LIMIT 5000",
                FIVE_K,
            )
            await conn.execute("UPDATE data_versions SET version = version + 1 WHERE name LIKE 'facilities%'")
    finally:
        await conn.close()


async def generation(url: str) -> list[tuple[str, float, float]]:
    engine = create_engine(url, pool_size=2)
    out = []
    try:
        async with engine.connect() as conn:
            for name, query in PAGES:
                params = dict(p.split("=") for p in query.split("&"))
                await coverage_map.coverage_map(
                    conn, params["type"], level=params.get("level")
                )  # warm the disc cache
                times, size = [], 0
                for _ in range(3):
                    t = time.perf_counter()
                    page = await coverage_map.coverage_map(conn, params["type"], level=params.get("level"))
                    times.append(time.perf_counter() - t)
                    size = len(page.encode())
                out.append((name, statistics.median(times) * 1000, size / 1e6))
            for name, fn in (("boundaries", maps.boundaries_map(conn)),):
                t = time.perf_counter()
                page = await fn
                out.append((name, (time.perf_counter() - t) * 1000, len(page.encode()) / 1e6))
    finally:
        await engine.dispose()
    return out


def browser_load(base: str) -> list[tuple[str, float]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", f"--user-data-dir={tempfile.mkdtemp()}"):  # fmt: skip
        options.add_argument(arg)
    drv = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    )
    results = []
    try:
        for name, query in [*PAGES, ("boundaries", None), ("finder", None)]:
            path = (f"/maps/coverage?{query}" if query else "/maps/boundaries" if name == "boundaries"
                    else "/maps/finder?lon=113.32&lat=23.12&type=elderly_canteen&k=5")  # fmt: skip
            drv.get("about:blank")  # let the previous page go before timing the next
            time.sleep(1.0)
            t = time.perf_counter()
            drv.get(base + path)
            while not drv.execute_script(
                "const m = typeof L !== 'undefined' && Object.values(window).find(v => v instanceof L.Map);"
                "return !!m && m._loaded === true && document.readyState !== 'loading'"
            ):
                time.sleep(0.02)
            results.append((name, (time.perf_counter() - t) * 1000))
    finally:
        drv.quit()
    return results


def main() -> None:
    url = bench_url()
    asyncio.run(ensure_five_k(url))
    print(f"{'page':42} {'generate ms':>12} {'HTML MB':>9}")
    for name, ms, mb in asyncio.run(generation(url)):
        print(f"{name:42} {ms:12.0f} {mb:9.2f}")
    with served(url, 1, 8766) as base:
        print(f"\n{'page (served, headless Chromium)':42} {'load until drawn ms':>20}")
        for name, ms in browser_load(base):
            print(f"{name:42} {ms:20.0f}")


if __name__ == "__main__":
    main()
