"""A lean path for the busiest public GETs: well-formed requests skip FastAPI's routing and dependency solving.

The routes stay declared in FastAPI, which owns the contract (OpenAPI, validation, error messages). The lane
reads each hot route's own declaration at start-up (its query and path parameters, with their types and limits,
and its dependencies) and validates a request's parameters with the very validators FastAPI builds from it. So
there is one declaration per route, and a request the lane takes is one FastAPI would take with the same values:
it goes straight to the same endpoint function. Anything else (a missing or invalid parameter, a repeated one)
goes on to FastAPI, which answers it as always. Errors the endpoint raises are answered by the app's own
exception handlers. The middleware around the app (rate limit, ETag, CORS, replicas) applies to both alike.

Why: per request FastAPI spends more CPU on routing, dependency solving and parameter validation than these
endpoints spend on their query; on a two-core machine shared with PostgreSQL that halves the throughput.
"""

from __future__ import annotations

import inspect
import logging
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from geo_service.api import ogc, queries
from geo_service.api.deps import get_connection, read_connection
from geo_service.api.responses import JSONBody

log = logging.getLogger("geo_service")

#: The endpoints the lane serves, found in these routers by their functions.
HOT: tuple[Callable[..., Any], ...] = (
    queries.read_locate,
    queries.read_nearest_facilities,
    queries.read_coverage,
    ogc.read_items,
)
_ROUTERS = (queries.router, ogc.router)
_SCALARS = (float, int, str, bool)


class _FallThrough(Exception):
    """The request is not one the lane reads: FastAPI takes it."""


@dataclass(frozen=True)
class Lane:
    """One hot route as its FastAPI declaration describes it."""

    endpoint: Callable[..., Any]
    query: dict[str, Any]  # alias → FastAPI's ModelField, whose validator is the one FastAPI runs
    required: frozenset[str]
    path: tuple[Any, ...]  # ModelFields of the path parameters
    request_arg: str | None
    conn_arg: str | None  # a read connection (ConnDep), opened here as FastAPI's dependency would
    #: Parameter objects (an endpoint argument built by an async dependency from query parameters only, such
    #: as the coverage parameters): (argument, the dependency, the names of its parameters).
    built: tuple[tuple[str, Callable[..., Any], tuple[str, ...]], ...] = ()

    def arguments(self, query_string: bytes, path_values: dict[str, str]) -> dict[str, Any]:
        """The endpoint's parameters from a request, validated as FastAPI validates them; _FallThrough if not."""
        # Starlette reads the query string the same way (latin-1, then percent-decoding as UTF-8).
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        args: dict[str, Any] = {}
        seen: set[str] = set()
        for key, raw in pairs:
            if key in seen:
                raise _FallThrough  # a repeated parameter
            seen.add(key)
            field = self.query.get(key)
            if field is not None:  # others are FastAPI's to ignore, or the endpoint's to read (OGC filters)
                args[field.name] = _valid(field, raw)
        if not self.required <= seen:
            raise _FallThrough
        for field in self.path:
            args[field.name] = _valid(field, path_values[field.alias])
        return args

    async def call(self, request: Request, args: dict[str, Any]) -> Any:
        """The endpoint's answer to the request."""
        if self.request_arg is not None:
            args[self.request_arg] = request
        for arg, build, names in self.built:
            args[arg] = await build(**{name: args.pop(name) for name in names if name in args})
        if self.conn_arg is None:
            return await self.endpoint(**args)
        async with read_connection(request) as conn:
            args[self.conn_arg] = conn
            return await self.endpoint(**args)


def _valid(field: Any, raw: str) -> Any:
    value, errors = field.validate(raw)
    if errors:
        raise _FallThrough
    return value


def _scalar(annotation: Any) -> bool:
    """Whether a parameter is one plain value (a number, text, a choice), possibly optional."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return all(a is type(None) or _scalar(a) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) is typing.Literal:
        return all(isinstance(a, str) for a in typing.get_args(annotation))
    return annotation in _SCALARS


def lane_of(route: APIRoute) -> Lane:
    """The lane of a route; TypeError when its declaration holds anything the lane cannot do as FastAPI does."""
    dep = route.dependant
    if dep.header_params or dep.cookie_params or dep.body_params:
        raise TypeError(f"the fast lane reads query and path parameters only: {route.path}")
    special = (
        dep.background_tasks_param_name,
        dep.response_param_name,
        dep.websocket_param_name,
        dep.http_connection_param_name,
        dep.security_scopes_param_name,
    )
    if any(special):
        raise TypeError(f"the fast lane cannot serve {route.path}")
    conn_arg = None
    built = []
    query_params = list(dep.query_params)
    for sub in dep.dependencies:
        if sub.call is get_connection and sub.name is not None:
            conn_arg = sub.name
        elif _builds_from_query(sub) and sub.name is not None:
            assert sub.call is not None
            built.append((sub.name, sub.call, tuple(f.name for f in sub.query_params)))
            query_params += sub.query_params
        else:
            raise TypeError(f"the fast lane knows no dependency {sub.call!r} ({route.path})")
    aliases = [f.alias for f in query_params]
    if len(set(aliases)) != len(aliases) or len({f.name for f in query_params}) != len(aliases):
        raise TypeError(f"the fast lane cannot read a parameter declared twice ({route.path})")
    for field in (*query_params, *dep.path_params):
        info = field.field_info
        # An alias (filter-lang) is read by that name; a validation alias of its own would not be.
        if not _scalar(info.annotation) or info.validation_alias not in (None, field.alias):
            raise TypeError(f"the fast lane cannot read parameter {field.name!r} of {route.path}")
    return Lane(
        endpoint=route.endpoint,
        query={f.alias: f for f in query_params},
        required=frozenset(f.alias for f in query_params if f.field_info.is_required()),
        path=tuple(dep.path_params),
        request_arg=dep.request_param_name,
        conn_arg=conn_arg,
        built=tuple(built),
    )


def _builds_from_query(sub: Any) -> bool:
    """Whether a dependency is a parameter object: an async function of query parameters only (FastAPI awaits
    it inline, as the lane does), with no dependencies, request, body or headers of its own."""
    own = (sub.path_params, sub.header_params, sub.cookie_params, sub.body_params, sub.dependencies)
    return inspect.iscoroutinefunction(sub.call) and not any(own) and sub.request_param_name is None


@dataclass(frozen=True)
class Lanes:
    """The hot routes by path: exact paths, and templates such as /collections/{collection_id}/items."""

    exact: dict[str, Lane]
    templates: tuple[tuple[re.Pattern[str], Lane], ...]

    @classmethod
    def of(cls, routes: Iterable[Any], hot: Iterable[Callable[..., Any]] = HOT) -> Lanes:
        """The lanes of the ``hot`` endpoints' GET routes (each must be among ``routes``)."""
        wanted = set(hot)
        found = [
            r
            for r in routes
            if isinstance(r, APIRoute) and r.endpoint in wanted and "GET" in (r.methods or ())
        ]
        missing = wanted - {r.endpoint for r in found}
        if missing:
            raise TypeError(f"no GET route for {sorted(f.__name__ for f in missing)}")
        exact = {r.path: lane_of(r) for r in found if not r.param_convertors}
        templates = tuple((r.path_regex, lane_of(r)) for r in found if r.param_convertors)
        return cls(exact, templates)

    def read(self, path: str, query_string: bytes) -> tuple[Lane, dict[str, Any]] | None:
        """The lane and arguments of a request it takes, or None when FastAPI is to answer it."""
        lane = self.exact.get(path)
        path_values: dict[str, str] = {}
        if lane is None:
            for pattern, candidate in self.templates:
                match = pattern.match(path)
                if match:
                    lane, path_values = candidate, match.groupdict()
                    break
            else:
                return None
        try:
            return lane, lane.arguments(query_string, path_values)
        except _FallThrough:
            return None


class FastLane:
    """ASGI middleware (innermost): answers well-formed requests to the hot routes itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.lanes = Lanes.of(route for router in _ROUTERS for route in router.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        taken = (
            self.lanes.read(scope["path"], scope["query_string"])
            if scope["type"] == "http" and scope["method"] == "GET"
            else None
        )
        if taken is None:
            await self.app(scope, receive, send)
            return
        lane, args = taken
        request = Request(scope, receive)
        try:
            result = await lane.call(request, args)
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
