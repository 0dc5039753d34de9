"""The fast lane answers exactly what FastAPI answers, and takes only requests FastAPI would take with the same
values: proven on hand-picked requests and on query strings Hypothesis generates for every lane route."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import openpyxl
import pytest
from fastapi import APIRouter, Depends, Header, Query
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from geo_service.api import coverage_params, fast_lane, ogc, queries
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
    f"{N}?lon=1.13e2&lat=23.1&type=elderly_canteen&k=05",  # FastAPI reads these numbers too: so does the lane
    f"{N}?lon=%20113.3&lat=23.1&type=elderly_canteen&extra=1",  # an unknown parameter FastAPI ignores
    f"{N}?lon=113.3&lat=23.1&type=%D9%A3",  # any text is a type to FastAPI: 400 unknown type
    f"{L}?lon=113.3245&lat=23.1064",
    f"{L}?lon=113.330&lat=23.112&crs=bd09",
    f"{L}?lon=0&lat=0",  # 404 outside the region
    f"{ITEMS}?limit=3",
    f"{ITEMS}?bbox=113.2,23.0,113.4,23.2&limit=5",
    f"{ITEMS}?bbox=113.2,23.0,113.4,23.2&limit=5&after=100&crs=gcj02",
    f"{ITEMS}?district_code=440106&limit=2",
    f"{ITEMS}?bbox=1,2,3",  # 400: bbox checked by the endpoint
    f"{ITEMS}?after=%C2%B2",  # 400: not a cursor
    "/collections/no-such-collection/items",  # 404
    f"{C}?type=elderly_canteen",
    f"{C}?type=elderly_canteen&level=village&radius_m=750.5&within=440106&mode=radius&format=json",
    f"{C}?type=social_work_station&mode=presence",
    f"{C}?type=elderly_canteen&within=440199",  # 404 from the endpoint
    f"{C}?type=no_such_type",  # 400
    f"{C}?type=elderly_canteen&level=district&format=csv",
    f"{C}?type=elderly_canteen&within=%E5%A4%A9%E6%B2%B3%E5%8C%BA",  # within by name: 天河区
    f"{C}?type=elderly_canteen&within=x",  # a name no division has: 404 from the endpoint
]
#: Anything else goes on to FastAPI.
PASSED_ON = [
    f"{N}?lon=113.3&lat=23.1",  # type missing
    f"{N}?lon=113.3&lat=91&type=elderly_canteen",
    f"{N}?lon=113.3&lat=%D9%A3&type=elderly_canteen",  # Arabic-Indic 3
    f"{N}?lon=113.3&lat=%EF%BC%91%EF%BC%92&type=elderly_canteen",  # fullwidth 12
    f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&k=0",
    f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&k={'9' * 5000}",
    f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&max_distance_m=0",
    f"{N}?lon=113.3&lat=23.1&lat=23.2&type=elderly_canteen",  # repeated
    f"{N}?lon=113.3&lat=23.1&type=elderly_canteen&crs=EPSG:3857",
    f"{N}?lon=113.3&lat=23.1&type={'x' * 65}",
    f"{L}?lon=nan&lat=23.1",
    f"{L}?lon=%FF&lat=23.1",
    f"{ITEMS}?limit=0",
    f"{ITEMS}?limit=10001",
    f"{ITEMS}?offset=-1",
    f"{ITEMS}?after={'9' * 70}",
    f"{C}?level=village",  # type missing
    f"{C}?type=elderly_canteen&format=pdf",
    f"{C}?type=elderly_canteen&radius_m=0",
    f"{C}?type=elderly_canteen&radius_m=100001",
    f"{C}?type=elderly_canteen&level=city",
    f"{C}?type=elderly_canteen&mode=walk",
    f"{C}?type=elderly_canteen&within=44010",  # digits only must be a code (no name is all digits)
    f"{C}?type=elderly_canteen&within=%D9%A4%D9%A4%D9%A0%D9%A1%D9%A0%D9%A6",  # 440106 in Arabic-Indic digits
]
REQUESTS = LANE + PASSED_ON
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def both(sample_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        TestClient(create_app(settings_for(sample_url))) as lane,
        TestClient(create_app(settings_for(sample_url, fast_lane=False))) as plain,
    ):
        yield lane, plain


@pytest.fixture(scope="module")
def lanes() -> fast_lane.Lanes:
    return fast_lane.Lanes.of(route for router in fast_lane._ROUTERS for route in router.routes)


def _same_answer(lane: TestClient, plain: TestClient, url: str, language: str | None = None) -> None:
    headers = {"Accept-Language": language} if language else {}
    a, b = lane.get(url, headers=headers), plain.get(url, headers=headers)
    assert (a.status_code, a.headers["content-type"]) == (b.status_code, b.headers["content-type"]), url
    assert a.headers.get("content-language") == b.headers.get("content-language"), url
    if a.headers["content-type"] == XLSX:  # a workbook records when it was written: compare its cells
        assert _cells(a.content) == _cells(b.content), url
        return
    assert a.content == b.content, url
    assert a.headers.get("etag") == b.headers.get("etag"), url


def _cells(workbook: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("url", REQUESTS)
def test_same_answer_with_and_without_the_fast_lane(both: tuple[TestClient, TestClient], url: str) -> None:
    _same_answer(*both, url)


@pytest.mark.parametrize("url", LANE)
def test_what_the_lane_reads(lanes: fast_lane.Lanes, url: str) -> None:
    parts = urlsplit(url)
    assert lanes.read(parts.path, parts.query.encode()) is not None


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

    scope = {
        "type": "http",
        "method": "GET",
        "path": parts.path,
        "query_string": parts.query.encode(),
        "headers": [],
    }
    asyncio.run(fast_lane.FastLane(spy)(scope, receive, send))
    assert spy.passed_on and not sent


# Generated query strings: known keys and unknown ones, repeated or not, with values that FastAPI reads or
# refuses: plain numbers in and out of range, other scripts' digits, signs, exponents, whitespace, huge numbers,
# words, invalid UTF-8 (percent-encoded).
_ODD = [
    *["", " ", " 23.1", "23.1 ", "\t1"],  # whitespace
    *["+1", "-0", "1e2", "1E-3", "1_0", "1.", ".5", "0x10", "nan", "inf", "-inf"],  # signs, exponents, forms
    *["١٢", "٣", "１２", "²", "𝟙", "1٫5"],  # other scripts' digits
    *["9" * 30, "9" * 400, "9" * 5000, "-" + "9" * 20],  # huge numbers
    *["%FF", "%C0%AF", "%E4%B8"],  # invalid UTF-8
    *["true", "null", "[]", "1,2", "x" * 70],
]
_RAW = {"%FF", "%C0%AF", "%E4%B8"}  # sent as they are (already percent-encoded), not encoded again


def _numbers(low: float, high: float) -> st.SearchStrategy[str]:
    inside = st.floats(low, high, allow_nan=False).map(lambda v: f"{v:.6f}".rstrip("0").rstrip("."))
    whole = st.integers(int(low) - 2, int(high) + 2).map(str)
    near = st.sampled_from([str(low), str(high), f"{high}.0000001", f"{low - 1}", str(int(high) + 1)])
    return st.one_of(inside, inside, whole, near, st.sampled_from(_ODD))  # mostly values FastAPI takes


def _choices(*values: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(values), st.sampled_from(values), st.sampled_from(_ODD))


#: Per lane route: the path(s), and a strategy of values for each key (known ones and a few unknown).
ROUTES: dict[str, tuple[st.SearchStrategy[str], dict[str, st.SearchStrategy[str]]]] = {
    "locate": (
        st.just(L),
        {
            "lon": _numbers(113.2, 113.5),
            "lat": _numbers(22.9, 23.4),
            "crs": _choices("wgs84", "gcj02", "bd09", "cgcs2000", "EPSG:4326"),
        },
    ),
    "nearest": (
        st.just(N),
        {
            "lon": _numbers(-180, 180),
            "lat": _numbers(-90, 90),
            "type": _choices("elderly_canteen", "social_work_point", "no_such_type"),
            "k": _numbers(0, 101),
            "max_distance_m": _numbers(0, 1_000_001),
            "crs": _choices("wgs84", "gcj02"),
            "extra": _choices("1"),
        },
    ),
    "coverage": (
        st.just(C),
        {
            "type": _choices("elderly_canteen", "social_work_station", "nope"),
            "radius_m": _choices("1000", "750.5", "0", "100001", "1e3"),
            "level": _choices("district", "township"),
            "mode": _choices("radius", "presence"),
            "within": _choices("440106", "440106001", "440199", "44010", "٤٤٠١٠٦"),
            "format": _choices("json", "csv", "xlsx"),
            "crs": _choices("gcj02"),
        },
    ),
    "items": (
        st.sampled_from(
            [
                ITEMS,
                "/collections/boundary-markers/items",
                "/collections/districts/items",
                "/collections/no-such/items",
            ]
        ),
        {
            "limit": _numbers(0, 10_001),
            "offset": _numbers(-1, 10_000_001),
            "bbox": _choices("113.2,23.0,113.4,23.2", "113.30,23.10,113.31,23.11", "1,2,3", "a,b,c,d"),
            "after": _choices("100", "5-10", "²", "9" * 70),
            "crs": _choices("gcj02", ogc.CRS84, "EPSG:3857"),
            "f": _choices("json", "html"),
            "district_code": _choices("440106"),
            "status": _choices("intact"),
            "nosuch": _choices("1"),
        },
    ),
}


#: The parameters each route requires: most generated requests carry them (else few would get past them).
REQUIRED = {"locate": ["lon", "lat"], "nearest": ["lon", "lat", "type"], "coverage": ["type"], "items": []}


@st.composite
def _request(draw: st.DrawFn, route: str) -> str:
    paths, values = ROUTES[route]
    keys = draw(st.lists(st.sampled_from(sorted(values)), max_size=5, unique=True))
    if draw(st.integers(0, 4)):
        keys = REQUIRED[route] + [k for k in keys if k not in REQUIRED[route]]
    if keys and not draw(st.integers(0, 4)):
        keys.append(draw(st.sampled_from(keys)))  # a repeated parameter
    pairs = []
    for key in draw(st.permutations(keys)):
        value = draw(values[key])
        pairs.append(f"{key}={value if value in _RAW else quote(value, safe='')}")
    return draw(paths) + "?" + "&".join(pairs)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_generated_requests_get_the_same_answer(
    both: tuple[TestClient, TestClient], lanes: fast_lane.Lanes, route: str
) -> None:
    taken: Counter[bool] = Counter()

    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(_request(route), st.sampled_from([None, "zh"]))
    def check(url: str, language: str | None) -> None:
        parts = urlsplit(url)
        taken[lanes.read(parts.path, parts.query.encode()) is not None] += 1
        _same_answer(*both, url, language)  # errors in Chinese too: the lane's are the app's own

    check()
    assert taken[True] >= 10 and taken[False] >= 10, taken  # both ways were exercised


def test_the_lane_is_made_from_the_route_declaration() -> None:
    """Limits are FastAPI's: a route declared with other ones is read with those; a parameter the lane cannot
    read as FastAPI does is refused at start-up, not guessed."""
    router = APIRouter()

    @router.get("/few")
    async def few(
        k: Annotated[int, Query(ge=1, le=3)], name: Annotated[str, Query(max_length=4)] = "x"
    ) -> int:
        return k

    lanes = fast_lane.Lanes.of(router.routes, hot=[few])
    assert lanes.read("/few", b"k=3&name=abcd") is not None
    assert lanes.read("/few", b"k=4") is None and lanes.read("/few", b"k=1&name=abcde") is None
    assert lanes.read("/few", b"name=a") is None  # k is required

    @router.get("/headed")
    async def headed(x_token: Annotated[str, Header()]) -> str:
        return x_token

    with pytest.raises(TypeError, match="query and path parameters only"):
        fast_lane.Lanes.of(router.routes, hot=[headed])
    with pytest.raises(TypeError, match="no GET route"):
        fast_lane.Lanes.of(router.routes, hot=[queries.read_locate])


async def box(k: Annotated[int, Query(ge=1, le=3)], name: str = "x") -> tuple[int, str]:
    return k, name


def blocking(k: int) -> int:  # FastAPI runs it in a thread: not something the lane does alike
    return k


def test_a_parameter_object_is_built_as_fastapi_builds_it() -> None:
    """An async dependency of query parameters only (the coverage parameters) is read with its own limits and
    awaited with the values given (absent ones keep its defaults); any other dependency is refused."""
    router = APIRouter()

    @router.get("/boxed")
    async def boxed(b: Annotated[tuple[int, str], Depends(box)], extra: int = 0) -> list[Any]:
        return [*b, extra]

    lanes = fast_lane.Lanes.of(router.routes, hot=[boxed])
    taken = lanes.read("/boxed", b"k=2&extra=5")
    assert (
        taken is not None
        and lanes.read("/boxed", b"k=4") is None
        and lanes.read("/boxed", b"extra=1") is None
    )
    lane, args = taken
    assert asyncio.run(lane.call(None, args)) == [2, "x", 5]  # type: ignore[arg-type]

    @router.get("/threaded")
    async def threaded(v: Annotated[int, Depends(blocking)]) -> int:
        return v

    with pytest.raises(TypeError, match="no dependency"):
        fast_lane.Lanes.of(router.routes, hot=[threaded])
    assert any(
        b[1] is coverage_params.coverage_params
        for b in fast_lane.lane_of(_route(queries.read_coverage)).built
    )


def _route(endpoint: Any) -> Any:
    return next(r for r in queries.router.routes if getattr(r, "endpoint", None) is endpoint)
