"""Candidate sites uploaded for siting: points from any vector file a planner has, kept under an id for a while.

The file is read like every upload (``vector_io.read_vector``: one reader per declared kind, in a worker
process) and converted from its declared CRS; each point keeps a label (its name, else its row).
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import i18n
from geo_service.db import audit
from geo_service.db.models import SitingCandidates
from geo_service.domain.errors import FeatureErrors, InvalidInput, NotFound, PayloadTooLarge
from geo_service.domain.geometry_input import geometry_word
from geo_service.i18n import t
from geo_service.services.vector_files import kind_of
from geo_service.services.vector_io import read_vector

#: Most points in one file of candidates, and how long a file is kept.
MAX_POINTS = 5000
KEEP_DAYS = 30
LABEL_COLUMNS = ("name", "名称", "标准名称", "label", "NAME", "Name")
#: An upload id as ``POST /v1/coverage/candidates`` gives it.
ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def read_points(
    path: Path,
    shown: str,
    crs: str,
    encoding: str | None = None,
    layer: str | None = None,
    lang: str = i18n.API_DEFAULT,
) -> list[list[Any]]:
    """The points of a file as [lon, lat, label] in WGS84 (7 decimals); FeatureErrors naming rows that are
    not points. Runs in an upload worker process, which does not share the request's context: its messages are
    in ``lang``, the request's language."""
    with i18n.use(lang):
        return _read_points(path, shown, crs, encoding, layer)


def _read_points(
    path: Path, shown: str, crs: str, encoding: str | None, layer: str | None
) -> list[list[Any]]:
    frame = read_vector(path, crs, encoding, shown=shown, layer=layer, limit=MAX_POINTS + 1)
    if len(frame) > MAX_POINTS:
        raise PayloadTooLarge(
            t("{file}: more than {limit} candidate sites; send fewer", file=shown, limit=MAX_POINTS)
        )
    if not len(frame):
        raise InvalidInput(t("{file}: the file holds no points", file=shown))
    first_row = 2 if kind_of(shown).name == "CSV" else 1
    label_col = next((c for c in LABEL_COLUMNS if c in frame.columns), None)
    points, errors = [], []
    for i, geom in enumerate(frame.geometry.values):
        if geom is not None and geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        row = i + first_row
        if geom is None or geom.geom_type != "Point":
            message = (
                t("row {row}: nothing, not a point", row=row)
                if geom is None
                else t("row {row}: a {kind}, not a point", row=row, kind=geometry_word(geom.geom_type))
            )
            errors.append({"index": i, "row": row, "rule": "geometry", "message": message})
            continue
        lon, lat = round(float(geom.x), 7), round(float(geom.y), 7)
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            errors.append(
                {
                    "index": i,
                    "row": row,
                    "rule": "coordinates",
                    "message": t(
                        "row {row}: coordinates out of range ({lon}, {lat})", row=row, lon=lon, lat=lat
                    ),
                }
            )
            continue
        label = frame[label_col].iloc[i] if label_col else None
        points.append(
            [lon, lat, str(label).strip()[:100] if isinstance(label, str) and label.strip() else f"#{row}"]
        )
    if errors:
        raise FeatureErrors(
            t("{file}: {count} row(s) are not usable candidate sites", file=shown, count=len(errors)),
            errors[:100],
        )
    return points


async def store(conn: AsyncConnection, actor: str | None, filename: str, points: list[list[Any]]) -> str:
    """Keep the points under a new id (and drop files older than ``KEEP_DAYS``)."""
    await conn.execute(
        delete(SitingCandidates).where(
            SitingCandidates.created_at < text(f"now() - interval '{KEEP_DAYS} days'")
        )
    )
    new_id = str(uuid.uuid4())
    await conn.execute(
        insert(SitingCandidates).values(
            id=new_id, created_by=actor, filename=filename, point_count=len(points), points=points
        )
    )
    await audit.record(
        conn,
        actor,
        "upload",
        "siting_candidates",
        new_id,
        None,
        {"filename": filename, "points": len(points)},
    )
    return new_id


async def load(conn: AsyncConnection, set_id: str) -> list[list[Any]]:
    """The points kept under an id; NotFound when there is none (or it was dropped)."""
    found = (
        await conn.execute(select(SitingCandidates.points).where(SitingCandidates.id == set_id))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(
            t(
                "no candidate sites under {id!r} (files are kept {days} days): upload them again",
                id=set_id,
                days=KEEP_DAYS,
            )
        )
    return list(found)
