"""File downloads: the media type of the format and a file name that says what the file holds."""

from __future__ import annotations

from fastapi.responses import Response

from geo_service.services import exports


def download(body: bytes, fmt: str, name: str, area_name: str | None = None) -> Response:
    """An attachment named ``name`` (ASCII), with the area's name in ``filename*`` when given."""
    return Response(
        body,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": exports.disposition(name, area_name)},
    )
