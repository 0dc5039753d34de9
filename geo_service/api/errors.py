"""Domain exceptions and database faults mapped to HTTP answers, in one place. No traces or SQL reach clients."""

from __future__ import annotations

import ast
import html
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

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
from geo_service.i18n import language, t

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

#: Data errors that only a client's text causes: answered 400 (the transaction was rolled back).
_BAD_TEXT: dict[str, Callable[[], str]] = {
    "22021": lambda: t(
        "the request contains a NUL character (or another byte no text may hold): nothing was written"
    ),
    "22P05": lambda: t("the request contains a character the database cannot store: nothing was written"),
}
#: Database states a client should hear about in words (nothing was written).
_STATES: dict[str, Callable[[], str]] = {
    "25006": lambda: t("the database is read-only at the moment: nothing was written; try again later"),
    "53100": lambda: t("the database is out of disk space: nothing was written; tell the administrator"),
    "53200": lambda: t("the database is out of memory: nothing was written; try again shortly"),
    "53300": lambda: t("the database has no connection free: nothing was written; try again shortly"),
    "57P01": lambda: t(
        "the database was shut down during the request: nothing was written; try again shortly"
    ),
    "57P03": lambda: t("the database is starting up; try again shortly"),
}


def _unavailable() -> dict[str, str]:
    """The answer of every request the database could not serve (its ``code`` lets a client retry by rule)."""
    return {"detail": t("the database is unavailable; try again shortly"), "code": "database_unavailable"}


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


#: The HTTP reason phrases an answer's ``title`` gives, in the reader's language (RFC 9110 §15).
_TITLES: dict[int, Callable[[], str]] = {
    400: lambda: t("Bad Request"),
    401: lambda: t("Unauthorized"),
    403: lambda: t("Forbidden"),
    404: lambda: t("Not Found"),
    405: lambda: t("Method Not Allowed"),
    406: lambda: t("Not Acceptable"),
    409: lambda: t("Conflict"),
    412: lambda: t("Precondition Failed"),
    413: lambda: t("Request Entity Too Large"),
    415: lambda: t("Unsupported Media Type"),
    422: lambda: t("Unprocessable Entity"),
    428: lambda: t("Precondition Required"),
    429: lambda: t("Too Many Requests"),
    431: lambda: t("Request Header Fields Too Large"),
    500: lambda: t("Internal Server Error"),
    503: lambda: t("Service Unavailable"),
}


def _ogc_members(request: Request, status: int) -> dict[str, object]:
    return ogc_members(request.url.path, status)


def ogc_members(path: str, status: int) -> dict[str, object]:
    """``type``, ``title`` and ``status`` for an error on an OGC API path (RFC 7807, as OGC API asks)."""
    if path != "/" and not path.startswith(_OGC_PREFIXES):
        return {}
    if status in _TITLES:
        title = _TITLES[status]()
    else:
        title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {"type": _OGC_TYPES.get(status, "about:blank"), "title": title, "status": status}


def _html_error(status: int, detail: str) -> HTMLResponse:
    body = (
        f'<!doctype html><html lang="{language()}"><meta charset="utf-8"><title>{status}</title>'
        f'<body style="font-family:sans-serif;margin:2em"><h1>{status}</h1><p>{html.escape(detail)}</p></body></html>'
    )
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


def _field_message(err: dict[str, Any]) -> str:
    """A validation error in the reader's language: pydantic's own text in English, ours by its type otherwise."""
    if language() == "en":
        return str(err.get("msg"))
    ctx = err.get("ctx") or {}
    kind = err.get("type")
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])  # our validators' messages, already through the catalogue
    said = _FIELD_MESSAGES.get(str(kind))
    return said(ctx) if said else str(err.get("msg"))


#: Pydantic's error types a client meets, each in the catalogue (with the limit pydantic reports).
_FIELD_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda c: t("this field is required"),
    "int_parsing": lambda c: t("must be a whole number"),
    "int_from_float": lambda c: t("must be a whole number"),
    "int_type": lambda c: t("must be a whole number"),
    "float_parsing": lambda c: t("must be a number"),
    "float_type": lambda c: t("must be a number"),
    "finite_number": lambda c: t("must be a finite number"),
    "bool_parsing": lambda c: t("must be true or false"),
    "bool_type": lambda c: t("must be true or false"),
    "string_type": lambda c: t("must be text"),
    "dict_type": lambda c: t("must be an object"),
    "model_type": lambda c: t("must be an object"),
    "model_attributes_type": lambda c: t("must be an object"),
    "list_type": lambda c: t("must be a list"),
    "json_invalid": lambda c: t("the body is not valid JSON"),
    "json_type": lambda c: t("the body is not valid JSON"),
    "extra_forbidden": lambda c: t("this field is not allowed"),
    "greater_than": lambda c: t("must be greater than {limit}", limit=c.get("gt")),
    "greater_than_equal": lambda c: t("must be at least {limit}", limit=c.get("ge")),
    "less_than": lambda c: t("must be less than {limit}", limit=c.get("lt")),
    "less_than_equal": lambda c: t("must be at most {limit}", limit=c.get("le")),
    "string_too_short": lambda c: t("must have at least {limit} characters", limit=c.get("min_length")),
    "string_too_long": lambda c: t("must have at most {limit} characters", limit=c.get("max_length")),
    "too_short": lambda c: t("must have at least {limit} items", limit=c.get("min_length")),
    "too_long": lambda c: t("must have at most {limit} items", limit=c.get("max_length")),
    "string_pattern_mismatch": lambda c: t(
        "does not have the expected form ({pattern})", pattern=c.get("pattern")
    ),
    "literal_error": lambda c: _one_of(c),
    "enum": lambda c: _one_of(c),
    "uuid_parsing": lambda c: t("must be a UUID"),
    "date_parsing": lambda c: t("must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": lambda c: t("must be a date (YYYY-MM-DD)"),
    "datetime_parsing": lambda c: t("must be a date and time (RFC 3339)"),
    "datetime_from_date_parsing": lambda c: t("must be a date and time (RFC 3339)"),
}


def _one_of(ctx: dict[str, Any]) -> str:
    """A literal or enum refusal listing the values pydantic expected (its ``'a', 'b' or 'c'``) our way."""
    values = _expected(str(ctx.get("expected", "")))
    if values is None:
        return t("must be one of {expected}", expected=ctx.get("expected"))
    if all(isinstance(v, bool) for v in values) and len(set(values)) == 1:
        return t("must be true") if values[0] else t("must be false")
    shown = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    if len(shown) == 1:
        return t("must be {value}", value=shown[0])
    return t("must be one of {values} or {last}", values=t(", ").join(shown[:-1]), last=shown[-1])


def _expected(said: str) -> list[Any] | None:
    """The values in pydantic's ``'a', 'b' or 'c'`` (None when it says something else)."""
    head, _, last = said.rpartition(" or ")
    try:
        values = ast.literal_eval(f"({head}, {last},)" if head else f"({said},)")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return list(values) if isinstance(values, tuple) and values else None


#: Starlette's own answers (an unknown path, a method a route does not take), in the catalogue.
_HTTP_TEXTS: dict[str, Callable[[], str]] = {
    "Not Found": lambda: t("Not Found"),
    "Method Not Allowed": lambda: t("Method Not Allowed"),
}


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems, listed = [], []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path"))
        said = _field_message(err)
        problems.append(f"{where}: {said}" if where else said)
        listed.append({**err, "msg": said})
    if _wants_html(request):
        return _html_error(422, "; ".join(problems))
    body = {**_ogc_members(request, 422), "detail": "; ".join(problems), "errors": jsonable(listed)}
    return JSONBody(body, status_code=422)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail
    if isinstance(detail, str) and detail in _HTTP_TEXTS:
        detail = _HTTP_TEXTS[detail]()
    body = {**_ogc_members(request, exc.status_code), "detail": detail}
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
        return JSONBody(_unavailable(), status_code=503)
    orig = _original(exc)
    if isinstance(orig, asyncpg.QueryCanceledError):
        return JSONBody({"detail": t("the query took too long and was cancelled")}, status_code=503)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _BAD_TEXT:
        return JSONBody({"detail": _BAD_TEXT[sqlstate]()}, status_code=400)
    if sqlstate in _STATES:
        log.warning("database refused: %s", sqlstate)
        return JSONBody({"detail": _STATES[sqlstate]()}, status_code=503)
    log.exception("unexpected database error")
    return JSONBody({"detail": t("internal error")}, status_code=500)


async def _unexpected(request: Request, exc: Exception) -> JSONBody:
    if _is_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return JSONBody(_unavailable(), status_code=503)
    log.exception("unexpected error")
    return JSONBody({"detail": t("internal error")}, status_code=500)


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
