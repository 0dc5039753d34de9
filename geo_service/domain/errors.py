"""Domain exceptions: what went wrong, in words a user can act on. The API maps them to status codes."""

from __future__ import annotations

from typing import Any


class GeoServiceError(Exception):
    """Base of every error the service reports to a client."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors raised in the upload worker processes travel back pickled; rebuild them as they were.
        return (_rebuild, (type(self), self.detail), self.__dict__)


def _rebuild(cls: type[GeoServiceError], detail: str) -> GeoServiceError:
    error = cls.__new__(cls)
    Exception.__init__(error, detail)
    return error


class InvalidInput(GeoServiceError):
    """Bad input: a parameter, a file or a geometry the service cannot use."""


class FeatureErrors(InvalidInput):
    """Some features of a file or batch failed; ``errors`` lists them by index, nothing was written."""

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)
        self.errors = errors


class Ambiguous(InvalidInput):
    """A name several records share (``candidates`` lists them): the client must say which, by code."""


class Forbidden(GeoServiceError):
    """The caller may not do this, whatever its role (e.g. review its own proposal)."""


class NotFound(GeoServiceError):
    """The thing asked for does not exist."""


class Conflict(GeoServiceError):
    """The request conflicts with the current state (duplicate name, already decided, ...)."""


class StaleVersion(GeoServiceError):
    """The client's version of a record is not the current one."""


class PreconditionRequired(GeoServiceError):
    """A change that must name the version it applies to (If-Match) did not."""


class PayloadTooLarge(GeoServiceError):
    """An upload beyond the configured limits."""


class UnsupportedMediaType(GeoServiceError):
    """A file of a kind the service does not take (its bytes say so, whatever its name)."""


class Busy(GeoServiceError):
    """Every slot for heavy work (parsing uploads) is taken: try again in ``retry_after`` seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, code="busy")
        self.retry_after = retry_after


class TooManyAttempts(GeoServiceError):
    """Too many failed attempts (sign-ins): try again in ``retry_after`` seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, code="too_many_attempts")
        self.retry_after = retry_after


class DatabaseUnavailable(GeoServiceError):
    """The database cannot be reached right now (``code: database_unavailable``, as every such answer)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="database_unavailable")


class StorageUnavailable(GeoServiceError):
    """The attachment store (a folder or a bucket) cannot be reached right now."""
