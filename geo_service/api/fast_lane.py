"""A lean path for the busiest public GETs: well-formed requests skip FastAPI's routing and dependency solving.

The routes stay declared in FastAPI, which owns the contract (OpenAPI, validation, error messages). Here each
hot route (nearest, locate, coverage, OGC items) has a strict reader of its query string that accepts a subset of
what FastAPI accepts: plain decimal numbers in range, known names, no repeats. A request it reads goes straight
to the same endpoint function;
anything else (a missing, malformed, repeated or unknown parameter) goes on to FastAPI, which answers it as
always. Errors the endpoint raises are answered by the app's own exception handlers. The middleware around the
app (rate limit, ETag, CORS, replicas) applies to both paths alike.

Why: per request FastAPI spends more CPU on routing, dependency solving and parameter validation than these
endpoints spend on their query; on a two-core machine shared with PostgreSQL that halves the throughput.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from geo_service.api import ogc, queries
from geo_service.api.deps import read_connection
from geo_service.api.responses import JSONBody

log = logging.getLogger("geo_service")

_DECIMAL = re.compile(r"-?\d{1,7}(\.\d{1,20})?")
_COUNT = re.compile(r"0|[1-9]\d{0,7}")
_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CRS = frozenset(("wgs84", "cgcs2000", "gcj02", "bd09"))
_CODE = re.compile(r"\d{6}(\d{3}(\d{3})?)?")
_CHOICES = {
    "level": frozenset(("district", "township", "village")),
    "mode": frozenset(("radius", "presence")),
}


class _FallThrough(Exception):
    """The request is not one the lean path reads: FastAPI takes it."""


def _decimal(value: str, low: float, high: float, low_open: bool = False) -> float:
    if not _DECIMAL.fullmatch(value):
        raise _FallThrough
    number = float(value)
    if not (low < number if low_open else low <= number) or number > high:
        raise _FallThrough
    return number


def _count(value: str, low: int, high: int) -> int:
    if not _COUNT.fullmatch(value) or not low <= int(value) <= high:
        raise _FallThrough
    return int(value)


def _only(query: dict[str, str], allowed: set[str], required: set[str]) -> None:
    if not query.keys() <= allowed or not required <= query.keys():
        raise _FallThrough


def _point(query: dict[str, str], args: dict[str, Any]) -> None:
    args["lon"] = _decimal(query["lon"], -180, 180)
    args["lat"] = _decimal(query["lat"], -90, 90)
    if "crs" in query:
        if query["crs"] not in _CRS:
            raise _FallThrough
        args["crs"] = query["crs"]


async def _locate(request: Request, query: dict[str, str], _: list[str]) -> Any:
    _only(query, {"lon", "lat", "crs"}, {"lon", "lat"})
    args: dict[str, Any] = {}
    _point(query, args)
    return await queries.read_locate(request, **args)


async def _nearest(request: Request, query: dict[str, str], _: list[str]) -> Any:
    _only(query, {"lon", "lat", "crs", "type", "k", "max_distance_m"}, {"lon", "lat", "type"})
    args: dict[str, Any] = {}
    _point(query, args)
    if not _TYPE.fullmatch(query["type"]):
        raise _FallThrough
    args["type"] = query["type"]
    if "k" in query:
        args["k"] = _count(query["k"], 1, 100)
    if "max_distance_m" in query:
        args["max_distance_m"] = _decimal(query["max_distance_m"], 0, 1_000_000, low_open=True)
    return await queries.read_nearest_facilities(request, **args)


async def _coverage(request: Request, query: dict[str, str], _: list[str]) -> Any:
    _only(query, {"type", "radius_m", "level", "within", "mode", "format"}, {"type"})
    if query.get("format", "json") != "json" or not _TYPE.fullmatch(query["type"]):
        raise _FallThrough
    args: dict[str, Any] = {"type": query["type"]}
    if "radius_m" in query:
        args["radius_m"] = _decimal(query["radius_m"], 0, 100_000, low_open=True)
    for name, allowed in _CHOICES.items():
        if name in query:
            if query[name] not in allowed:
                raise _FallThrough
            args[name] = query[name]
    if "within" in query:
        if not _CODE.fullmatch(query["within"]):
            raise _FallThrough
        args["within"] = query["within"]
    async with read_connection(request) as conn:
        return await queries.read_coverage(conn, **args)


async def _items(request: Request, query: dict[str, str], path: list[str]) -> Any:
    args: dict[str, Any] = {"collection_id": path[0]}
    if "limit" in query:
        args["limit"] = _count(query["limit"], 1, 10_000)
    if "offset" in query:
        args["offset"] = _count(query["offset"], 0, 10_000_000)
    if "after" in query and len(query["after"]) > 64:
        raise _FallThrough
    for name in ("bbox", "after", "crs", "f"):  # checked by the endpoint itself, as on FastAPI's path
        if name in query:
            args[name] = query[name]
    async with read_connection(request) as conn:  # other parameters are property filters
        return await ogc.read_items(request, conn, **args)


Handler = Callable[[Request, dict[str, str], list[str]], Awaitable[Any]]
#: Exact paths, and paths of the form /prefix/{one segment}/suffix.
_EXACT: dict[str, Handler] = {
    "/v1/divisions/locate": _locate,
    "/v1/facilities/nearest": _nearest,
    "/v1/coverage": _coverage,
}
_ITEMS = re.compile(r"/collections/([^/]+)/items")


def _route(path: str) -> tuple[Handler, list[str]] | None:
    handler = _EXACT.get(path)
    if handler is not None:
        return handler, []
    match = _ITEMS.fullmatch(path)
    return (_items, [match.group(1)]) if match else None


def _read_query(raw: bytes) -> dict[str, str]:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs):
        raise _FallThrough  # a repeated parameter
    return query


class FastLane:
    """ASGI middleware (innermost): answers well-formed requests to the hot routes itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _route(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        handler, path_args = route
        request = Request(scope, receive)
        try:
            result = await handler(request, _read_query(scope["query_string"]), path_args)
        except _FallThrough:
            await self.app(scope, receive, send)
            return
        except Exception as exc:  # answered as FastAPI would: by the app's handler for its class
            result = await _handle(request, exc)
        response = result if isinstance(result, Response) else JSONBody(result)
        await response(scope, receive, send)


async def _handle(request: Request, exc: Exception) -> Response:
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            response: Response = await handlers[cls](request, exc)
            return response
    raise exc
