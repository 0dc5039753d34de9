"""The fast lane answers exactly what FastAPI answers, and takes only the requests it reads fully."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from geo_service.api import fast_lane
from geo_service.api.app import create_app
from tests.conftest import settings_for

N = "/v1/facilities/nearest"
L = "/v1/divisions/locate"
ITEMS = "/collections/elderly-canteens/items"
C = "/v1/coverage"

#: Well-formed: the fast lane answers them (whatever the answer).
LANE = [
    f"{N}?lon=113.3245&lat=23.1064&type=elderly_canteen",
    f"{N}?lon=113.3245&lat=23.1064&type=elderly_canteen&k=7&crs=gcj02",
    f"{N}?lon=113.3245&lat=23.1064&type=social_work_point&k=3&max_distance_m=1500.5",
    f"{N}?lon=-0.5&lat=51.5&type=elderly_canteen&k=2",  # far away: the nearest are thousands of km off
    f"{N}?lon=113.3&lat=23.1&type=no_such_type",  # 400 from the endpoint, through the app's handler
    f"{L}?lon=113.3245&lat=23.1064",
    f"{L}?lon=113.330&lat=23.112&crs=bd09",
    f"{L}?lon=0&lat=0",  # 404 outside the region
    f"{ITEMS}?limit=3",
    f"{ITEMS}?bbox=113.2,23.0,113.4,23.2&limit=5",
    f"{ITEMS}?bbox=113.2,23.0,113.4,23.2&limit=5&after=100&crs=gcj02",
    f"{ITEMS}?district_code=440106&limit=2",
    f"{ITEMS}?bbox=1,2,3",  # 400: bbox checked by the endpoint
    "/collections/no-such-collection/items",  # 404
    f"{C}?type=elderly_canteen",
    f"{C}?type=elderly_canteen&level=village&radius_m=750.5&within=440106&mode=radius&format=json",
    f"{C}?type=social_work_station&mode=presence",
    f"{C}?type=elderly_canteen&within=440199",  # 404 from the endpoint
    f"{C}?type=no_such_type",  # 400
]
#: Anything else goes on to FastAPI.
PASSED_ON = [
    f"{N}?lon=113.3&lat=23.1",  # type missing
    f"{N}?lon=1e2&lat=23.1&type=elderly_canteen",
    f"{N}?lon=113.3&lat=91&type=elderly_canteen",
    f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&k=0",
    f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&k=05",
    f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&max_distance_m=0",
    f"{N}?lon=113.3&lat=23.1&lat=23.2&type=elderly_canteen",  # repeated
    f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&crs=EPSG:3857",
    f"{N}?lon=113.3&lat=23.1&type=Elderly-Canteen",
    f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&extra=1",
    f"{L}?lon=nan&lat=23.1",
    f"{L}?lon=%20113.3&lat=23.1",
    f"{ITEMS}?limit=0",
    f"{ITEMS}?limit=10001",
    f"{ITEMS}?offset=-1",
    f"{ITEMS}?after={'9' * 70}",
    f"{C}?level=village",  # type missing
    f"{C}?type=elderly_canteen&format=csv",
    f"{C}?type=elderly_canteen&radius_m=0",
    f"{C}?type=elderly_canteen&radius_m=100001",
    f"{C}?type=elderly_canteen&level=city",
    f"{C}?type=elderly_canteen&mode=walk",
    f"{C}?type=elderly_canteen&within=44010",
    f"{C}?type=elderly_canteen&crs=gcj02",
]
REQUESTS = LANE + PASSED_ON


@pytest.fixture(scope="module")
def both(sample_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        TestClient(create_app(settings_for(sample_url))) as lane,
        TestClient(create_app(settings_for(sample_url, fast_lane=False))) as plain,
    ):
        yield lane, plain


@pytest.mark.parametrize("url", REQUESTS)
def test_same_answer_with_and_without_the_fast_lane(both: tuple[TestClient, TestClient], url: str) -> None:
    lane, plain = both
    a, b = lane.get(url), plain.get(url)
    assert (a.status_code, a.headers["content-type"]) == (b.status_code, b.headers["content-type"])
    assert a.content == b.content
    assert a.headers.get("etag") == b.headers.get("etag")


class Spy:
    """Records whether the lane passed a request on."""

    def __init__(self) -> None:
        self.passed_on = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.passed_on = True


@pytest.mark.parametrize("url", PASSED_ON)
def test_what_the_lane_does_not_read_goes_to_fastapi(url: str) -> None:
    spy = Spy()
    parts = urlsplit(url)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": parts.path, "query_string": parts.query.encode(),
             "headers": []}  # fmt: skip
    asyncio.run(fast_lane.FastLane(spy)(scope, receive, send))
    assert spy.passed_on and not sent


@pytest.mark.parametrize("url", LANE)
def test_what_the_lane_reads_reaches_the_endpoint(url: str) -> None:
    parts = urlsplit(url)
    route = fast_lane._route(parts.path)
    assert route is not None
    handler, path_args = route
    query = fast_lane._read_query(parts.query.encode())
    with pytest.raises(RuntimeError, match="parsed; the endpoint then used request"):
        asyncio.run(handler(_Unusable(), query, path_args))  # type: ignore[arg-type]


class _Unusable:
    """A request that fails at its first use: the query was read (accepted) before that."""

    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"parsed; the endpoint then used request.{name}")
