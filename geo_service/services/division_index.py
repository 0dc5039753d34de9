"""The divisions in memory, for checking many geometries at once (bulk submissions).

One query per request locates a single point well, but a file of 100,000 features wants a spatial index in
this process: an STRtree per level and the region's union, cached until the divisions change. The border
rule is the database's: a point covered by two divisions belongs to the one with the lowest code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import versions


@dataclass
class DivisionIndex:
    """Division geometries by code, an STRtree per level, and the region as one prepared geometry."""

    codes: dict[str, np.ndarray]
    trees: dict[str, shapely.STRtree]
    by_code: dict[str, BaseGeometry]
    region: BaseGeometry

    def locate(self, points: np.ndarray, level: str) -> list[str | None]:
        """The lowest code of the division of ``level`` covering each point (None outside)."""
        out: list[str | None] = [None] * len(points)
        if level not in self.trees:
            return out
        hits = self.trees[level].query(points, predicate="covered_by")
        codes = self.codes[level]
        for i, j in zip(hits[0], hits[1], strict=True):
            code = str(codes[j])
            current = out[i]
            if current is None or code < current:
                out[i] = code
        return out

    def in_region(self, geoms: np.ndarray) -> np.ndarray:
        """Whether each geometry lies wholly within the loaded region."""
        return shapely.covered_by(geoms, self.region)


_cache: dict[tuple[str, int], DivisionIndex] = {}


async def division_index(conn: AsyncConnection) -> DivisionIndex:
    """The index for the current divisions (rebuilt when they change)."""
    key = (conn.engine.url.render_as_string(), (await versions.current(conn))["divisions"])
    if key in _cache:
        return _cache[key]
    rows = (
        await conn.execute(text("SELECT code, level, ST_AsBinary(geom) FROM divisions ORDER BY code"))
    ).all()
    geoms = shapely.from_wkb([bytes(r[2]) for r in rows])
    by_code = {r[0]: g for r, g in zip(rows, geoms, strict=True)}
    codes: dict[str, np.ndarray] = {}
    trees: dict[str, shapely.STRtree] = {}
    for level in ("district", "township", "village"):
        idx = [i for i, r in enumerate(rows) if r[1] == level]
        if idx:
            codes[level] = np.array([rows[i][0] for i in idx])
            trees[level] = shapely.STRtree(geoms[idx])
    districts = [g for r, g in zip(rows, geoms, strict=True) if r[1] == "district"]
    region = shapely.union_all(districts) if districts else shapely.Polygon()
    shapely.prepare(region)
    index = DivisionIndex(codes, trees, by_code, region)
    _cache.clear()  # one database's current divisions at a time is enough
    _cache[key] = index
    return index
