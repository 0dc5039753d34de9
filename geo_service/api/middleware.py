"""ASGI middleware kept deliberately small (it runs on every request)."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_service import i18n
from geo_service.domain.errors import PayloadTooLarge
from geo_service.i18n import t


async def _answer(send: Send, status: int, detail: str) -> None:
    """A JSON error answer sent from middleware, before the app sees the request."""
    body = orjson.dumps({"detail": detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HeaderLimits:
    """Refuse a request with more than ``max_count`` header fields, or more than ``max_bytes`` of them in all,
    with a 431 in JSON (RFC 6585). uvicorn with httptools limits neither (h11 only their size, with a plain-text
    400); no client of this API needs more, and each field costs every middleware that reads the headers."""

    def __init__(self, app: ASGIApp, max_count: int = 100, max_bytes: int = 16 * 1024) -> None:
        self.app = app
        self.max_count = max_count
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = sum(len(name) + len(value) for name, value in headers)
            if len(headers) > self.max_count or size > self.max_bytes:
                detail = t(
                    "the request has {count} header fields, {size} bytes in all: at most {max_count} fields and "
                    "{max_kb} KB are accepted",
                    count=len(headers),
                    size=size,
                    max_count=self.max_count,
                    max_kb=self.max_bytes // 1024,
                )
                await _answer(send, 431, detail)
                return
        await self.app(scope, receive, send)


class HeadAsGet:
    """HEAD answered as GET without the body (RFC 9110 §9.3.2): the same status and headers, Content-Length and
    ETag included. FastAPI routes GET only, so every GET route would otherwise answer HEAD with 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class RejectNulBytes:
    """PostgreSQL text cannot hold NUL: refuse it in the path or query string with a 400, not a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("query_string", b"") + scope.get("raw_path", b"")
            if b"%00" in raw or b"\x00" in unquote_to_bytes(raw):
                await _answer(send, 400, t("the request contains a NUL character, which no text may hold"))
                return
        await self.app(scope, receive, send)


class JsonBodyLimit:
    """Refuse bodies over their limit with a 413 while they arrive, before they are read into memory.

    JSON bodies get ``max_bytes``; multipart uploads ``max_upload_bytes`` (a file plus its form fields), counted
    as they stream in, so an upload without a Content-Length cannot fill the disk either.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        upload = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.max_upload_bytes if upload else self.max_bytes
        length = headers.get(b"content-length", b"")
        if length.isdigit() and (len(length) > 18 or int(length) > limit):  # int() has a digit limit
            await _answer(send, 413, t("the request body is larger than {size}", size=_size(limit)))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(t("the request body is larger than {size}", size=_size(limit)))
            return message

        async def answer(message: Message) -> None:
            # The form parser turns the error above into its own 400; the client must hear 413.
            if seen <= limit:
                await send(message)
            elif message["type"] == "http.response.start":
                await _answer(send, 413, t("the request body is larger than {size}", size=_size(limit)))

        await self.app(scope, counted, answer)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


class ReplicaRetry:
    """A GET whose replica failed mid-request is answered again, once, from the primary: no request is lost."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if (
            held
            and held[0]["type"] == "http.response.start"
            and held[0]["status"] == 503
            and scope.get("state", {}).get("replica_failed")
        ):
            scope["state"]["replica_failed"] = False
            await self.app(scope, receive, send)  # the failed replica is skipped now
            return
        for message in held:
            await send(message)


class Language:
    """Answer in the language the client accepts (``Accept-Language``): every message below is rendered in it
    (:mod:`geo_service.i18n`). Errors say which language they are in (``Content-Language``) and that it depends on
    the header (``Vary``), so no cache hands a Chinese answer to an English reader."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")
        lang = i18n.from_accept_language(header.decode("latin-1"))

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                extra = [(b"content-language", lang.encode()), (b"vary", b"Accept-Language")]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        with i18n.use(lang):
            await self.app(scope, receive, labelled)
