"""Response classes: JSON and GeoJSON serialised with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class JSONBody(JSONResponse):
    """application/json, serialised by orjson (numpy and dates included)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


class GeoJSONBody(JSONBody):
    """application/geo+json (RFC 7946)."""

    media_type = "application/geo+json"


class ErrorBody(BaseModel):
    """Every error: a detail a person can act on (and, for rule violations, the list of them)."""

    detail: str
    errors: list[dict[str, Any]] | None = None


def error_response(description: str) -> dict[str, Any]:
    """An error's entry in an endpoint's ``responses`` (the JSON body with its ``detail``)."""
    return _error(description)


def _error(description: str) -> dict[str, Any]:
    # Errors are application/json whatever the endpoint's own media type (GeoJSON, HTML) is.
    return {"model": ErrorBody, "description": description, "content": {"application/json": {}}}


#: Errors any endpoint may answer (declared once for the whole OpenAPI document).
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Bad input: the detail says what to fix"),
    404: _error("Not found"),
    422: _error("Invalid parameters or body, or naming rules broken (errors lists each)"),
    429: _error("Too many requests from this client: see Retry-After"),
    503: _error("The database is unavailable or the query took too long"),
}
#: Errors of the write endpoints.
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("No valid API key"),
    403: _error("The key's role is too low"),
    409: _error("Conflict: a duplicate name (conflicting_ids), or already decided"),
    412: _error("Stale version: reload and try again"),
    413: _error("Upload too large"),
    428: _error("If-Match with the version is required"),
}


def download_responses(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of an endpoint whose 200 is one of ``media_types`` (JSON, or a file download)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    content = {m.split(";")[0]: ({} if m == "application/json" else binary) for m in media_types}
    return {200: {"description": "The answer, or the file in the format asked for.", "content": content}}
