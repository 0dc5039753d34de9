"""Query parameters shared by routers, validated with messages that say what to fix."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from geo_service.domain.crs import to_wgs84

CrsName = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]

Lon = Annotated[
    float,
    Query(
        ge=-180, le=180, allow_inf_nan=False, description="Longitude in the request's `crs` (lon, lat order)."
    ),
]
Lat = Annotated[
    float, Query(ge=-90, le=90, allow_inf_nan=False, description="Latitude in the request's `crs`.")
]
Crs = Annotated[
    CrsName,
    Query(
        description="Coordinate system of input and output coordinates: wgs84, cgcs2000, gcj02 (AMap), bd09."
    ),
]
Level = Literal["district", "township", "village"]
Mode = Literal["radius", "presence"]
Radius = Annotated[
    float | None,
    Query(
        gt=0, le=100_000, allow_inf_nan=False, description="Service radius in metres (default: the type's)."
    ),
]
#: A division code: 6, 9 or 12 ASCII digits (a pattern's \d would take any script's digits).
DIVISION_CODE_PATTERN = r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$"
DivisionCode = Annotated[str | None, Query(pattern=DIVISION_CODE_PATTERN, description="A division code.")]
DistrictCode = Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="A district code (6 digits).")]
#: A division by code or by name: digits only must be a code (no name is all digits, in any script), and a
#: name holds no U+FFFD (what bytes that were not UTF-8 became).
DIVISION_REF_PATTERN = "^(?:[0-9]{6}(?:[0-9]{3}(?:[0-9]{3})?)?|[^\ufffd]*[^\\d\ufffd][^\ufffd]*)$"
DivisionRef = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        pattern=DIVISION_REF_PATTERN,
        description="A division: its code (440106) or its full name (天河区, 石牌街道); a name several "
        "divisions share is a 422 listing their codes.",
    ),
]


def point_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """An input point converted to WGS84."""
    x, y = to_wgs84(crs, lon, lat)
    return float(x), float(y)


#: A database id in a path: a positive 64-bit integer (anything larger is a 422, not a database error).
#: A GeoJSON answer or the same as a file to download (coverage gaps, uncovered areas).
GeoFileFormat = Annotated[Literal["json", "geojson", "gpkg"], Query(description="json, or a file download.")]
Id = Annotated[int, Path(ge=1, le=9_223_372_036_854_775_807, description="A feature id.")]
