"""OGC figures on the bench database (1,000,000 facilities): filtered and sorted items, vector tiles cold and
cached, and GDAL's copy of the villages layer with its defaults.

Usage: python -m bench.ogc_bench [--port 8766] [--repeat 15]
"Cold" is a tile this server process has not made before (its data versions unchanged); "cached" is the same
tile asked again (kept per data version in the worker's memory; the HTTP ETag is not used here).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.common import bench_url, served
from geo_service.services.tiles import tile_of

ITEMS = {
    "items filter (1M points: district, capacity)": (
        "/collections/bench-points/items",
        {"filter": "district_code = '440106' AND capacity > 100", "limit": 100},
    ),
    "items filter + bbox (1M points)": (
        "/collections/bench-points/items",
        {"filter": "capacity BETWEEN 50 AND 80", "bbox": "113.30,23.10,113.35,23.15", "limit": 100},
    ),
    "items sortby -population (villages)": (
        "/collections/villages/items",
        {"sortby": "-population", "limit": 100},
    ),
    "items filter + sortby (canteens)": (
        "/collections/elderly-canteens/items",
        {"filter": "name LIKE '%长者%'", "sortby": "-capacity,name", "limit": 100},
    ),
    "items CQL2 spatial (villages in a polygon)": (
        "/collections/villages/items",
        {
            "filter": "S_INTERSECTS(geometry, POLYGON((113.3 23.1, 113.4 23.1, 113.4 23.2, 113.3 23.2, 113.3 23.1)))",
            "limit": 100,
        },
    ),
}


def _ms(http: httpx.Client, path: str, params: dict[str, object] | None = None) -> float:
    t = time.perf_counter()
    resp = http.get(path, params=params)
    elapsed = (time.perf_counter() - t) * 1000
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    return elapsed


def _tiles_around(z: int, n: int) -> list[tuple[int, int, int]]:
    """An n×n block of tiles around central Guangzhou at zoom z."""
    y0, x0 = tile_of(113.30, 23.12, z)
    half = n // 2
    return [(z, y, x) for y in range(y0 - half, y0 - half + n) for x in range(x0 - half, x0 - half + n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    url = bench_url()
    lines: list[str] = []
    with served(url, 1, args.port) as base, httpx.Client(base_url=base, timeout=300) as http:
        for name, (path, params) in ITEMS.items():
            first = _ms(http, path, params)
            times = [_ms(http, path, params) for _ in range(args.repeat)]
            lines.append(f"{name:48} first {first:8.1f} ms   median {statistics.median(times):8.1f} ms")
        for layer, z, n in (
            ("bench-points", 10, 4),
            ("bench-points", 12, 4),
            ("bench-points", 14, 4),
            ("villages", 10, 3),
            ("villages", 13, 3),
        ):
            tiles = _tiles_around(z, n)
            paths = [f"/collections/{layer}/tiles/WebMercatorQuad/{tz}/{ty}/{tx}" for tz, ty, tx in tiles]
            cold = [_ms(http, p) for p in paths]
            cached = [_ms(http, p) for p in paths]
            size = max(len(http.get(p).content) for p in paths)
            lines.append(
                f"tiles {layer} z{z} ({len(paths)} tiles)".ljust(48)
                + f" cold median {statistics.median(cold):7.1f} ms (max {max(cold):7.1f})"
                + f"   cached median {statistics.median(cached):5.1f} ms   largest {size / 1024:6.0f} KB"
            )
        # A map view of the million points: the 16 tiles of a z10 screen at once, as a browser asks for them.
        view = [f"/tiles/WebMercatorQuad/{z}/{y}/{x}" for z, y, x in _tiles_around(11, 4)]
        with ThreadPoolExecutor(6) as pool:
            t = time.perf_counter()
            list(pool.map(lambda p: _ms(http, p), view))
            wall_cold = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            list(pool.map(lambda p: _ms(http, p), view))
            wall_cached = (time.perf_counter() - t) * 1000
        lines.append(
            "all-layers map view z11, 16 tiles, 6 at a time".ljust(48)
            + f" cold {wall_cold:8.1f} ms   cached {wall_cached:8.1f} ms"
        )
        if shutil.which("ogr2ogr"):
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "villages.gpkg"
                t = time.perf_counter()
                subprocess.run(["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{base}/", "villages"], check=True)
                lines.append(
                    f"{'GDAL ogr2ogr villages (defaults: pages of 10)':48} {time.perf_counter() - t:8.1f} s"
                )
        else:
            lines.append("GDAL ogr2ogr villages: gdal-bin not installed")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
