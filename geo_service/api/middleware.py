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
    """Refuse JSON (non-upload) bodies over ``max_bytes`` with a 413 before reading them into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        if headers.get(b"content-type", b"").startswith(b"multipart/"):
            await self.app(scope, receive, send)  # uploads have their own, larger limit
            return
        length = headers.get(b"content-length", b"")
        if length.isdigit() and (len(length) > 18 or int(length) > self.max_bytes):  # int() has a digit limit
            await _refuse(send, self.max_bytes)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise PayloadTooLarge(f"the request body is larger than {self.max_bytes // 1024} KB")
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, max_bytes: int) -> None:
    body = orjson.dumps({"detail": f"the request body is larger than {max_bytes // 1024} KB"})
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
