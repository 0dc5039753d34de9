"""Geometries as clients send them: GeoJSON objects in a declared CRS, checked and converted to WGS84."""

from __future__ import annotations

import math
from typing import Any

import shapely

from geo_service.domain.crs import geometry_to_wgs84
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t


def parse_geometry(geometry: Any, crs: str) -> shapely.Geometry:
    """A GeoJSON geometry object in the declared CRS, as shapely in WGS84; InvalidInput when malformed."""
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise InvalidInput(t("the feature needs a GeoJSON geometry object with a type"))
    try:
        geom = shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises several kinds for malformed coordinates
        raise InvalidInput(t("malformed GeoJSON geometry: {reason}", reason=exc)) from None
    if geom.is_empty:
        raise InvalidInput(t("the geometry is empty"))
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) or not (
        -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    ):
        raise InvalidInput(t("coordinates out of range: lon within ±180, lat within ±90 (lon, lat order)"))
    return geometry_to_wgs84(geom, crs)
