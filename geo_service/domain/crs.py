"""Coordinate reference systems: WGS84, CGCS2000, GCJ-02 ("Mars") and BD-09, both ways.

GCJ-02 is the legally mandated offset of Chinese web maps; BD-09 is Baidu's further offset.
The forward formula is public; the inverse has no closed form, so it is found by fixed-point
iteration until the round trip is below a millimetre.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo_service.domain.digits import ascii_int
from geo_service.i18n import t

_A: Final = 6378245.0  # Krasovsky 1940 semi-major axis
_EE: Final = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI: Final = math.pi * 3000.0 / 180.0

#: Named systems a client may declare; EPSG codes are accepted as "EPSG:nnnn" as well.
NAMED_CRS: Final = ("wgs84", "cgcs2000", "gcj02", "bd09")

FloatArray = NDArray[np.float64]


class UnknownCRS(ValueError):
    """A CRS name that is neither a named system nor an EPSG code."""


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall in the rough mainland bounding box where the GCJ-02 offset applies."""
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon_a >= 72.004) & (lon_a <= 137.8347) & (lat_a >= 0.8293) & (lat_a <= 55.8271)


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 offset in degrees at WGS84 points (the published formula)."""
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * math.pi)
    return dlon, dlat


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 → GCJ-02 (closed form; points outside China are unchanged)."""
    lon_a, lat_a = _arrays(lon, lat)
    dlon, dlat = _offset(lon_a, lat_a)
    inside = in_china(lon_a, lat_a)
    return np.where(inside, lon_a + dlon, lon_a), np.where(inside, lat_a + dlat, lat_a)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → WGS84 by fixed-point iteration, converging far below 0.5 m."""
    g_lon, g_lat = _arrays(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(30):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if np.all(np.abs(e_lon) < 1e-10) and np.all(np.abs(e_lat) < 1e-10):
            break
    return w_lon, w_lat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → BD-09 (Baidu)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 → GCJ-02 (the published inverse)."""
    b_lon, b_lat = _arrays(lon, lat)
    x, y = b_lon - 0.0065, b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 → WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    return _arrays(lon, lat)


Converter = Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]

# CGCS2000 (EPSG:4490) differs from WGS84 by well under a metre: accepted as equal.
_TO_WGS84: Final[dict[str, Converter]] = {
    "wgs84": _identity,
    "cgcs2000": _identity,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_FROM_WGS84: Final[dict[str, Converter]] = {
    "wgs84": _identity,
    "cgcs2000": _identity,
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}
_EPSG_ALIASES: Final = {"EPSG:4326": "wgs84", "EPSG:4490": "cgcs2000"}


def normalize_crs(name: str) -> str:
    """Canonical spelling of a declared CRS: a named system or 'EPSG:n'; UnknownCRS otherwise."""
    text = name.strip()
    lowered = text.lower().replace("-", "").replace("_", "")
    if lowered in NAMED_CRS:
        return lowered
    number = ascii_int(lowered[5:], 9) if lowered.startswith("epsg:") else None
    if number is not None:
        code = f"EPSG:{number}"
        return _EPSG_ALIASES.get(code, code)
    raise UnknownCRS(
        t(
            "unknown CRS {name!r}: use one of {named} or an EPSG code such as EPSG:4547",
            name=name,
            named=", ".join(NAMED_CRS),
        )
    )


def to_wgs84(crs: str, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates in a named system to WGS84."""
    return _TO_WGS84[normalize_crs(crs)](lon, lat)


def from_wgs84(crs: str, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 coordinates to a named system."""
    return _FROM_WGS84[normalize_crs(crs)](lon, lat)


def is_offset_crs(crs: str) -> bool:
    """Whether a named system is one of the Chinese offset systems with no EPSG definition."""
    return normalize_crs(crs) in ("gcj02", "bd09")


def geometry_to_wgs84(geom: shapely.Geometry, crs: str) -> shapely.Geometry:
    """Convert a shapely geometry from a named system to WGS84, vertex by vertex."""
    return _apply(geom, _TO_WGS84[normalize_crs(crs)])


def geometry_from_wgs84(geom: shapely.Geometry, crs: str) -> shapely.Geometry:
    """Convert a shapely geometry from WGS84 to a named system, vertex by vertex."""
    return _apply(geom, _FROM_WGS84[normalize_crs(crs)])


def _apply(geom: shapely.Geometry, fn: Converter) -> shapely.Geometry:
    def _xy(coords: FloatArray) -> FloatArray:
        lon, lat = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, _xy)


def convert_geojson(geometry: dict[str, Any], crs: str, to_wgs84: bool = False) -> dict[str, Any]:
    """Convert a GeoJSON geometry object between WGS84 and a named system (new object)."""
    fn = (_TO_WGS84 if to_wgs84 else _FROM_WGS84)[normalize_crs(crs)]
    if fn is _identity:
        return geometry

    def walk(coords: Any) -> Any:
        if coords and isinstance(coords[0], int | float):
            lon, lat = fn(coords[0], coords[1])
            return [round(float(lon), 7), round(float(lat), 7), *coords[2:]]
        if coords and isinstance(coords[0], list) and coords[0] and isinstance(coords[0][0], int | float):
            arr = np.asarray(coords, dtype=float)
            lon, lat = fn(arr[:, 0], arr[:, 1])
            return np.column_stack([np.round(lon, 7), np.round(lat, 7), arr[:, 2:]]).tolist()
        return [walk(c) for c in coords]

    if geometry.get("type") == "GeometryCollection":
        return {**geometry, "geometries": [convert_geojson(g, crs, to_wgs84) for g in geometry["geometries"]]}
    return {**geometry, "coordinates": walk(geometry["coordinates"])}
