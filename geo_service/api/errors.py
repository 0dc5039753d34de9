"""Domain exceptions and database faults mapped to HTTP answers, in one place. No traces or SQL reach clients."""

from __future__ import annotations

import html
import logging
from http import HTTPStatus

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_service.api.responses import JSONBody
from geo_service.db.raw import is_disconnect
from geo_service.domain.errors import (
    Ambiguous,
    Busy,
    Conflict,
    DatabaseUnavailable,
    FeatureErrors,
    Forbidden,
    GeoServiceError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PreconditionRequired,
    StaleVersion,
    StorageUnavailable,
    TooManyAttempts,
    UnsupportedMediaType,
)

log = logging.getLogger("geo_service")

STATUS = {
    FeatureErrors: 422,
    Ambiguous: 422,
    InvalidInput: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    StaleVersion: 412,
    PreconditionRequired: 428,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    DatabaseUnavailable: 503,
    Busy: 503,
    StorageUnavailable: 503,
    TooManyAttempts: 429,
}

_UNAVAILABLE = "the database is unavailable; try again shortly"
#: Data errors that only a client's text causes: answered 400 (the transaction was rolled back).
_BAD_TEXT = {
    "22021": "the request contains a NUL character (or another byte no text may hold): nothing was written",
    "22P05": "the request contains a character the database cannot store: nothing was written",
}
#: Database states a client should hear about in words (nothing was written).
_STATES = {
    "25006": "the database is read-only at the moment: nothing was written; try again later",
    "53100": "the database is out of disk space: nothing was written; tell the administrator",
    "53200": "the database is out of memory: nothing was written; try again shortly",
    "53300": "the database has no connection free: nothing was written; try again shortly",
    "57P01": "the database was shut down during the request: nothing was written; try again shortly",
    "57P03": "the database is starting up; try again shortly",
}


def _status_of(exc: GeoServiceError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _wants_html(request: Request) -> bool:
    return request.url.path.startswith("/maps/")


#: OGC API exception types (OGC 17-069r4 §7.5.1, RFC 7807 members) for the OGC paths' errors.
_OGC_TYPES = {
    400: "http://www.opengis.net/def/exceptions/ogcapi-features-1/1.0/invalid-parameter-value",
    404: "http://www.opengis.net/def/exceptions/ogcapi-features-1/1.0/not-found",
    422: "http://www.opengis.net/def/exceptions/ogcapi-features-1/1.0/invalid-parameter-value",
}
_OGC_PREFIXES = ("/collections", "/conformance", "/tiles")


def _ogc_members(request: Request, status: int) -> dict[str, object]:
    """``type``, ``title`` and ``status`` for an error on an OGC API path (RFC 7807, as OGC API asks)."""
    path = request.url.path
    if path != "/" and not path.startswith(_OGC_PREFIXES):
        return {}
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {"type": _OGC_TYPES.get(status, "about:blank"), "title": title, "status": status}


def _html_error(status: int, detail: str) -> HTMLResponse:
    body = (f'<!doctype html><html lang="zh"><meta charset="utf-8"><title>{status}</title>'
            f"<body style=\"font-family:sans-serif;margin:2em\"><h1>{status}</h1><p>{html.escape(detail)}</p></body></html>")  # fmt: skip
    return HTMLResponse(body, status_code=status)


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GeoServiceError)
    if _wants_html(request):
        return _html_error(_status_of(exc), exc.detail)
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    status = _status_of(exc)
    body = {**_ogc_members(request, status), "detail": exc.detail, **exc.extra}
    return JSONBody(body, status_code=status, headers=headers)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path"))
        problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    if _wants_html(request):
        return _html_error(422, "; ".join(problems))
    body = {**_ogc_members(request, 422), "detail": "; ".join(problems), "errors": jsonable(exc.errors())}
    return JSONBody(body, status_code=422)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    body = {**_ogc_members(request, exc.status_code), "detail": exc.detail}
    return JSONBody(body, status_code=exc.status_code, headers=exc.headers)


def jsonable(errors: object) -> object:
    """Validation errors without exception objects (pydantic puts them in 'ctx')."""
    if isinstance(errors, list):
        return [jsonable(e) for e in errors]
    if isinstance(errors, dict):
        return {k: jsonable(v) for k, v in errors.items() if k not in ("ctx", "url", "input")}
    return errors


def _original(exc: BaseException) -> BaseException:
    """The driver's exception behind a SQLAlchemy one (or the exception itself)."""
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        return getattr(orig, "__cause__", None) or orig or exc
    return exc


def _is_unavailable(exc: BaseException) -> bool:
    """Whether the database could not be reached, dropped the connection or has none free (vs. a query error,
    or an interface error on a connection that is still open, which is a fault of ours: a 500)."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return is_disconnect(_original(exc))


async def _database(request: Request, exc: Exception) -> JSONBody:
    if _is_unavailable(exc):
        log.warning("database unavailable: %s", type(_original(exc)).__name__)
        return JSONBody({"detail": _UNAVAILABLE, "code": "database_unavailable"}, status_code=503)
    orig = _original(exc)
    if isinstance(orig, asyncpg.QueryCanceledError):
        return JSONBody({"detail": "the query took too long and was cancelled"}, status_code=503)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _BAD_TEXT:
        return JSONBody({"detail": _BAD_TEXT[sqlstate]}, status_code=400)
    if sqlstate in _STATES:
        log.warning("database refused: %s", sqlstate)
        return JSONBody({"detail": _STATES[sqlstate]}, status_code=503)
    if sqlstate == "22021":  # character_not_in_repertoire: a NUL in JSON text ("\u0000") reached the database
        return JSONBody(
            {"detail": "the request contains a NUL character, which no text may hold"}, status_code=400
        )
    log.exception("unexpected database error")
    return JSONBody({"detail": "internal error"}, status_code=500)


async def _unexpected(request: Request, exc: Exception) -> JSONBody:
    if _is_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return JSONBody({"detail": _UNAVAILABLE}, status_code=503)
    log.exception("unexpected error")
    return JSONBody({"detail": "internal error"}, status_code=500)


def install(app: FastAPI) -> None:
    """Register every handler on the app."""
    app.add_exception_handler(GeoServiceError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(PoolTimeout, _database)
    app.add_exception_handler(OSError, _unexpected)  # a lost connection's (503) or a file's (500)
    app.add_exception_handler(asyncpg.PostgresError, _database)
    app.add_exception_handler(asyncpg.InterfaceError, _database)
    app.add_exception_handler(asyncpg.InternalClientError, _database)
    app.add_exception_handler(Exception, _unexpected)
