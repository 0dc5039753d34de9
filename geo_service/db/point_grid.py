"""A fixed grid over the globe for point tables: bbox pages read from a btree instead of a GiST.

A point's cell is ``floor((lon + 180) * 400) * 100000 + floor((lat + 90) * 400)``: cells of 0.0025° (about
250 m), numbered column by column. A btree on (cell, id) that includes the coordinates answers "the first
features in this box" by reading a few entries of each cell the box touches, in (cell, id) order, without
visiting the table; a GiST index has to collect every point in the box and sort them (2,700 in a 0.01° box
of the dense benchmark data) before it can return the first ten.

The database computes the cell in a generated column with the same double-precision arithmetic as
``cell_of`` here, so both agree on every point, including points exactly on a cell edge.
"""

from __future__ import annotations

import math

CELLS_PER_DEGREE = 400
ROW_STRIDE = 100_000  # more than the 72,000 latitude cells: cells of one longitude column are consecutive
#: The cell of ``geom`` in SQL (a generated column of point tables; see migration 0005).
CELL_SQL = (
    f"floor((ST_X(geom) + 180) * {CELLS_PER_DEGREE})::bigint * {ROW_STRIDE} "
    f"+ floor((ST_Y(geom) + 90) * {CELLS_PER_DEGREE})::bigint"
)


def _column(lon: float) -> int:
    return math.floor((lon + 180) * CELLS_PER_DEGREE)


def _row(lat: float) -> int:
    return math.floor((lat + 90) * CELLS_PER_DEGREE)


def cell_of(lon: float, lat: float) -> int:
    """The cell of a point, as the database computes it."""
    return _column(lon) * ROW_STRIDE + _row(lat)


def cells_covering(bbox: tuple[float, float, float, float], most: int) -> list[int] | None:
    """The cells a box touches, in ascending order; None when there are more than ``most``.

    Rounding is monotonic, so a point inside the box has its cell between those of the box's corners.
    """
    minx, miny, maxx, maxy = bbox
    x0, y0, x1, y1 = _column(minx), _row(miny), _column(maxx), _row(maxy)
    if (x1 - x0 + 1) * (y1 - y0 + 1) > most:
        return None
    return [x * ROW_STRIDE + y for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
