"""A bounded mixed load: 64 clients for 60 s, public reads and some surveyor writes, on the bench database.

Reads come from wrk (62 connections cycling through nearest, locate, OGC items, place-name search and coverage
in random order): a load generator in C, so that the figures are the server's, not a Python client's queueing.
Two Python clients meanwhile create facilities with an editor key at a steady rate (``--writes-per-s``), and a
third creates elderly canteens (``--canteen-writes-per-s``): each changes the canteens' data version, so the
coverage answers the readers ask for are computed again after it (cold), and kept until the next (warm).
Place-name searches are thousands of distinct ones (none served from the answer cache), so the read mix is
mostly cold: what the table reports is said beside it.

Usage: python -m bench.load_mixed [--seconds 60] [--clients 64] [--workers 1] [--writes-per-s 20]
       [--canteen-writes-per-s 1]
Prints read throughput and p50/p95/p99, write latencies, errors, and the server's memory over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import threading
import time
from urllib.parse import quote

import httpx

from bench.api_load import region_points, run_wrk, varied_searches
from bench.common import CpuSteal, bench_url, connect, rss_mb, served, server_pids
from bench.upload_bench import make_key

WRITERS = 2


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def read_paths(points: list[tuple[float, float]], seed: int = 7) -> list[str]:
    """One read per point, of a kind drawn at random; searches all distinct, coverage of the canteens written."""
    rng = random.Random(seed)
    searches = varied_searches()
    rng.shuffle(searches)
    paths = []
    for i, (x, y) in enumerate(points):
        choices = [
            f"/v1/facilities/nearest?lon={x:.6f}&lat={y:.6f}&type=bench_point&k=5",
            f"/v1/facilities/nearest?lon={x:.6f}&lat={y:.6f}&type=elderly_canteen&k=5",
            f"/v1/divisions/locate?lon={x:.6f}&lat={y:.6f}",
            f"/collections/bench-points/items?bbox={x:.5f},{y:.5f},{x + 0.01:.5f},{y + 0.01:.5f}&limit=10",
            f"/v1/place-names?q={quote(searches[i % len(searches)])}&limit=10",
            "/v1/coverage?type=elderly_canteen&level=township",
        ]
        paths.append(rng.choice(choices))
    return paths


async def write_load(
    base: str, key: str, points: list[tuple[float, float]], seconds: float, rates: dict[str, float]
) -> tuple[list[float], dict[int | str, int]]:
    """Facilities created by WRITERS clients per type at its rate a second; their latencies and any errors."""
    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))

    async def writer(n: int, ftype: str, per_s: float) -> None:
        rng = random.Random(100 + n)
        interval = 1 / per_s
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            next_at = time.monotonic() + rng.random() * interval
            while next_at < deadline:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                x, y = rng.choice(points)
                body = {
                    "type": "Feature",
                    "properties": {"name": f"压测{next(counter)}号设施", "type": ftype},
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                }
                t = time.perf_counter()
                try:
                    resp = await http.post(
                        "/v1/facilities", json=body, headers={"Authorization": f"Bearer {key}"}
                    )
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                latencies.append((time.perf_counter() - t) * 1000)
                if resp.status_code != 201:
                    errors[resp.status_code] = errors.get(resp.status_code, 0) + 1

    writers = [(ftype, rate / WRITERS) for ftype, rate in rates.items() if ftype == "bench_point"] * WRITERS
    writers += [(ftype, rate) for ftype, rate in rates.items() if ftype != "bench_point" and rate > 0]
    await asyncio.gather(*(writer(n, ftype, per_s) for n, (ftype, per_s) in enumerate(writers)))
    return latencies, errors


async def remove_bench_canteens(url: str) -> None:
    """Delete the canteens the run created, so the sample's 1,386 stay what other benches measure."""
    conn = await connect(url)
    try:
        await conn.execute("DELETE FROM facilities WHERE type = 'elderly_canteen' AND name LIKE '压测%'")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--writes-per-s", type=float, default=20)
    parser.add_argument("--canteen-writes-per-s", type=float, default=1)
    args = parser.parse_args()
    url = bench_url()
    key = asyncio.run(make_key(url, "bench-editor", "editor"))
    points = region_points(3000)
    paths = read_paths(points)
    port = 8768
    with served(url, args.workers, port) as base:
        for p in paths[-200:]:  # every worker's connections warm (not the URLs the run starts with)
            httpx.get(base + p, timeout=60)
        memory: list[float] = []
        writes: tuple[list[float], dict[int | str, int]] = ([], {})
        stop = threading.Event()

        def sample_memory() -> None:
            while not stop.is_set():
                memory.append(rss_mb(server_pids(port)))
                stop.wait(1.0)

        def run_writes() -> None:
            nonlocal writes
            rates = {"bench_point": args.writes_per_s, "elderly_canteen": args.canteen_writes_per_s}
            writes = asyncio.run(write_load(base, key, points, args.seconds, rates))

        threads = [threading.Thread(target=sample_memory), threading.Thread(target=run_writes)]
        for thread in threads:
            thread.start()
        with CpuSteal() as steal:
            rps, p50, p95, p99, read_errors, _ = run_wrk(base, paths, args.seconds, args.clients - WRITERS)
        stop.set()
        for thread in threads:
            thread.join()
    asyncio.run(remove_bench_canteens(url))
    write_ms, write_errors = writes
    writers = WRITERS + (args.canteen_writes_per_s > 0)
    print(
        f"{args.seconds} s, {args.clients} clients ({args.clients - WRITERS} reading through wrk, {writers} writing), "
        f"{args.workers} worker(s), {steal.percent:.1f} % of the CPU time taken by the hypervisor (steal)"
    )
    print(
        "  reads: nearest, locate, OGC items at new points and distinct searches (cold); canteen coverage, computed "
        f"again after each of {args.canteen_writes_per_s:g} canteen writes/s (cold), else kept (warm)"
    )
    print(
        f"  reads   {rps * args.seconds:9,.0f}  {rps:6,.0f} req/s  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
        f"p99 {p99:6.1f} ms  errors {read_errors}"
    )
    print(
        f"  writes  {len(write_ms):9,}  {len(write_ms) / args.seconds:6,.1f} req/s  "
        f"p50 {percentile(write_ms, 0.5):6.1f} ms  p95 {percentile(write_ms, 0.95):6.1f} ms  "
        f"p99 {percentile(write_ms, 0.99):6.1f} ms  errors {write_errors or 0}"
    )
    if memory:
        first, last = statistics.mean(memory[:5]), statistics.mean(memory[-5:])
        print(
            f"  server memory: {first:.0f} MB at the start, {last:.0f} MB at the end, peak {max(memory):.0f} MB"
        )


if __name__ == "__main__":
    main()
