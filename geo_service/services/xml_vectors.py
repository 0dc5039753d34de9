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

from geo_service.i18n import t

#: A feature's properties and its geometry, or why its geometry cannot be read (that row's error, not the file's).
Feature = tuple[dict[str, Any], BaseGeometry | str | None]


class _Unreadable(Exception):
    """A geometry whose coordinates cannot be read; its text says what is wrong."""


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if _local(c.tag) == name]


def _text_of(el: Any, name: str) -> str | None:
    found = _children(el, name)
    return (found[0].text or "").strip() if found else None


def _coordinates(el: Any) -> list[tuple[float, float]]:
    found = _children(el, "coordinates")
    if not found or not (found[0].text or "").strip():
        raise _Unreadable(t("the KML geometry has no coordinates"))
    points = []
    for item in (found[0].text or "").split():
        parts = item.split(",")
        try:
            points.append((float(parts[0]), float(parts[1])))
        except (ValueError, IndexError):
            raise _Unreadable(t("{item!r} is not a KML coordinate (lon,lat[,alt])", item=item[:40])) from None
    if len(points) < 2 and _local(el.tag) == "LineString":
        raise _Unreadable(t("a line needs at least 2 positions"))
    if len(points) < 4 and _local(el.tag) == "LinearRing":
        raise _Unreadable(t("a polygon's ring needs at least 4 positions (the last repeats the first)"))
    return points


def _kml_geometry(el: Any) -> BaseGeometry | None:
    kind = _local(el.tag)
    if kind == "Point":
        return shapely.Point(_coordinates(el)[0])
    if kind == "LineString":
        return shapely.LineString(_coordinates(el))
    if kind == "Polygon":
        rings = [
            _coordinates(_children(b, "LinearRing")[0])
            for part in ("outerBoundaryIs", "innerBoundaryIs")
            for b in _children(el, part)
            if _children(b, "LinearRing")
        ]
        return shapely.Polygon(rings[0], rings[1:]) if rings else None
    if kind == "MultiGeometry":
        parts = [g for c in el if (g := _kml_geometry(c)) is not None]
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


def kml_features(root: Any) -> Iterator[Feature]:
    """Every Placemark of a KML document, in document order."""
    for mark in root.iter():
        if _local(mark.tag) != "Placemark":
            continue
        props = {"name": _text_of(mark, "name"), "description": _text_of(mark, "description")}
        try:
            geom: BaseGeometry | str | None = next(
                (g for c in mark if (g := _kml_geometry(c)) is not None), None
            )
        except _Unreadable as exc:
            geom = str(exc)
        yield {**props, **_extended(mark)}, geom


def _gpx_point(el: Any) -> tuple[float, float]:
    try:
        return float(el.get("lon")), float(el.get("lat"))
    except (TypeError, ValueError):
        raise _Unreadable(
            t(
                "a GPX point needs numeric lat and lon attributes (lat={lat!r}, lon={lon!r})",
                lat=(el.get("lat") or "")[:20],
                lon=(el.get("lon") or "")[:20],
            )
        ) from None


def _gpx_geometry(el: Any, kind: str) -> BaseGeometry | None:
    if kind == "wpt":
        return shapely.Point(_gpx_point(el))
    if kind == "rte":
        segments = [[_gpx_point(p) for p in _children(el, "rtept")]]
    else:
        segments = [[_gpx_point(p) for p in _children(s, "trkpt")] for s in _children(el, "trkseg")]
    lines = [shapely.LineString(s) for s in segments if len(s) > 1]
    if not lines and any(segments):
        raise _Unreadable(t("a line needs at least 2 positions"))
    return lines[0] if len(lines) == 1 else shapely.MultiLineString(lines) if lines else None


def gpx_features(root: Any) -> Iterator[Feature]:
    """Waypoints as points, routes and tracks as lines (a track of several segments as a multi-line)."""
    for el in root:
        kind = _local(el.tag)
        if kind not in ("wpt", "rte", "trk"):
            continue
        props = {"name": _text_of(el, "name"), "description": _text_of(el, "desc")}
        try:
            geom: BaseGeometry | str | None = _gpx_geometry(el, kind)
        except _Unreadable as exc:
            geom = str(exc)
        yield props, geom
