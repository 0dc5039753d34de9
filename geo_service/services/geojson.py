"""GeoJSON output: features assembled from JSON the database built, serialised once with orjson.

The database returns each feature's geometry (``ST_AsGeoJSON``) and properties (``json_build_object``)
as JSON text; in WGS84 they are spliced in unparsed. Other output systems (GCJ-02, BD-09) need the
coordinates converted here, since PostGIS knows no GCJ-02.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from geo_service.domain.crs import convert_geojson, normalize_crs


def geometry_fragment(geometry_json: str | None, crs: str) -> orjson.Fragment | dict[str, Any] | None:
    """The geometry for output in ``crs``: spliced as is for WGS84/CGCS2000, converted otherwise."""
    if geometry_json is None:
        return None
    if normalize_crs(crs) in ("wgs84", "cgcs2000"):
        return orjson.Fragment(geometry_json)
    return convert_geojson(orjson.loads(geometry_json), crs)


def feature(feature_id: Any, geometry_json: str | None, properties_json: str, crs: str) -> dict[str, Any]:
    """One GeoJSON Feature from database JSON."""
    return {
        "type": "Feature",
        "id": feature_id,
        "geometry": geometry_fragment(geometry_json, crs),
        "properties": orjson.Fragment(properties_json),
    }


def features(rows: Iterable[Sequence[Any]], crs: str) -> list[dict[str, Any]]:
    """Features from rows of (id, geometry JSON, properties JSON); the output system decided once for all."""
    if normalize_crs(crs) not in ("wgs84", "cgcs2000"):
        return [feature(r[0], r[1], r[2], crs) for r in rows]
    fragment = orjson.Fragment
    return [
        {
            "type": "Feature",
            "id": r[0],
            "geometry": None if r[1] is None else fragment(r[1]),
            "properties": fragment(r[2]),
        }
        for r in rows
    ]


def feature_collection(
    rows: Iterable[Sequence[Any]], crs: str, members: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A FeatureCollection from rows of (id, geometry JSON, properties JSON), plus extra members."""
    return {"type": "FeatureCollection", "features": features(rows, crs), **(members or {})}


def dumps(document: dict[str, Any]) -> bytes:
    """Serialise a GeoJSON document."""
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)


def parsed(feature: dict[str, Any]) -> dict[str, Any]:
    """A feature with its database JSON read into Python values (to read or add to its properties)."""
    return dict(orjson.loads(orjson.dumps(feature)))
