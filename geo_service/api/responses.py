"""Response classes: JSON and GeoJSON serialised with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response


class JSONBody(Response):
    """application/json, serialised by orjson (numpy and dates included)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


class GeoJSONBody(JSONBody):
    """application/geo+json (RFC 7946)."""

    media_type = "application/geo+json"
