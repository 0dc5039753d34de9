"""Loading the shipped sample (``data/boundaries/*.geojson``) into the database, idempotently."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
from geoalchemy2.shape import from_shape
from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.db import audit
from geo_service.db.models import BoundaryLine, BoundaryMarker, MarkerInspection, PlaceName
from geo_service.db.sql import compose, ident
from geo_service.services.imports import (
    prepare_divisions,
    prepare_facilities,
    write_divisions,
    write_facilities,
)
from geo_service.services.sample_build import SAMPLE_FILES
from geo_service.services.vector_io import read_vector


def _date(value: Any) -> dt.date | None:
    if value is None or value == "" or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _none(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


async def _reset_sequence(conn: AsyncConnection, table: str) -> None:
    statement = compose(
        "SELECT setval(pg_get_serial_sequence(:table, 'id'), GREATEST((SELECT max(id) FROM {table}), 1))",
        table=ident(table),
    )
    await conn.execute(text(statement), {"table": table})


async def load_sample(engine: AsyncEngine, sample_dir: Path) -> dict[str, int]:
    """Load every sample file in one transaction; rows already present are left as they are.

    Returns the number of rows of each table after the load.
    """
    missing = [n for n in SAMPLE_FILES if not (sample_dir / f"{n}.geojson").exists()]
    if missing:
        raise FileNotFoundError(
            f"sample files missing in {sample_dir}: {', '.join(missing)}; run `geo-service sample build`"
        )
    frames = {n: read_vector(sample_dir / f"{n}.geojson", "wgs84") for n in SAMPLE_FILES}
    async with engine.begin() as conn:
        divisions = frames["divisions"]
        for level in ("district", "township", "village"):
            records, _ = prepare_divisions(
                divisions[divisions["level"] == level].reset_index(drop=True), level
            )
            await write_divisions(conn, records, replace=False)
        await _load_boundaries(conn, frames["boundary_lines"], frames["boundary_markers"])
        for ftype, group in frames["facilities"].groupby("type"):
            await write_facilities(
                conn, prepare_facilities(group.reset_index(drop=True), str(ftype)), skip_existing=True
            )
        await _load_place_names(conn, frames["place_names"])
        await audit.record(conn, "sample", "load", "sample", None, None, {"dir": str(sample_dir)})
        counts = {}
        for table in (
            "divisions",
            "boundary_lines",
            "boundary_markers",
            "marker_inspections",
            "facilities",
            "place_names",
        ):
            count = compose("SELECT count(*) FROM {table}", table=ident(table))
            counts[table] = int((await conn.execute(text(count))).scalar_one())
    return counts


async def _load_boundaries(conn: AsyncConnection, lines: pd.DataFrame, markers: pd.DataFrame) -> None:
    line_rows = [
        {
            "code": r.code,
            "name": r.name,
            "left_code": r.left_code,
            "right_code": r.right_code,
            "geometry_source": r.geometry_source,
            "geom": from_shape(r.geometry, srid=4326),
        }
        for r in lines.itertuples()
    ]
    await conn.execute(pg_insert(BoundaryLine).on_conflict_do_nothing(index_elements=["code"]), line_rows)
    marker_rows = [
        {
            "id": int(r.id),
            "line_code": r.line_code,
            "number": r.number,
            "kind": r.kind,
            "status": r.status,
            "installed_on": _date(r.installed_on),
            "last_inspected_on": _date(r.last_inspected_on),
            "geometry_source": r.geometry_source,
            "geom": from_shape(r.geometry, srid=4326),
        }
        for r in markers.itertuples()
    ]
    new_ids = set(
        (
            await conn.execute(
                pg_insert(BoundaryMarker)
                .on_conflict_do_nothing(index_elements=["id"])
                .returning(BoundaryMarker.id),
                marker_rows,
            )
        ).scalars()
    )
    inspections = []
    for r in markers.itertuples():
        if int(r.id) not in new_ids:
            continue
        history = json.loads(r.inspections) if isinstance(r.inspections, str) else (r.inspections or [])
        inspections += [
            {
                "marker_id": int(r.id),
                "status": h["status"],
                "inspected_on": _date(h["inspected_on"]),
                "note": h.get("note"),
                "inspector": "sample",
            }
            for h in history
        ]
    if inspections:
        await conn.execute(insert(MarkerInspection), inspections)
    await _reset_sequence(conn, "boundary_markers")


async def _load_place_names(conn: AsyncConnection, names: pd.DataFrame) -> None:
    rows = [
        {
            "id": int(r.id),
            "name": r.name,
            "specific": r.specific,
            "generic": r.generic,
            "category": r.category,
            "pinyin": r.pinyin,
            "pinyin_key": r.pinyin_key,
            "near_key": r.near_key,
            "status": r.status,
            "division_code": r.division_code,
            "district_code": r.district_code,
            "origin": _none(r.origin),
            "approved_on": _date(r.approved_on),
            "geometry_source": r.geometry_source,
            "proposed_by": "sample",
            "geom": from_shape(r.geometry, srid=4326),
        }
        for r in names.itertuples()
    ]
    await conn.execute(pg_insert(PlaceName).on_conflict_do_nothing(index_elements=["id"]), rows)
    await _reset_sequence(conn, "place_names")
