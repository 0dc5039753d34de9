"""Inspection rounds: what staff should inspect next (markers and signs due), nearest first."""

from __future__ import annotations

import math
import re
from typing import Annotated

from fastapi import APIRouter, Query

from geo_service.api.auth import Surveyor
from geo_service.api.deps import ConnDep, SettingsDep
from geo_service.api.params import Crs, point_wgs84
from geo_service.api.responses import GeoJSONBody
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services import inspection_rounds
from geo_service.services.district_limits import default_district

router = APIRouter(prefix="/v1/inspections", tags=["inspections"])
# ASCII digits only: a client's text becomes a number here.
_NEAR = re.compile(r"\s*(-?[0-9]{1,3}(?:\.[0-9]{1,15})?)\s*,\s*(-?[0-9]{1,2}(?:\.[0-9]{1,15})?)\s*")


def _near(value: str | None, crs: str) -> tuple[float, float] | None:
    if value is None:
        return None
    found = _NEAR.fullmatch(value)
    lon, lat = (float(found[1]), float(found[2])) if found else (math.nan, math.nan)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(
            t("near must be lon,lat in degrees (e.g. near=113.32,23.13), not {value!r}", value=value[:60])
        )
    return point_wgs84(lon, lat, crs)


@router.get("/due", summary="Markers and signs due for inspection (staff)", response_class=GeoJSONBody)
async def read_inspections_due(
    conn: ConnDep,
    settings: SettingsDep,
    caller: Surveyor,
    district: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{6}$",
            description="A district (6-digit code): its markers and signs. Default: the caller's own district "
            "for a caller limited to one, else all.",
        ),
    ] = None,
    near: Annotated[
        str | None, Query(max_length=80, description="lon,lat (in `crs`): nearest first from there.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    crs: Crs = "wgs84",
) -> GeoJSONBody:
    """Boundary markers and standing signs whose last inspection is older than `GEO_INSPECTION_DUE_MONTHS`
    (12 by default) or that were never inspected, and every sign to replace (`due_because`: `overdue`,
    `never_inspected`, `to_replace`). With `near`: nearest first, with `distance_m` (geodesic). A caller limited
    to a district sees its markers (those on a line it is a side of) and signs unless it asks for another."""
    district = default_district(caller, district)
    answer = await inspection_rounds.due(
        conn, settings.inspection_due_months, district, _near(near, crs), limit, crs
    )
    return GeoJSONBody(answer)
