"""Where a feature is in an uploaded file, said one way for place-name submissions and facility imports: the row
as a spreadsheet shows it for a CSV (the header is row 1), the feature's 1-based position for other files."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo_service.i18n import t
from geo_service.services.vector_files import kind_of


def first_row(shown: str) -> int:
    """The row number of a file's first feature: 2 in a CSV (its header is row 1), else 1."""
    return 2 if kind_of(shown).name == "CSV" else 1


def where(index: int, first: int) -> str:
    """Feature ``index`` (0-based) as its file shows it: ``row 5`` in a CSV, ``feature 4`` in GeoJSON or KML."""
    if first == 2:
        return t("row {row}", row=index + first)
    return t("feature {number}", number=index + first)


def finite(geom: BaseGeometry) -> bool:
    """Whether every coordinate of ``geom`` is a finite number (an empty geometry has none to fail)."""
    return bool(np.isfinite(shapely.get_coordinates(geom)).all())


def not_finite() -> str:
    """The one message for coordinates that are NaN or infinite, in submissions and facility imports alike."""
    return t("the coordinates are NaN or infinite")
