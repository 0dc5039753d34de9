"""Service areas: the union of geodesic discs around a facility type's active facilities, and the divisions
without children (villages, mostly) they are measured against, in the region's local metric CRS.

Both are kept per process (the few last used, keyed by the data versions they hold for): nothing is stored in
the database, so any radius costs no disk and read replicas answer like the primary. The union is kept whole
(drawn on maps, dissolved: no seams) and cut in pieces of a few vertices (measured against each division).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.db import raw, versions
from geo_service.services.disc_union import Geometries, local_srid, reproject, union_and_pieces
from geo_service.services.lru import LRU

log = logging.getLogger("geo_service")

_LEAVES_SQL = (
    "SELECT d.code, ST_AsBinary(d.geom), d.area_m2, coalesce(d.population, 0) FROM divisions d "
    "WHERE NOT EXISTS (SELECT 1 FROM divisions c WHERE c.parent_code = d.code) ORDER BY d.code"
)
_CENTRE_SQL = (
    "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) AS c FROM divisions) s"
)


@dataclass(frozen=True)
class Leaves:
    """The divisions without children in the region's metric CRS, with stored geodesic areas and people."""

    srid: int
    codes: list[str]
    geoms: Geometries
    area_m2: NDArray[np.float64]
    population: NDArray[np.float64]

    def under(self, prefix: str | None) -> NDArray[np.intp]:
        """Indexes of the leaves whose code starts with ``prefix`` (all without one)."""
        return np.array([i for i, c in enumerate(self.codes) if c.startswith(prefix or "")], dtype=np.intp)


@dataclass(frozen=True)
class Facilities:
    """The active facilities of a type: ids and WGS84 positions, by id."""

    ids: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]


@dataclass(frozen=True)
class ServiceArea:
    """The union of service discs in a metric CRS: whole, and in pieces of at most a few vertices."""

    union: shapely.Geometry
    pieces: Geometries


EMPTY = ServiceArea(shapely.Polygon(), np.array([], dtype=object))

_leaves_cache: LRU[tuple[URL, int], Leaves] = LRU(4)
_facilities_cache: LRU[tuple[URL, str, int], Facilities] = LRU(16)
_areas_cache: LRU[tuple[URL, str, float, int, int], ServiceArea] = LRU(8)
_shown_cache: LRU[tuple[URL, str | None, int, int], shapely.Geometry] = LRU(8)


async def leaves(conn: AsyncConnection, divisions_version: int) -> Leaves:
    """The leaf divisions for this divisions version (loaded once per process)."""
    return await _leaves_cache.get_or_compute(
        (conn.engine.url, divisions_version), lambda: _load_leaves(conn)
    )


async def _load_leaves(conn: AsyncConnection) -> Leaves:
    rows = await raw.fetch(conn, _LEAVES_SQL)
    centre = (await raw.fetch(conn, _CENTRE_SQL))[0]
    srid = region_srid(centre[0], centre[1])
    wkb = [r[1] for r in rows]
    geoms = await asyncio.to_thread(lambda: reproject(shapely.from_wkb(wkb), 4326, srid))
    return Leaves(
        srid,
        [r[0] for r in rows],
        geoms,
        np.array([float(r[2] or 0.0) for r in rows]),
        np.array([float(r[3]) for r in rows]),
    )


def region_srid(lon: float | None, lat: float | None) -> int:
    """The metric CRS of the region whose divisions' extent is centred at (lon, lat); with no divisions loaded
    (nothing to measure) the zone of (0, 0): any zone serves an empty region."""
    return local_srid(0.0 if lon is None else lon, 0.0 if lat is None else lat)


async def warm(engine: AsyncEngine) -> None:
    """Load what the first coverage answer of a process needs: the leaf divisions in the local zone (and so a
    worker thread with its projection). Run in the background at start-up; a failure is only logged."""
    try:
        async with engine.connect() as conn:
            await leaves(conn, (await versions.current(conn))["divisions"])
    except Exception as exc:  # the database may be down at start-up; the first answer loads them then
        log.warning("coverage warm-up skipped: %s", exc.__class__.__name__)


async def active_facilities(conn: AsyncConnection, ftype: str, facilities_version: int) -> Facilities:
    """The active facilities of a type (kept per type and version)."""

    async def load() -> Facilities:
        rows = await raw.fetch(
            conn,
            "SELECT id, ST_X(geom), ST_Y(geom) FROM facilities WHERE type = $1 AND status = 'active' "
            "ORDER BY id",
            ftype,
        )
        return Facilities(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype=float),
            np.array([r[2] for r in rows], dtype=float),
        )

    return await _facilities_cache.get_or_compute((conn.engine.url, ftype, facilities_version), load)


def build(lon: NDArray[np.float64], lat: NDArray[np.float64], radius_m: float, srid: int) -> ServiceArea:
    """The service area of facilities at these WGS84 positions (empty without any)."""
    if not len(lon):
        return EMPTY
    union, pieces = union_and_pieces(lon, lat, radius_m, srid)
    return ServiceArea(union, pieces)


async def of_type(
    conn: AsyncConnection, ftype: str, radius_m: float, facilities_version: int, srid: int
) -> ServiceArea:
    """Today's service area of a type at a radius (kept per type, radius and facilities version)."""

    async def compute() -> ServiceArea:
        found = await active_facilities(conn, ftype, facilities_version)
        return await asyncio.to_thread(build, found.lon, found.lat, radius_m, srid)

    return await _areas_cache.get_or_compute(
        (conn.engine.url, ftype, radius_m, facilities_version, srid), compute
    )


async def shown_area(
    conn: AsyncConnection, within: str | None, divisions_version: int, srid: int
) -> shapely.Geometry:
    """The area a map shows in ``srid``: the division ``within``, else the whole region (its top divisions);
    kept per divisions version."""

    async def compute() -> shapely.Geometry:
        if within:
            sql, args = "SELECT ST_AsBinary(geom) FROM divisions WHERE code = $1", [within]
        else:
            sql, args = "SELECT ST_AsBinary(ST_Union(geom)) FROM divisions WHERE parent_code IS NULL", []
        rows = await raw.fetch(conn, sql, *args)
        if not rows or rows[0][0] is None:
            return shapely.Polygon()
        return reproject(np.array([shapely.from_wkb(rows[0][0])], dtype=object), 4326, srid)[0]

    return await _shown_cache.get_or_compute((conn.engine.url, within, divisions_version, srid), compute)


def to_geojson(geom: shapely.Geometry, srid: int, tolerance: float) -> str | None:
    """A metric geometry as WGS84 GeoJSON, simplified by ``tolerance`` degrees; None when empty."""
    if geom.is_empty:
        return None
    wgs84 = reproject(np.array([geom], dtype=object), srid, 4326)[0]
    wgs84 = shapely.simplify(wgs84, tolerance, preserve_topology=True)
    if wgs84.is_empty:
        return None
    # 5 decimals (~1 m) are all a map shows: a smaller page.
    return str(shapely.to_geojson(shapely.transform(wgs84, lambda xy: np.round(xy, 5))))
