"""Rate limits on public requests, per client address: a token bucket, 429 with Retry-After beyond it.

Staff are not limited: a request beyond the limit whose credentials hold (a key, or a signed-in person's session)
passes. They are looked up each time (one indexed query, only for requests beyond the limit), so a revoked key
or an ended session is limited at once. The buckets live in
each worker process; behind a load balancer set ``GEO_TRUST_FORWARDED_FOR`` so that clients are told apart.

Following the ``next`` links of an OGC items query costs a fraction of a request per page, by the features it
asks for: GIS clients page small (GDAL 3.6 by 10, whatever the server allows) and a keyset page costs the
database what the first page does, so a client copying a layer is not punished for paging as it does.
"""

from __future__ import annotations

import math
import time
from urllib.parse import parse_qsl

import orjson
from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from geo_service.api.errors import ogc_members
from geo_service.api.identity import has_credentials, identify
from geo_service.i18n import t

MAX_CLIENTS = 100_000  # buckets kept; the least recently seen go first
#: A next page of OGC items costs its limit / this (at most one request): 10 features cost 1/20.
PAGE_FEATURES_PER_REQUEST = 200


def request_cost(path: str, query_string: bytes) -> float:
    """What a request takes from its client's allowance: 1, or less for a next page of OGC items."""
    if b"after=" not in query_string or not (path.startswith("/collections/") and path.endswith("/items")):
        return 1.0
    limit = 100  # the items endpoint's default
    for key, value in parse_qsl(query_string.decode("latin-1")):
        if key == "limit":
            limit = int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 10_000
    return min(1.0, max(limit, 1) / PAGE_FEATURES_PER_REQUEST)


class RateLimit:
    """``per_minute`` requests a minute per client, bursts up to ``burst``; 0 switches the limit off."""

    def __init__(self, app: ASGIApp, per_minute: int, burst: int, trust_forwarded_for: bool = False) -> None:
        self.app = app
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.trust_forwarded_for = trust_forwarded_for
        self.buckets: dict[str, tuple[float, float]] = {}

    def _client(self, scope: Scope, headers: Headers) -> str:
        if self.trust_forwarded_for and "x-forwarded-for" in headers:
            return headers["x-forwarded-for"].split(",")[0].strip()
        client = scope.get("client")
        return client[0] if client else "unknown"

    async def _is_staff(self, scope: Scope, headers: Headers) -> bool:
        request = Request(scope)
        if not has_credentials(request):
            return False
        engine = scope["app"].state.engine
        async with engine.connect() as conn:
            try:
                return await identify(request, conn) is not None
            except HTTPException:
                return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or scope["path"].startswith(("/health", "/static/")):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = self._client(scope, headers)
        now = time.monotonic()
        tokens, last = self.buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        cost = request_cost(scope["path"], scope["query_string"])
        if tokens < cost and not await self._is_staff(scope, headers):
            self.buckets[client] = (tokens, now)
            wait = math.ceil((cost - tokens) / self.rate)
            body = orjson.dumps(
                {
                    **ogc_members(scope["path"], 429),
                    "detail": t(
                        "too many requests from {client}: try again in {wait} s", client=client, wait=wait
                    ),
                }
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"retry-after", str(wait).encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.buckets[client] = (tokens - cost if tokens >= cost else tokens, now)
        if len(self.buckets) > MAX_CLIENTS:
            self.buckets.pop(next(iter(self.buckets)))
        await self.app(scope, receive, send)
