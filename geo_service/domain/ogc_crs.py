"""Coordinate reference systems of OGC API – Features Part 2: what ``crs`` and ``bbox-crs`` accept.

CRS84 is longitude, latitude. EPSG:4326 and EPSG:4490 (CGCS2000) are defined latitude first, and Part 2 answers
in the axis order a CRS defines; EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E, Guangzhou's plane system)
is northing, easting. CGCS2000 and WGS84 differ by well under a metre: their coordinates are taken as equal.
The service's own names (wgs84, cgcs2000, gcj02, bd09) stay longitude, latitude, as everywhere under /v1.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pyproj import Transformer

from geo_service.i18n import t

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"


@dataclass(frozen=True)
class OgcCrs:
    """A CRS a client may ask for: its URI (None for the offset systems, which have none), how to write it."""

    uri: str | None
    named: str  # the service's name of the datum (wgs84, cgcs2000, gcj02, bd09), for offset conversions
    srid: int = 4326  # the EPSG code coordinates are in (4326 for geographic ones: no transform)
    lat_first: bool = False  # axis order: latitude (or northing) first
    decimals: int = 7  # a centimetre in degrees; millimetres in metres for projected systems

    def geometry_sql(self, column: str = "t.geom") -> str:
        """The geometry as GeoJSON in this CRS and axis order, built in the database."""
        geom = column if self.srid == 4326 else f"ST_Transform({column}, {self.srid})"
        if self.lat_first:
            geom = f"ST_FlipCoordinates({geom})"
        return f"ST_AsGeoJSON({geom}, {self.decimals})"


_WGS84 = OgcCrs(CRS84, "wgs84")
#: The Part 2 systems by URI, in the order collections list them.
SUPPORTED: dict[str, OgcCrs] = {
    CRS84: _WGS84,
    _EPSG_URI + "4326": OgcCrs(_EPSG_URI + "4326", "wgs84", lat_first=True),
    _EPSG_URI + "4490": OgcCrs(_EPSG_URI + "4490", "cgcs2000", lat_first=True),
    _EPSG_URI + "4547": OgcCrs(_EPSG_URI + "4547", "cgcs2000", srid=4547, lat_first=True, decimals=3),
}
#: The service's own names: longitude, latitude (no URI for the offset systems).
_NAMED = {
    "wgs84": _WGS84,
    "cgcs2000": OgcCrs(None, "cgcs2000"),
    "gcj02": OgcCrs(None, "gcj02"),
    "bd09": OgcCrs(None, "bd09"),
}


class UnsupportedCrs(ValueError):
    """A ``crs`` or ``bbox-crs`` this service does not offer."""


def parse(value: str | None) -> OgcCrs:
    """The CRS a ``crs``/``bbox-crs`` parameter names: a URI, ``EPSG:nnnn``, ``CRS84`` or a service name."""
    if value is None or value == "":
        return _WGS84
    text = value.strip()
    if text.startswith(("[", "<")) and text.endswith(("]", ">")):  # a safe CURIE [EPSG:4326] or <uri>
        text = text[1:-1]
    found = SUPPORTED.get(text) or _NAMED.get(text.lower())
    if found is None:
        upper = text.upper()
        if upper in ("CRS84", "OGC:CRS84"):
            found = _WGS84
        elif upper.startswith("EPSG:"):
            found = SUPPORTED.get(_EPSG_URI + upper[5:])
    if found is None:
        offered = ", ".join([*SUPPORTED, "EPSG:4326", "EPSG:4490", "EPSG:4547", *_NAMED])
        raise UnsupportedCrs(
            t("unsupported crs {value!r}: use one of {offered}", value=value, offered=offered)
        )
    return found


@functools.lru_cache(maxsize=8)
def _to_wgs84(srid: int) -> Transformer:
    return Transformer.from_crs(srid, 4326, always_xy=True)


def bbox_to_wgs84(
    bbox: tuple[float, float, float, float], crs: OgcCrs
) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float] | None]:
    """A box given in ``crs`` (its axis order) as minLon, minLat, maxLon, maxLat enclosing it, and the box in
    the CRS's own x/y order when it is projected (for an exact test in the database), else None."""
    a0, b0, a1, b1 = bbox
    if crs.lat_first:
        a0, b0, a1, b1 = b0, a0, b1, a1
    if crs.srid == 4326:
        return (a0, b0, a1, b1), None
    lon0, lat0, lon1, lat1 = _to_wgs84(crs.srid).transform_bounds(a0, b0, a1, b1, densify_pts=21)
    return (lon0, lat0, lon1, lat1), (a0, b0, a1, b1)
