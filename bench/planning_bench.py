"""Planning on the Guangzhou sample: what-if coverage, uncovered areas, siting and the coverage map with sites,
each timed cold (the process's caches empty: divisions, service areas, answers) and warm (asked again).

Cold is the worst case: a worker that has not even loaded the divisions yet (start-up warm-up loads them in
the background, so the first planner after a deploy usually finds them loaded).

Usage: python -m bench.planning_bench [--url URL] [--repeat 3]
Without --url, a throwaway cluster with the sample loaded (as the tests make it).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from fastapi.testclient import TestClient

from bench.common import CpuSteal
from bench.coverage_pieces_growth import throwaway_database
from geo_service.api.app import create_app
from geo_service.services import coverage, division_index, map_parts, service_areas, siting
from geo_service.services.lru import LRU
from geo_service.settings import Settings

CANTEENS = {"type": "elderly_canteen"}
#: (label, method, path, query or body)
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("coverage, city, villages", "GET", "/v1/coverage", {**CANTEENS, "level": "village"}),
    ("what-if, city, +10 -10", "POST", "/v1/coverage/scenario", {}),  # body filled in below
    ("what-if, city, +1,000", "POST", "/v1/coverage/scenario", {}),
    ("uncovered areas, city, villages", "GET", "/v1/coverage/uncovered", {**CANTEENS, "level": "village"}),
    ("siting n=5, city, village candidates", "GET", "/v1/coverage/siting", {**CANTEENS, "n": 5}),
    ("siting n=20, city, village candidates", "GET", "/v1/coverage/siting", {**CANTEENS, "n": 20}),
    (
        "siting n=20, city, 2 km, villages",
        "GET",
        "/v1/coverage/siting",
        {**CANTEENS, "n": 20, "radius_m": 2000},
    ),
    (
        "siting n=10, 天河区, 500 m grid",
        "GET",
        "/v1/coverage/siting",
        {**CANTEENS, "n": 10, "within": "440106", "candidates": "grid"},
    ),
    (
        "siting n=10, 从化区, 1 km grid",
        "GET",
        "/v1/coverage/siting",
        {**CANTEENS, "n": 10, "within": "440117", "candidates": "grid", "grid_m": 1000},
    ),
    (
        "siting n=5 wedding points, city, 5 km grid",
        "GET",
        "/v1/coverage/siting",
        {"type": "wedding_cert_point", "n": 5, "candidates": "grid", "grid_m": 5000},
    ),
    ("map page, city, sites=10", "GET", "/maps/coverage", {**CANTEENS, "sites": 10}),
]


def forget() -> None:
    """Empty every per-process cache planning answers come from (as in a worker that just started)."""
    service_areas._leaves_cache = LRU(4)
    service_areas._facilities_cache = LRU(16)
    service_areas._areas_cache = LRU(8)
    service_areas._shown_cache = LRU(8)
    coverage._cache = LRU(128)
    coverage._covered_cache = LRU(16)
    siting._demand_cache = LRU(4)
    siting._answers = LRU(16)
    map_parts._pages = LRU(8)
    division_index._cache.clear()


def _bodies(http: TestClient) -> None:
    """What-if bodies: canteens closed and sites opened across the city (villages' representative points)."""
    rows = http.get("/v1/coverage/siting", params={**CANTEENS, "n": 50, "method": "greedy"}).json()[
        "features"
    ]
    points = [f["geometry"] for f in rows]
    CASES[1] = (
        CASES[1][0],
        "POST",
        CASES[1][2],
        {**CANTEENS, "add": points[:10], "remove": list(range(1, 11))},
    )
    grid = [
        {"type": "Point", "coordinates": [113.2 + 0.02 * (i % 40), 22.8 + 0.03 * (i // 40)]}
        for i in range(1000)
    ]
    CASES[2] = (CASES[2][0], "POST", CASES[2][2], {**CANTEENS, "add": grid})


def run(url: str, repeat: int) -> None:
    settings = Settings(database_url=url, rate_limit_per_minute=0, warm_up=False)
    with TestClient(create_app(settings)) as http:
        _bodies(http)
        print(f"{'':44} {'cold (s)':>9} {'warm (s)':>9}  answer")
        for label, method, path, args in CASES:
            cold, warm, note = [], [], ""
            with CpuSteal() as steal:
                for _ in range(repeat):
                    forget()
                    for kept in (cold, warm):
                        started = time.perf_counter()
                        resp = http.get(path, params=args) if method == "GET" else http.post(path, json=args)
                        kept.append(time.perf_counter() - started)
                        assert resp.status_code == 200, resp.text[:300]
            if path.endswith("siting"):
                s = resp.json()["summary"]
                note = (
                    f"{s['method']}{' (optimal)' if s['optimal'] else ''}, {s.get('candidates', '–')} "
                    f"candidates, {s.get('demand_units', '–')} units, solve {s['seconds']:.2f} s, "
                    f"+{s['covered_population_after'] - s['covered_population_before']:,} people"
                )
            elif path.endswith("scenario"):
                note = f"delta {resp.json()['delta']['covered_population']:+,} people"
            elif path.endswith("uncovered"):
                note = f"{len(resp.json()['features']):,} parts, {len(resp.content) / 1e6:.1f} MB"
            elif path.startswith("/maps"):
                note = f"{len(resp.content) / 1e6:.1f} MB page"
            print(
                f"{label:44} {statistics.median(cold):9.2f} {statistics.median(warm):9.2f}  {note}"
                f"  (steal {steal.percent:.0f} %)"
            )
    print(f"siting time limit (GEO_SITING_TIME_LIMIT_S): {settings.siting_time_limit_s:g} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a database with the sample loaded (default: a throwaway cluster)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case (median shown)")
    args = parser.parse_args()
    if args.url:
        run(Settings(database_url=args.url).database_url or args.url, args.repeat)
    else:
        with throwaway_database() as url:
            run(url, args.repeat)


if __name__ == "__main__":
    main()
