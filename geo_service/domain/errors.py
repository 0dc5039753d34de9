"""Domain exceptions: what went wrong, in words a user can act on. The API maps them to status codes."""

from __future__ import annotations

from typing import Any


class GeoServiceError(Exception):
    """Base of every error the service reports to a client."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(GeoServiceError):
    """Bad input: a parameter, a file or a geometry the service cannot use."""


class FeatureErrors(InvalidInput):
    """Some features of a file or batch failed; ``errors`` lists them by index, nothing was written."""

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)
        self.errors = errors


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


class DatabaseUnavailable(GeoServiceError):
    """The database cannot be reached right now."""
