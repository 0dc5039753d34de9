"""The demand for siting: the people outside today's service area, in units that candidate discs cover whole.

Each village (division without children) outside today's service area is cut by the discs of the candidate
sites into faces (the arrangement of their circles: polygonize the noded boundaries); a face is covered by
exactly the candidates whose disc holds it. Faces of one village covered by the same candidates form one unit
of demand, whose people are the village's people × the unit's area / the village's area: the same area-weighted
population as coverage, so a choice of sites covers exactly the people a what-if with them added gains.

Pure: shapely and numpy in the region's metric CRS; run it in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services.disc_union import Geometries, uncovered_parts
from geo_service.services.mclp import Instance

#: Faces smaller than this (m²) are noise of the overlay, not demand.
MIN_FACE_M2 = 1e-6
#: The most work the arrangement may take: the sum over villages of the square of the number of candidate discs
#: reaching each (its faces grow with it). 300,000 is about 3 s here (从化区 with a 1 km grid and 1 km discs:
#: 284,000); the whole city with every village a candidate is 29,000 at 1 km, 44,000 at 2 km.
MAX_WORK = 300_000


@dataclass(frozen=True)
class Demand:
    """Units of demand (people) and the candidates covering each, with the village each lies in."""

    instance: Instance
    leaf: NDArray[np.intp]  # for each unit, its village (an index into the villages given)


def _faces(part: shapely.Geometry, discs: Geometries) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The faces of ``part`` cut by the discs: their areas, and which discs hold each."""
    if len(discs) == 1:  # one disc: the part inside it is the only face that counts
        return np.array([shapely.area(shapely.intersection(part, discs[0]))]), np.ones((1, 1), dtype=bool)
    lines = shapely.union_all(np.concatenate([[shapely.boundary(part)], shapely.boundary(discs)]))
    faces = shapely.get_parts(shapely.polygonize([lines]))
    faces = faces[shapely.area(faces) > MIN_FACE_M2]
    inside = shapely.point_on_surface(faces)
    keep = shapely.within(inside, part)
    faces, inside = faces[keep], inside[keep]
    held = (
        shapely.contains(discs[None, :], inside[:, None]) if len(faces) else np.zeros((0, len(discs)), bool)
    )
    return shapely.area(faces), held


def demand_units(
    villages: Geometries, people: NDArray[np.float64], pieces: Geometries, discs: Geometries
) -> Demand:
    """The units of demand of the villages (metric) outside the service area ``pieces``, for the candidate
    ``discs`` (metric, in candidate order)."""
    area = shapely.area(villages)
    outside = uncovered_parts(villages, pieces)
    weights: list[float] = []
    sets: list[list[int]] = []
    leaf: list[int] = []
    valid = ~shapely.is_empty(outside) & (shapely.area(outside) > MIN_FACE_M2) & (area > 0)
    if not valid.any() or not len(discs):
        return Demand(Instance.from_sets([], [], len(discs)), np.array([], dtype=np.intp))
    rows, cols = shapely.STRtree(discs).query(outside, predicate="intersects")
    reach = np.bincount(rows[valid[rows]], minlength=len(villages))
    work = int((reach.astype(np.int64) ** 2).sum())
    if work > MAX_WORK:
        raise InvalidInput(
            t(
                "{sites} candidate sites reach the people out of reach today {reach} times (up to {most} in one "
                "village): too many overlapping candidates to weigh exactly; use fewer: a grid with a larger "
                "grid_m (about the radius), a smaller within, or a file of candidate sites",
                sites=len(discs),
                reach=int(reach.sum()),
                most=int(reach.max()),
            )
        )
    order = np.argsort(rows, kind="stable")
    rows, cols = rows[order], cols[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else np.array([], dtype=np.intp)
    for group in np.split(np.arange(len(rows)), starts[1:]) if len(rows) else []:
        i = int(rows[group[0]])
        if not valid[i]:
            continue
        near = cols[group]
        face_area, held = _faces(outside[i], discs[near])
        units: dict[tuple[int, ...], float] = {}
        for a, row in zip(face_area.tolist(), held, strict=True):
            if row.any():
                key = tuple(near[row].tolist())
                units[key] = units.get(key, 0.0) + a
        for key, a in units.items():
            weights.append(float(people[i]) * a / float(area[i]))
            sets.append(list(key))
            leaf.append(i)
    return Demand(Instance.from_sets(weights, sets, len(discs)), np.array(leaf, dtype=np.intp))
