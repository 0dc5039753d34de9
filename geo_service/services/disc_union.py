"""Service discs, their union and the share of each division it covers, with shapely in a metric CRS.

Run in a worker thread (shapely releases the GIL). GEOS in shapely's wheels unions 1,386 discs in ~150 ms,
less than PostGIS on the same data; the union is cut into pieces of at most ``MAX_VERTICES`` vertices
(recursive halving with ``clip_by_rect``, as ``ST_Subdivide`` does) so that each division meets only small
pieces, and each division's covered share is the area of its intersection with the pieces it touches.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

QUAD_SEGS = 16  # 64-gon discs
_N = 4 * QUAD_SEGS
#: Stretch of the polygon radius that gives each 64-gon the area of its circle (+0.08 %).
AREA_STRETCH = math.sqrt(2 * math.pi / (_N * math.sin(2 * math.pi / _N)))
MAX_VERTICES = 128

Geometries = NDArray[np.object_]
_local = threading.local()  # pyproj transformers are not shared between threads


def local_srid(lon: float, lat: float) -> int:
    """A conformal metric CRS for a region: its CGCS2000 3-degree Gauss–Krüger zone in China, else UTM."""
    if 73.5 <= lon <= 136.5 and 0.8 <= lat <= 55.9:
        return 4534 + min(20, max(0, round((lon - 75.0) / 3.0)))
    zone = min(60, max(1, int((lon + 180.0) // 6) + 1))
    return (32600 if lat >= 0 else 32700) + zone


def _transformer(source: int, target: int) -> pyproj.Transformer:
    cache: dict[tuple[int, int], pyproj.Transformer] = _local.__dict__.setdefault("transformers", {})
    key = (source, target)
    if key not in cache:
        cache[key] = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return cache[key]


def reproject(geoms: Geometries, source: int, target: int) -> Geometries:
    """Geometries from one CRS to another (coordinates as lon/lat or x/y)."""
    transformer = _transformer(source, target)

    def coords(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, coords)


def subdivide(geom: shapely.Geometry, max_vertices: int = MAX_VERTICES) -> list[shapely.Geometry]:
    """Pieces of a polygon with at most ``max_vertices`` vertices each, by halving its box."""
    out, stack = [], [geom]
    while stack:
        g = stack.pop()
        if g.is_empty:
            continue
        if shapely.get_num_coordinates(g) <= max_vertices:
            out.append(g)
            continue
        xmin, ymin, xmax, ymax = g.bounds
        if xmax - xmin >= ymax - ymin:
            mid = (xmin + xmax) / 2
            halves = [(xmin, ymin, mid, ymax), (mid, ymin, xmax, ymax)]
        else:
            mid = (ymin + ymax) / 2
            halves = [(xmin, ymin, xmax, mid), (xmin, mid, xmax, ymax)]
        stack.extend(shapely.clip_by_rect(g, *box) for box in halves)
    return [p for g in out for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty]


def discs(lon: NDArray[np.float64], lat: NDArray[np.float64], radius_m: float, srid: int) -> Geometries:
    """Geodesic discs of ``radius_m`` around WGS84 points, as equal-area 64-gons in ``srid``."""
    x, y = _transformer(4326, srid).transform(lon, lat)
    return shapely.buffer(shapely.points(x, y), radius_m * AREA_STRETCH, quad_segs=QUAD_SEGS)


def union_and_pieces(
    lon: NDArray[np.float64], lat: NDArray[np.float64], radius_m: float, srid: int
) -> tuple[shapely.Geometry, Geometries]:
    """The union of the discs around WGS84 points in ``srid``: whole (to draw) and in pieces (to measure)."""
    union = shapely.union_all(discs(lon, lat, radius_m, srid))
    return union, np.array([p for part in shapely.get_parts(union) for p in subdivide(part)], dtype=object)


def covered_ratios(divisions: Geometries, pieces: Geometries) -> NDArray[np.float64]:
    """For each division (metric CRS), the share of its area the pieces (a union, so disjoint) cover."""
    covered: NDArray[np.float64] = np.zeros(len(divisions))
    if len(pieces) and len(divisions):
        tree = shapely.STRtree(pieces)
        which, piece = tree.query(divisions, predicate="intersects")
        parts = shapely.area(shapely.intersection(divisions[which], pieces[piece]))
        covered = np.bincount(which, weights=parts, minlength=len(divisions)).astype(np.float64)
    area = shapely.area(divisions)
    return np.divide(covered, area, out=np.zeros(len(divisions)), where=area > 0).clip(0.0, 1.0)


def uncovered_parts(divisions: Geometries, pieces: Geometries) -> Geometries:
    """Each division (metric CRS) minus the pieces of a union it meets: what lies outside the service area."""
    out = divisions.copy()
    if len(pieces) and len(divisions):
        which, piece = shapely.STRtree(pieces).query(divisions, predicate="intersects")
        order = np.argsort(which, kind="stable")
        which, piece = which[order], piece[order]
        starts = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
        for group in np.split(np.arange(len(which)), starts[1:]) if len(which) else []:
            i = which[group[0]]
            out[i] = shapely.difference(divisions[i], shapely.union_all(pieces[piece[group]]))
    return out
