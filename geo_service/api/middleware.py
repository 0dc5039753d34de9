"""ASGI middleware kept deliberately small (it runs on every request)."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_service.domain.errors import PayloadTooLarge


class RejectNulBytes:
    """PostgreSQL text cannot hold NUL: refuse it in the path or query string with a 400, not a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("query_string", b"") + scope.get("raw_path", b"")
            if b"%00" in raw or b"\x00" in unquote_to_bytes(raw):
                body = orjson.dumps(
                    {"detail": "the request contains a NUL character, which no text may hold"}
                )
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})  # fmt: skip
                await send({"type": "http.response.body", "body": body})
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
        if length.isdigit() and len(length) < 20 and int(length) > limit:
            await _refuse(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(f"the request body is larger than {_size(limit)}")
            return message

        async def answer(message: Message) -> None:
            # The form parser turns the error above into its own 400; the client must hear 413.
            if seen <= limit:
                await send(message)
            elif message["type"] == "http.response.start":
                await _refuse(send, limit)

        await self.app(scope, counted, answer)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


async def _refuse(send: Send, max_bytes: int) -> None:
    body = orjson.dumps({"detail": f"the request body is larger than {_size(max_bytes)}"})
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


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
