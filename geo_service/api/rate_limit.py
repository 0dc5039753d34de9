"""Rate limits on public requests, per client address: a token bucket, 429 with Retry-After beyond it.

Staff are not limited: a request beyond the limit whose credentials hold (a key, or a signed-in person's session)
passes. They are looked up each time (one indexed query, only for requests beyond the limit), so a revoked key
or an ended session is limited at once. The buckets live in
each worker process; behind a load balancer set ``GEO_TRUST_FORWARDED_FOR`` so that clients are told apart.
"""

from __future__ import annotations

import math
import time

import orjson
from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from geo_service.api.identity import has_credentials, identify

MAX_CLIENTS = 100_000  # buckets kept; the least recently seen go first


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
        if tokens < 1 and not await self._is_staff(scope, headers):
            self.buckets[client] = (tokens, now)
            wait = math.ceil((1 - tokens) / self.rate)
            body = orjson.dumps({"detail": f"too many requests from {client}: try again in {wait} s"})
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"), (b"retry-after", str(wait).encode()),
                                    (b"content-length", str(len(body)).encode())]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        self.buckets[client] = (tokens - 1 if tokens >= 1 else tokens, now)
        if len(self.buckets) > MAX_CLIENTS:
            self.buckets.pop(next(iter(self.buckets)))
        await self.app(scope, receive, send)
