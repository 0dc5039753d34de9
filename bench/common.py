"""Shared set-up of the benchmarks: the bench database (never the `make run` one) and a served API."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from geo_service.db.engine import database_url, ensure_database, migrate
from geo_service.settings import PROJECT_ROOT, Settings

BENCH_DB = "geo_bench"


def bench_url() -> str:
    """URL of the bench database: GEO_BENCH_DATABASE_URL, or a database beside the embedded/configured one."""
    explicit = os.environ.get("GEO_BENCH_DATABASE_URL")
    if explicit:
        return Settings(database_url=explicit).database_url or explicit
    base = database_url(Settings())
    return make_url(base).set(database=BENCH_DB).render_as_string(hide_password=False)


async def connect(url: str) -> asyncpg.Connection:
    """A plain asyncpg connection to the bench database (for bulk set-up outside the service)."""
    return await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def prepare(url: str) -> None:
    asyncio.run(ensure_database(url))
    migrate(url)


@contextmanager
def served(url: str, workers: int = 1, port: int = 8765) -> Iterator[str]:
    """Run `geo-service serve` on the bench database; yields the base URL."""
    if server_pids(port):  # else /health below would answer from that server, and the bench would measure it
        raise RuntimeError(f"port {port} is taken (pids {server_pids(port)}): pass another --port")
    env = {
        **os.environ,
        "GEO_DATABASE_URL": url,
        "GEO_PORT": str(port),
        "GEO_RATE_LIMIT_PER_MINUTE": "0",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geo_service.cli.main",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the bench server did not start")
            time.sleep(0.3)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def server_pids(port: int) -> list[int]:
    """Processes listening on the port (the server and its workers), for memory figures."""
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    return sorted({int(p.split("=")[1]) for p in out.replace(",", " ").split() if p.startswith("pid=")})


class CpuSteal:
    """The share of the machine's CPU time its hypervisor took (steal) while the block ran, from /proc/stat.

    This VM's speed swings with its neighbours (0-40 % steal): a figure means little without it.
    """

    percent = 0.0

    @staticmethod
    def _times() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return fields[7], sum(fields)  # steal, total (user nice system idle iowait irq softirq steal)

    def __enter__(self) -> CpuSteal:
        self.start = self._times()
        return self

    def __exit__(self, *exc: object) -> None:
        (steal0, total0), (steal1, total1) = self.start, self._times()
        self.percent = 100 * (steal1 - steal0) / max(total1 - total0, 1)


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024
