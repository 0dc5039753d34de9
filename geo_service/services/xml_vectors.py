"""Features of KML and GPX files (what 奥维, 两步路 and other phone mapping apps export), read from their XML.

Read in Python from the tree ``vector_files.parse_xml`` has already checked (no DTD, no entities): GDAL's KML
driver splits folders into layers that cannot be listed without opening the file unrestricted. KML gives each
Placemark's ``name``, ``description`` and ExtendedData fields; GPX its waypoints (points), routes and tracks
(lines) with their ``name`` and ``desc``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t

Feature = tuple[dict[str, Any], BaseGeometry | None]


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if _local(c.tag) == name]


def _text_of(el: Any, name: str) -> str | None:
    found = _children(el, name)
    return (found[0].text or "").strip() if found else None


def _coordinates(el: Any, shown: str) -> list[tuple[float, float]]:
    found = _children(el, "coordinates")
    if not found or not (found[0].text or "").strip():
        raise InvalidInput(t("{file}: a KML geometry has no coordinates", file=shown))
    points = []
    for item in (found[0].text or "").split():
        parts = item.split(",")
        try:
            points.append((float(parts[0]), float(parts[1])))
        except (ValueError, IndexError):
            raise InvalidInput(
                t("{file}: {item!r} is not a KML coordinate (lon,lat[,alt])", file=shown, item=item[:40])
            ) from None
    return points


def _kml_geometry(el: Any, shown: str) -> BaseGeometry | None:
    kind = _local(el.tag)
    if kind == "Point":
        return shapely.Point(_coordinates(el, shown)[0])
    if kind == "LineString":
        return shapely.LineString(_coordinates(el, shown))
    if kind == "Polygon":
        rings = [
            _coordinates(_children(b, "LinearRing")[0], shown)
            for part in ("outerBoundaryIs", "innerBoundaryIs")
            for b in _children(el, part)
            if _children(b, "LinearRing")
        ]
        return shapely.Polygon(rings[0], rings[1:]) if rings else None
    if kind == "MultiGeometry":
        parts = [g for c in el if (g := _kml_geometry(c, shown)) is not None]
        kinds = {p.geom_type for p in parts}
        if kinds == {"Point"}:
            return shapely.MultiPoint(parts)
        if kinds == {"LineString"}:
            return shapely.MultiLineString(parts)
        if kinds == {"Polygon"}:
            return shapely.MultiPolygon(parts)
        return shapely.GeometryCollection(parts) if parts else None
    return None


def _extended(el: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for ext in _children(el, "ExtendedData"):
        for data in _children(ext, "Data"):
            fields[data.get("name", "")] = _text_of(data, "value")
        for schema in _children(ext, "SchemaData"):
            for simple in _children(schema, "SimpleData"):
                fields[simple.get("name", "")] = (simple.text or "").strip()
    return {k: v for k, v in fields.items() if k}


def kml_features(root: Any, shown: str) -> Iterator[Feature]:
    """Every Placemark of a KML document, in document order."""
    for mark in root.iter():
        if _local(mark.tag) != "Placemark":
            continue
        geom = next((g for c in mark if (g := _kml_geometry(c, shown)) is not None), None)
        props = {"name": _text_of(mark, "name"), "description": _text_of(mark, "description")}
        yield {**props, **_extended(mark)}, geom


def _gpx_point(el: Any, shown: str) -> tuple[float, float]:
    try:
        return float(el.get("lon")), float(el.get("lat"))
    except (TypeError, ValueError):
        raise InvalidInput(
            t("{file}: a GPX point needs numeric lat and lon attributes", file=shown)
        ) from None


def gpx_features(root: Any, shown: str) -> Iterator[Feature]:
    """Waypoints as points, routes and tracks as lines (a track of several segments as a multi-line)."""
    for el in root:
        kind = _local(el.tag)
        props = {"name": _text_of(el, "name"), "description": _text_of(el, "desc")}
        if kind == "wpt":
            yield props, shapely.Point(_gpx_point(el, shown))
        elif kind == "rte":
            points = [_gpx_point(p, shown) for p in _children(el, "rtept")]
            yield props, shapely.LineString(points) if len(points) > 1 else None
        elif kind == "trk":
            segments = [
                [_gpx_point(p, shown) for p in _children(s, "trkpt")] for s in _children(el, "trkseg")
            ]
            lines = [shapely.LineString(s) for s in segments if len(s) > 1]
            yield props, (lines[0] if len(lines) == 1 else shapely.MultiLineString(lines) if lines else None)
