"""HTTP caching and response headers for every answer, as one small ASGI middleware.

- Public GETs carry a strong ETag (a hash of the body, computed here unless the answer brings it) and
  ``Cache-Control: public, no-cache``: clients and proxies may keep the answer but revalidate it; ``If-None-Match``
  with the current ETag gets 304 with no body.
  A write that changes what an answer shows changes its body and so its ETag at once, in every worker.
- Answers of 4 KB or more go gzipped to clients that accept it (``Vary: Accept-Encoding``, an ETag of their own);
  large ones (kept coverage tables, map pages) are compressed once per ETag. A versioned record's answer is not:
  its ETag is its version (``"3"``), which names one representation.
- Answers to requests with a key are ``private, no-store``.
- Every answer gets ``X-Content-Type-Options: nosniff``; HTML pages also a Content-Security-Policy (the map
  pages' own, which allows their inline scripts by hash; no scripts for any other), framing by this origin only.
"""

from __future__ import annotations

import asyncio
import gzip

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_service.api.conditional import VERSION_ETAG
from geo_service.api.identity import SESSION_COOKIE
from geo_service.services import csp
from geo_service.services.etags import etag_of
from geo_service.services.lru import LRU

_UNCACHED_PREFIXES = ("/health", "/static/", "/docs", "/redoc")


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether the client holds this answer, in either encoding (the same content)."""
    candidates = [c.strip().removeprefix("W/").replace('-gzip"', '"') for c in if_none_match.split(",")]
    return "*" in candidates or etag.replace('-gzip"', '"') in candidates


def _has_session(headers: Headers) -> bool:
    return SESSION_COOKIE in headers.get("cookie", "")


class HttpCache:
    """ETag/304, Cache-Control and security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        path: str = scope["path"]
        keyed = "authorization" in request_headers or _has_session(request_headers)
        cacheable = (
            scope["method"] in ("GET", "HEAD") and not keyed and not path.startswith(_UNCACHED_PREFIXES)
        )
        if not cacheable:

            async def send_plain(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    _security(headers, path)
                    if keyed:
                        headers["Cache-Control"] = "private, no-store"
                await send(message)

            await self.app(scope, receive, send_plain)
            return

        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                assert start is not None
                await self._finish(start, b"".join(chunks), request_headers, path, send)
                return
            await send(message)

        await self.app(scope, receive, buffer)

    async def _finish(
        self, start: Message, body: bytes, request_headers: Headers, path: str, send: Send
    ) -> None:
        headers = MutableHeaders(scope=start)
        _security(headers, path)
        if start["status"] != 200:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        brought = headers.get("etag")  # an answer kept serialised, or a versioned record, brings its own
        etag = brought or etag_of(body)
        # A record's version ETag ("3") names its one representation: not compressed, so never "3-gzip".
        compressible = (
            len(body) >= GZIP_MIN_BYTES
            and headers.get("content-type", "").startswith(_COMPRESSIBLE)
            and not (brought and VERSION_ETAG.fullmatch(brought))
        )
        zipped = compressible and _accepts_gzip(request_headers.get("accept-encoding", ""))
        if compressible:
            headers["Vary"] = "Accept-Encoding"
        if zipped:
            etag = etag[:-1] + '-gzip"'  # another representation, another strong validator
        headers["ETag"] = etag
        headers["Cache-Control"] = "public, no-cache"
        if _matches(request_headers.get("if-none-match", ""), etag):
            not_modified = {
                "type": "http.response.start",
                "status": 304,
                "headers": [
                    (k, v)
                    for k, v in start["headers"]
                    if k.lower() not in (b"content-length", b"content-type")
                ],
            }
            await send(not_modified)
            await send({"type": "http.response.body", "body": b""})
            return
        if zipped:
            body = await _gzip(body, etag)
            headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(len(body))
        await send(start)
        await send({"type": "http.response.body", "body": body})


#: Answers at least this large are sent gzipped to clients that accept it (JSON, GeoJSON, HTML, CSV).
GZIP_MIN_BYTES = 4096
_COMPRESSIBLE = ("application/json", "application/geo+json", "text/html", "text/csv")
#: Large answers are mostly kept ones (coverage tables, map pages): compressed once per ETag.
_KEEP_GZIP_BYTES = 65536
_gzipped: LRU[str, bytes] = LRU(32)


def _accepts_gzip(accept_encoding: str) -> bool:
    for coding in accept_encoding.lower().split(","):
        name, _, params = coding.partition(";")
        if name.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


async def _gzip(body: bytes, etag: str) -> bytes:
    """The body compressed: a large one once per ETag, in a worker thread (a 2 MB page takes ~40 ms)."""
    if len(body) < _KEEP_GZIP_BYTES:
        return gzip.compress(body, compresslevel=6, mtime=0)
    zipped = _gzipped.get(etag)
    if zipped is None:
        zipped = await asyncio.to_thread(gzip.compress, body, 6, mtime=0)
        _gzipped.put(etag, zipped)
    return zipped


def _security(headers: MutableHeaders, path: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    if headers.get("content-type", "").startswith("text/html"):
        # A page with scripts brings its policy (naming their hashes, services/csp.py); other HTML runs none.
        headers.setdefault("Content-Security-Policy", csp.NO_SCRIPTS)
        headers["X-Frame-Options"] = "SAMEORIGIN"
        headers["Referrer-Policy"] = "same-origin"
