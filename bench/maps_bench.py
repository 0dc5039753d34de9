"""Map pages: generation time and HTML size per facility type and for 5,000 facilities, and the time headless
Chromium takes until Leaflet has drawn. Runs on the bench database (python -m bench.large_dataset first).

Usage: python -m bench.maps_bench
"""

from __future__ import annotations

import asyncio
import math
import shutil
import statistics
import tempfile
import time

from bench.common import CpuSteal, bench_url, connect, served
from geo_service.db.engine import create_engine
from geo_service.services import coverage, coverage_map, map_parts, maps, service_areas
from geo_service.services.coverage import CoverageParams

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
                "village_code) SELECT $1, name, 'active', 'generated', geom, district_code, township_code, "
                "village_code "
                "FROM facilities WHERE type = 'bench_point' AND id % 200 = 0 LIMIT 5000",
                FIVE_K,
            )
            await conn.execute("UPDATE data_versions SET version = version + 1 WHERE name LIKE 'facilities%'")
    finally:
        await conn.close()


def _forget() -> None:
    """Empty this process's answer caches (pages, coverage answers, disc unions, divisions)."""
    caches = (
        map_parts._pages,
        coverage._cache,
        service_areas._areas_cache,
        service_areas._facilities_cache,
        service_areas._leaves_cache,
    )
    for cache in caches:
        cache.items.clear()


async def generation(url: str) -> list[tuple[str, float, float, float, float]]:
    """Per page: median ms cold (caches emptied), with a new radius each time (a warm process), and cached."""
    engine = create_engine(url, pool_size=2)
    out = []
    try:
        async with engine.connect() as conn:
            for n, (name, query) in enumerate(PAGES):
                params = dict(p.split("=") for p in query.split("&"))
                ftype, level = params["type"], params.get("level")
                cold, fresh, cached, size = [], [], [], 0
                for _ in range(3):
                    _forget()
                    t = time.perf_counter()
                    page = await coverage_map.coverage_map(conn, CoverageParams(ftype, level=level))
                    cold.append(time.perf_counter() - t)
                    size = len(page.html.encode())
                    t = time.perf_counter()
                    await coverage_map.coverage_map(conn, CoverageParams(ftype, level=level))
                    cached.append(time.perf_counter() - t)
                for i in range(3):  # radii no earlier request asked for: no answer, union or page to reuse
                    t = time.perf_counter()
                    await coverage_map.coverage_map(
                        conn, CoverageParams(ftype, radius_m=1001.0 + 37 * n + 7 * i, level=level)
                    )
                    fresh.append(time.perf_counter() - t)
                ms = [statistics.median(v) * 1000 for v in (cold, fresh, cached)]
                out.append((name, *ms, size / 1e6))
            cold, cached = [], []
            for _ in range(3):
                _forget()
                t = time.perf_counter()
                page = await maps.boundaries_map(conn)
                cold.append(time.perf_counter() - t)
                t = time.perf_counter()
                await maps.boundaries_map(conn)
                cached.append(time.perf_counter() - t)
            median = statistics.median
            out.append(
                (
                    "boundaries",
                    median(cold) * 1000,
                    math.nan,
                    median(cached) * 1000,
                    len(page.html.encode()) / 1e6,
                )
            )
    finally:
        await engine.dispose()
    return out


def browser_load(base: str) -> list[tuple[str, float, float]]:
    """Per page, ms until Leaflet has drawn: first load (the server renders it) and again (its page cache)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        "--disk-cache-size=1",
        f"--user-data-dir={tempfile.mkdtemp()}",
    ):
        options.add_argument(arg)
    drv = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    )

    def drawn(url: str) -> float:
        drv.get("about:blank")  # let the previous page go before timing the next
        time.sleep(1.0)
        t = time.perf_counter()
        drv.get(url)
        while not drv.execute_script(
            "const m = typeof L !== 'undefined' && Object.values(window).find(v => v instanceof L.Map);"
            "return !!m && m._loaded === true && document.readyState !== 'loading'"
        ):
            time.sleep(0.02)
        return (time.perf_counter() - t) * 1000

    results = []
    try:
        for name, query in [*PAGES, ("boundaries", None), ("finder", None)]:
            if query:
                path = f"/maps/coverage?{query}"
            elif name == "boundaries":
                path = "/maps/boundaries"
            else:
                path = "/maps/finder?lon=113.32&lat=23.12&type=elderly_canteen&k=5"
            results.append((name, drawn(base + path), drawn(base + path)))
    finally:
        drv.quit()
    return results


def main() -> None:
    url = bench_url()
    asyncio.run(ensure_five_k(url))
    with CpuSteal() as steal:
        rows = asyncio.run(generation(url))
    print(
        "generation, median of 3 (ms). cold: this process's caches emptied first; new radius: a warm process,"
    )
    print(
        "a radius no request asked for before; cached: the same page again (the page cache). "
        f"steal {steal.percent:.0f} %"
    )
    print(f"{'page':42} {'cold':>8} {'new radius':>11} {'cached':>8} {'HTML MB':>8}")
    for name, cold, fresh, cached, mb in rows:
        print(f"{name:42} {cold:8.0f} {fresh:11.0f} {cached:8.2f} {mb:8.2f}")
    with served(url, 1, 8766) as base, CpuSteal() as steal:
        loads = browser_load(base)
    print(f"\nserved, headless Chromium, ms until Leaflet has drawn (steal {steal.percent:.0f} %)")
    print(f"{'page':42} {'first (renders)':>16} {'again (cached)':>15}")
    for name, first, again in loads:
        print(f"{name:42} {first:16.0f} {again:15.0f}")


if __name__ == "__main__":
    main()
