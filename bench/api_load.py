"""The benchmark suite: HTTP load on the public API with a real load generator (wrk), on the bench database
(1,000,000 facilities, the full sample divisions), with 1 and with 2 worker processes.

Usage: python -m bench.api_load [--duration 10] [--workers 1 2] [--connections 32]
(`make bench` builds the dataset first.) Prints one table: throughput, p50/p95/p99, errors, peak server memory, and
the CPU time the hypervisor took during the run (steal: this VM's speed varies with it); then the coverage
cold/unchanged timings.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bench.common import CpuSteal, bench_url, connect, rss_mb, served, server_pids
from geo_service.db.embedded import find_pg_bin

LUA = """
local paths = {%s}
local threads = 0
setup = function(thread)
  thread:set("start", threads)
  threads = threads + 1
end
local i = 0
init = function(args)
  i = (start or 0) * math.floor(#paths / 2)
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
                 + summary.errors.status
  io.write(string.format("RESULT %%d %%.3f %%.3f %%.3f %%d\\n", summary.requests,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, errors))
end
"""


def region_points(n: int, seed: int = 1) -> list[tuple[float, float]]:
    """Random points inside the region (villages drawn at random, a point in each)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from geo_service.settings import Settings

    rng = np.random.default_rng(seed)
    villages = gpd.read_file(Settings().sample_dir / "divisions.geojson")
    villages = villages[villages["level"] == "village"].geometry.to_numpy()
    out: list[tuple[float, float]] = []
    while len(out) < n:
        geom = villages[rng.integers(len(villages))]
        minx, miny, maxx, maxy = geom.bounds
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geom, x, y):
            out.append((float(x), float(y)))
    return out


SEARCHES = ["天河", "tianhe", "Xinhua Lu", "新村", "dongl", "大道", "shamian", "石井", "yixiang", "北街"]


def varied_searches() -> list[str]:
    """Thousands of distinct searches from the sample's names: pieces of names and pinyin, three page sizes.

    More than the per-process answer cache holds (1,024), walked once each in a run: every answer is computed.
    """
    import json

    from geo_service.settings import Settings

    names = json.loads((Settings().sample_dir / "place_names.geojson").read_text())["features"]
    terms: set[str] = set()
    for f in names:
        name, key = f["properties"]["name"], f["properties"]["pinyin_key"]
        terms.update(name[i : i + n] for n in (2, 3) for i in range(len(name) - n + 1))
        terms.update(key[:n] for n in (4, 6, 8))
    return sorted(terms)


def workloads() -> dict[str, list[str]]:
    """Each workload's URLs. "cold": no answer cache can serve them (new points, searches, radii);
    "warm": a few URLs cycled, so the per-process answer or page cache serves them after the first time."""
    import random
    from urllib.parse import quote

    pts = region_points(2000)
    small = [(x, y) for x, y in pts[:500]]
    searches = [f"/v1/place-names?q={quote(q)}&limit={n}" for q in varied_searches() for n in (10, 11, 12)]
    radii = [500 + r for r in range(4000)]  # whole metres: 4,000 distinct service radii
    random.Random(3).shuffle(searches)
    random.Random(4).shuffle(radii)
    return {
        "nearest k=5 (1M facilities), cold": [
            f"/v1/facilities/nearest?lon={x:.6f}&lat={y:.6f}&type=bench_point&k=5" for x, y in pts
        ],
        "nearest canteen k=5, cold": [
            f"/v1/facilities/nearest?lon={x:.6f}&lat={y:.6f}&type=elderly_canteen&k=5" for x, y in pts
        ],
        "locate, cold": [f"/v1/divisions/locate?lon={x:.6f}&lat={y:.6f}" for x, y in pts],
        "OGC items bbox limit 10, cold": [
            f"/collections/bench-points/items?bbox={x:.5f},{y:.5f},{x + 0.01:.5f},{y + 0.01:.5f}&limit=10"
            for x, y in small
        ],
        f"place-name search, cold ({len(searches):,})": searches,
        "place-name search, warm (10)": [f"/v1/place-names?q={quote(q)}&limit=10" for q in SEARCHES],
        "coverage, cold (new radius)": [
            f"/v1/coverage?type=elderly_canteen&level=village&radius_m={r}" for r in radii
        ],
        "coverage, warm (1 URL)": ["/v1/coverage?type=elderly_canteen&level=village&radius_m=1000"],
        "coverage map, cold (new radius)": [
            f"/maps/coverage?type=elderly_canteen&radius_m={r}" for r in radii
        ],
        "coverage map, warm (1 URL)": ["/maps/coverage?type=elderly_canteen"],
    }


def run_wrk(
    base: str, paths: list[str], duration: int, connections: int
) -> tuple[float, float, float, float, int, int]:
    script = LUA % ", ".join(f'"{p}"' for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "-s", fh.name, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(fh.name).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    result = re.search(r"RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out)
    assert result, out
    latencies = (float(result.group(2)), float(result.group(3)), float(result.group(4)))
    return rps, *latencies, int(result.group(5)), int(result.group(1))


def coverage_timings(base: str, url: str) -> list[tuple[str, float]]:
    import asyncio

    async def bump() -> None:
        conn = await connect(url)
        try:
            await conn.execute(
                "INSERT INTO data_versions (name, version) VALUES ('facilities:elderly_canteen', 1) "
                "ON CONFLICT (name) DO UPDATE SET version = data_versions.version + 1"
            )
        finally:
            await conn.close()

    params = {
        "type": "elderly_canteen",
        "level": "village",
        "radius_m": 999,
    }  # not the load test's (cached) one
    figures = []
    with httpx.Client(base_url=base, timeout=300) as http:
        cold = []
        for _ in range(6):  # each round: the canteens change, then the same question again
            asyncio.run(bump())
            t = time.perf_counter()
            resp = http.get("/v1/coverage", params=params)
            cold.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, resp.text
        figures.append(("coverage cold, first after start (1 km, villages)", cold[0]))
        figures.append(
            ("coverage cold, median of next 5 (2,851 villages, 1,386 canteens)", statistics.median(cold[1:]))
        )
        warm = []
        for _ in range(20):
            t = time.perf_counter()
            http.get("/v1/coverage", params=params)
            warm.append((time.perf_counter() - t) * 1000)
        figures.append(("coverage unchanged data (median of 20)", statistics.median(warm)))
    return figures


KNN_SCRIPT = """\\set lon 113.2 + random(0, 300000) / 1000000.0
\\set lat 23.05 + random(0, 200000) / 1000000.0
SELECT id, ST_AsGeoJSON(geom, 7) FROM facilities WHERE type = 'bench_point' AND status = 'active'
ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 5;
"""


def host_reference(url: str, seconds: int = 5) -> str:
    """The bare database's KNN rate (pgbench, 2 clients, no HTTP) now: the issue's yardstick for this machine
    (~3,400/s), printed beside the figures because this host's speed varies by tens of per cent over a day."""
    parts = make_url(url)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "knn.pgb"
        script.write_text(KNN_SCRIPT)
        env = {**os.environ, "PGPASSWORD": parts.password or ""}
        run = subprocess.run(
            [
                str(find_pg_bin() / "pgbench"),
                "-n",
                "-M",
                "prepared",
                "-c",
                "2",
                "-j",
                "2",
                "-T",
                str(seconds),
                "-f",
                str(script),
                "-h",
                parts.host or "127.0.0.1",
                "-p",
                str(parts.port or 5432),
                "-U",
                parts.username or "postgres",
                parts.database or "",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
    found = re.search(r"tps = ([\d.]+)", run.stdout)
    return (
        f"{float(found.group(1)):,.0f} KNN queries/s"
        if found
        else f"pgbench failed: {run.stderr.strip()[:200]}"
    )


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (from /proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def database_pids(url: str) -> list[int]:
    """The bench database server's processes (postmaster and backends), found from a backend's pid."""
    import asyncio

    async def postmaster() -> int:
        conn = await connect(url)
        try:  # the backend's parent, read while the backend lives
            pid = int(await conn.fetchval("SELECT pg_backend_pid()"))
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        finally:
            await conn.close()

    ppid = asyncio.run(postmaster())
    pids = [ppid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                pids.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return pids


class PeakMemory:
    """Samples the server processes' resident memory in the background; keeps the peak."""

    def __init__(self, port: int) -> None:
        import threading

        self.port, self.peak, self.stop = port, 0.0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mb(server_pids(self.port)))
            self.stop.wait(0.25)

    def __enter__(self) -> PeakMemory:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--only", nargs="*", default=[], help="run only workloads whose name contains one of these"
    )
    parser.add_argument("--no-coverage", action="store_true", help="skip the coverage cold/unchanged timings")
    args = parser.parse_args()
    url = bench_url()
    header = (
        f"{'workload':36} {'workers':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'peak MB':>8} {'app CPU ms/req':>14} {'db CPU ms/req':>13} {'steal %':>7}"
    )
    lines, coverage_lines = [], []
    reference_before = host_reference(url)
    for workers in args.workers:
        with served(url, workers, args.port) as base:
            for name, ms in (
                [] if args.no_coverage else coverage_timings(base, url)
            ):  # before the load: nothing queued behind them
                coverage_lines.append(f"{name:66} {workers} worker(s) {ms:9.1f} ms")
            loads = workloads()
            for name, paths in loads.items():  # warm the process up, not the URLs a cold run will ask
                for p in paths[-3:] if "cold" in name else paths[:20]:
                    httpx.get(base + p, timeout=120)
            for name, paths in loads.items():
                if args.only and not any(o in name for o in args.only):
                    continue
                heavy = name.startswith("coverage")  # 0.1-2 s of CPU a request: 4 connections, not 32
                app, db = server_pids(args.port), database_pids(url)
                before = {pid: cpu_seconds([pid]) for pid in app + db}
                with PeakMemory(args.port) as mem, CpuSteal() as steal:
                    rps, p50, p95, p99, errors, count = run_wrk(
                        base, paths, args.duration, 4 if heavy else args.connections
                    )
                # Backends the pool opened during the run count too (from zero); ones that ended are lost.
                db = sorted(set(db) | set(database_pids(url)))
                app_ms, db_ms = (
                    sum(cpu_seconds([pid]) - before.get(pid, 0.0) for pid in pids) * 1000 / max(count, 1)
                    for pids in (app, db)
                )
                lines.append(
                    f"{name:36} {workers:7d} {rps:8.0f} {p50:8.1f} {p95:8.1f} {p99:8.1f} {errors:7d} {mem.peak:8.0f}"
                    f" {app_ms:14.2f} {db_ms:13.2f} {steal.percent:7.1f}"
                )
                print(lines[-1], flush=True)
    print()
    print(
        "host reference, bare database KNN (pgbench, 2 clients, 1M points, no HTTP): "
        f"{reference_before} before, {host_reference(url)} after"
    )
    print(
        "cold: URLs no answer cache holds (new points, searches, radii, each asked once); warm: a few URLs cycled,"
    )
    print(
        "served from the per-process answer or page cache after the first request. CPU per request: the server's"
    )
    print("processes and the database's, from /proc (less noisy than req/s on a shared machine).")
    print(header)
    print("\n".join(sorted(lines, key=lambda line: (line[:36], line[37:44]))))
    print()
    print("\n".join(coverage_lines))


if __name__ == "__main__":
    main()
