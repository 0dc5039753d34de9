"""A bounded mixed load: 64 clients for 60 s, public reads and some surveyor writes, on the bench database.

Usage: python -m bench.load_mixed [--seconds 60] [--clients 64] [--workers 1]
Prints throughput, p50/p95/p99 of reads and of writes, errors, and the server's memory over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

import httpx

from bench.api_load import region_points
from bench.common import bench_url, rss_mb, served, server_pids
from bench.upload_bench import make_key


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(base: str, key: str, seconds: float, clients: int, port: int) -> None:
    points = region_points(3000)
    reads: list[float] = []
    writes: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: dict[int | str, int] = {}
    memory: list[float] = []
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))

    def read_path(rng: random.Random) -> str:
        x, y = rng.choice(points)
        return rng.choice([
            f"/v1/facilities/nearest?lon={x:.6f}&lat={y:.6f}&type=bench_point&k=5",
            f"/v1/divisions/locate?lon={x:.6f}&lat={y:.6f}",
            f"/collections/bench-points/items?bbox={x:.5f},{y:.5f},{x + 0.01:.5f},{y + 0.01:.5f}&limit=10",
            "/v1/place-names?q=tianhe&limit=10",
            "/v1/coverage?type=elderly_canteen&level=township",
        ])  # fmt: skip

    async def client(n: int) -> None:
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while time.monotonic() < deadline:
                write = rng.random() < 0.02  # about 2 % of requests are surveyor writes
                t = time.perf_counter()
                try:
                    if write:
                        x, y = rng.choice(points)
                        i = next(counter)
                        body = {"type": "Feature", "properties": {"name": f"压测{i}号设施", "type": "bench_point"},
                                "geometry": {"type": "Point", "coordinates": [x, y]}}  # fmt: skip
                        resp = await http.post(
                            "/v1/facilities", json=body, headers={"Authorization": f"Bearer {key}"}
                        )
                        ok = resp.status_code == 201
                    else:
                        resp = await http.get(read_path(rng))
                        ok = resp.status_code == 200
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                ms = (time.perf_counter() - t) * 1000
                (writes if write else reads).append(ms)
                kind = "write facility" if write else resp.request.url.path
                by_kind.setdefault(kind, []).append(ms)
                if not ok:
                    errors[resp.status_code] = errors.get(resp.status_code, 0) + 1

    async def sample_memory() -> None:
        while time.monotonic() < deadline:
            memory.append(rss_mb(server_pids(port)))
            await asyncio.sleep(1)

    await asyncio.gather(sample_memory(), *(client(n) for n in range(clients)))
    total = len(reads) + len(writes)
    print(
        f"{seconds:.0f} s, {clients} clients: {total:,} requests, {total / seconds:,.0f} req/s, errors {errors or 0}"
    )
    for name, values in (("reads", reads), ("writes", writes)):
        print(f"  {name:7} {len(values):7,}  p50 {percentile(values, 0.5):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms"
              f"  p99 {percentile(values, 0.99):6.1f} ms")  # fmt: skip
    for kind, values in sorted(by_kind.items()):
        print(
            f"    {kind:38} {len(values):7,}  p50 {percentile(values, 0.5):6.1f}  p99 {percentile(values, 0.99):7.1f} ms"
        )
    if memory:
        first, last = statistics.mean(memory[:5]), statistics.mean(memory[-5:])
        print(
            f"  server memory: {first:.0f} MB at the start, {last:.0f} MB at the end, peak {max(memory):.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    url = bench_url()
    key = asyncio.run(make_key(url, "bench-editor", "editor"))
    with served(url, args.workers, 8768) as base:
        asyncio.run(run(base, key, args.seconds, args.clients, 8768))


if __name__ == "__main__":
    main()
