"""Geometries as clients send them: GeoJSON objects in a declared CRS, checked and converted to WGS84.

What is wrong with a geometry is said in our words (a LineString needs two positions, a ring must close…), never
in the geometry library's, which names its internals and is English whatever the reader's language.
"""

from __future__ import annotations

import math
import re
from numbers import Real
from typing import Any

import shapely

from geo_service.domain.crs import geometry_to_wgs84
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t

#: The GeoJSON geometry types (RFC 7946 §3.1) and how deep their coordinates nest (0: one position).
GEOMETRY_TYPES = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def parse_geometry(geometry: Any, crs: str) -> shapely.Geometry:
    """A GeoJSON geometry object in the declared CRS, as shapely in WGS84; InvalidInput when malformed."""
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise InvalidInput(t("the feature needs a GeoJSON geometry object with a type"))
    problem = geojson_problem(geometry)
    if problem is not None:
        raise InvalidInput(t("malformed GeoJSON geometry: {reason}", reason=problem))
    try:
        geom = shapely.geometry.shape(geometry)
    except Exception:  # checked above; a shape the checks missed is still the client's, in our words
        raise InvalidInput(t("the geometry's coordinates cannot be read")) from None
    if geom.is_empty:
        raise InvalidInput(t("the geometry is empty"))
    if not in_range(geom):
        raise InvalidInput(t("coordinates out of range: lon within ±180, lat within ±90 (lon, lat order)"))
    return geometry_to_wgs84(geom, crs)


#: Geometry types as a reader calls them: the GeoJSON name in English, 点/线/面 in Chinese.
_WORDS = {
    "Point": lambda: t("Point"),
    "MultiPoint": lambda: t("MultiPoint"),
    "LineString": lambda: t("LineString"),
    "MultiLineString": lambda: t("MultiLineString"),
    "Polygon": lambda: t("Polygon"),
    "MultiPolygon": lambda: t("MultiPolygon"),
    "GeometryCollection": lambda: t("GeometryCollection"),
}


def geometry_word(kind: str) -> str:
    """A geometry type (``geom_type``, GeoJSON ``type``) in the reader's words, for a message."""
    word = _WORDS.get(kind)
    return word() if word else kind


def in_range(geom: shapely.Geometry) -> bool:
    """Whether every coordinate is a finite longitude (±180) and latitude (±90)."""
    minx, miny, maxx, maxy = geom.bounds
    return all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) and (
        -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    )


def geojson_problem(geometry: dict[str, Any]) -> str | None:
    """What is wrong with a GeoJSON geometry's type and coordinates (None when nothing is)."""
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        parts = geometry.get("geometries")
        if not isinstance(parts, list):
            return t("a GeometryCollection needs a list of geometries")
        for part in parts:
            if not isinstance(part, dict) or "type" not in part:
                return t("a GeometryCollection holds geometry objects with a type")
            problem = geojson_problem(part)
            if problem is not None:
                return problem
        return None
    if not isinstance(kind, str) or kind not in GEOMETRY_TYPES:
        return t(
            "unknown geometry type {kind!r}: use one of {known}",
            kind=str(kind)[:40],
            known=", ".join([*GEOMETRY_TYPES, "GeometryCollection"]),
        )
    coords = geometry.get("coordinates")
    if coords is None:
        return t("a {kind} needs coordinates", kind=geometry_word(kind))
    return _coordinates_problem(kind, coords, GEOMETRY_TYPES[kind])


def _coordinates_problem(kind: str, coords: Any, depth: int) -> str | None:
    if depth == 0:
        return _position_problem(coords)
    if not isinstance(coords, list):
        return t("the coordinates of a {kind} are a list", kind=geometry_word(kind))
    for item in coords:
        problem = _coordinates_problem(kind, item, depth - 1)
        if problem is not None:
            return problem
    if kind in ("LineString", "MultiLineString") and depth == 1 and 0 < len(coords) < 2:
        return t("a line needs at least 2 positions")
    if kind in ("Polygon", "MultiPolygon") and depth == 1:
        if len(coords) < 4:
            return t("a polygon's ring needs at least 4 positions (the last repeats the first)")
        if coords[0] != coords[-1]:
            return t("a polygon's ring must close: its last position repeats the first")
    return None


def _position_problem(position: Any) -> str | None:
    numbers = isinstance(position, list) and all(
        isinstance(v, Real) and not isinstance(v, bool) for v in position
    )
    if not numbers or not 2 <= len(position) <= 3:
        return t("a position is 2 numbers (lon, lat), not {value}", value=_short(position))
    return None


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, list) else "[" + ", ".join(map(repr, value)) + "]"
    return text if len(text) <= 40 else text[:37] + "..."


#: The validity problems GEOS reports (``shapely.is_valid_reason``), each in our words; the place it gives is kept.
_REASONS = {
    "Invalid Coordinate": lambda at: t("missing or non-numeric coordinates"),
    "Self-intersection": lambda at: t("the outline crosses itself at {at}", at=at),
    "Ring Self-intersection": lambda at: t("a ring touches itself at {at}", at=at),
    "Too few points in geometry component": lambda at: t(
        "too few distinct points (a line needs 2, a ring 4) at {at}", at=at
    ),
    "Hole lies outside shell": lambda at: t("a hole lies outside its polygon at {at}", at=at),
    "Holes are nested": lambda at: t("a hole lies inside another hole at {at}", at=at),
    "Interior is disconnected": lambda at: t("the holes cut the polygon in pieces at {at}", at=at),
    "Nested shells": lambda at: t("one part of the multipolygon lies inside another at {at}", at=at),
    "Duplicate Rings": lambda at: t("a ring is given twice at {at}", at=at),
    "Ring is not closed": lambda at: t("a ring does not close at {at}", at=at),
}
_REASON = re.compile(r"^(?P<what>[^\[]+?)\s*(?:\[(?P<x>\S+) (?P<y>\S+)\])?$")


def invalid_reason(geom: shapely.Geometry) -> str:
    """Why a geometry is invalid, in the reader's language (GEOS's reason mapped, with lon, lat where it is)."""
    said = shapely.is_valid_reason(geom) or ""
    found = _REASON.match(said.strip())
    what = found["what"] if found else ""
    if what not in _REASONS:
        return t("the geometry is not valid (a ring or line that crosses or touches itself?)")
    at = (
        t("lon {lon}, lat {lat}", lon=_number(found["x"]), lat=_number(found["y"]))
        if found and found["x"]
        else "?"
    )
    return _REASONS[what](at)


def _number(text: str) -> str:
    try:
        return f"{float(text):.6f}".rstrip("0").rstrip(".")
    except ValueError:
        return text
