"""Imports of administrative boundaries and facilities from vector files: validated, all or nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.db import audit
from geo_service.db.models import DIVISION_LEVELS, FACILITY_STATUSES, Division, Facility, FacilityType
from geo_service.domain.digits import ascii_digits
from geo_service.domain.errors import FeatureErrors, InvalidInput
from geo_service.domain.geometry_input import geometry_word, invalid_reason
from geo_service.i18n import t
from geo_service.services.locate import assign_facility_divisions
from geo_service.services.upload_rows import first_row, not_finite, where
from geo_service.services.vector_io import read_vector

CODE_LENGTH = {"district": 6, "township": 9, "village": 12}
PARENT_LEVEL = {"township": "district", "village": "township"}
FACILITY_COLUMNS = ("name", "address", "phone", "opening_hours", "capacity", "status")


@dataclass
class ImportReport:
    """What an import did."""

    what: str
    rows: int
    repaired: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _label(frame: pd.DataFrame, i: int) -> str:
    """Feature ``i`` as its file shows it (``row 5`` of a CSV, ``feature 4`` of others: the reader puts the
    first feature's row in ``frame.attrs["first_row"]``), with its code or name."""
    at = where(i, frame.attrs.get("first_row", 1))
    for col in ("code", "adcode", "name"):
        label = frame.iloc[i][col] if col in frame.columns else None
        if pd.notna(label) and str(label).strip():
            return t("{where} ({label})", where=at, label=label)
    return at


def _coordinate_errors(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    errors = []
    bounds = shapely.bounds(frame.geometry.values)
    for i, (minx, miny, maxx, maxy) in enumerate(bounds):
        if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
            errors.append(
                {
                    "index": i,
                    "rule": "coordinates",
                    "message": t("{feature}: {problem}", feature=_label(frame, i), problem=not_finite()),
                }
            )
        elif minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            errors.append(
                {
                    "index": i,
                    "rule": "coordinates",
                    "message": t(
                        "{feature}: lon/lat out of range (is the declared CRS right?)",
                        feature=_label(frame, i),
                    ),
                }
            )
    return errors


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = [p for g in parts for p in getattr(g, "geoms", [g])]
    return MultiPolygon(polys)


def _normalise_code(raw: Any, level: str) -> str | None:
    code = str(raw).strip() if raw is not None and not (isinstance(raw, float) and math.isnan(raw)) else ""
    if code.endswith(".0"):
        code = code[:-2]
    want = CODE_LENGTH[level]
    if len(code) == 12 and want < 12 and set(code[want:]) == {"0"}:
        code = code[:want]  # 12-digit statistical code of a district or township
    return code if len(code) == want and ascii_digits(code, want) else None


class _Rejected(Exception):
    """A feature that cannot be imported: left out of the records, reported in ``errors[]``."""

    def __init__(self, index: int, rule: str, message: str) -> None:
        super().__init__(message)
        self.problem = {"index": index, "rule": rule, "message": message}


def _division_code(frame: gpd.GeoDataFrame, i: int, raw: Any, level: str, seen: set[str]) -> str:
    """Feature ``i``'s code of ``level``, normalised; one the file has not given before."""
    code = _normalise_code(raw, level)
    if code is None:
        raise _Rejected(
            i,
            "code",
            t(
                "{feature}: a {level} code has {digits} digits",
                feature=_label(frame, i),
                level=level,
                digits=CODE_LENGTH[level],
            ),
        )
    if code in seen:
        raise _Rejected(i, "code", t("{feature}: code {code} repeats", feature=_label(frame, i), code=code))
    seen.add(code)
    return code


def _boundary(frame: gpd.GeoDataFrame, i: int, repaired: list[str]) -> MultiPolygon:
    """Feature ``i``'s boundary: polygonal and valid, repaired (and said so in ``repaired``) when it can be."""
    geom = frame.geometry.iloc[i]
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise _Rejected(
            i,
            "geometry",
            t(
                "{feature}: a boundary is a polygon, not a {kind}",
                feature=_label(frame, i),
                kind=geometry_word(geom.geom_type),
            ),
        )
    if not geom.is_valid:
        reason = invalid_reason(geom)
        fixed = _polygonal(shapely.make_valid(geom))
        if fixed.is_empty or fixed.area == 0:
            raise _Rejected(
                i,
                "geometry",
                t(
                    "{feature}: invalid geometry ({reason}) cannot be repaired",
                    feature=_label(frame, i),
                    reason=reason,
                ),
            )
        repaired.append(
            t("{feature}: repaired invalid geometry ({reason})", feature=_label(frame, i), reason=reason)
        )
        geom = fixed
    return _polygonal(geom)


def _division(data: dict[str, Any], code: str, level: str, geom: MultiPolygon) -> dict[str, Any]:
    """The division row of a checked feature."""
    population = data.get("population")
    return {
        "code": code,
        "name": str(data["name"]).strip(),
        "level": level,
        "kind": data.get("kind") if isinstance(data.get("kind"), str) else None,
        "parent_code": code[: CODE_LENGTH[PARENT_LEVEL[level]]] if level in PARENT_LEVEL else None,
        "population": int(population) if population is not None and pd.notna(population) else None,
        "geometry_source": data.get("geometry_source") or "imported",
        "geom": geom,
    }


def prepare_divisions(frame: gpd.GeoDataFrame, level: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Validate boundary features for a level: codes, names, polygonal valid geometry (repaired if possible)."""
    if level not in DIVISION_LEVELS:
        raise InvalidInput(
            t("unknown level {level!r}: use one of {known}", level=level, known=", ".join(DIVISION_LEVELS))
        )
    code_col = next((c for c in ("code", "adcode", f"{level}_code") if c in frame.columns), None)
    if code_col is None or "name" not in frame.columns:
        raise InvalidInput(t("a boundary file needs a 'code' (or 'adcode') column and a 'name' column"))
    errors = _coordinate_errors(frame)
    records: list[dict[str, Any]] = []
    repaired: list[str] = []
    seen: set[str] = set()
    for i, row in enumerate(frame.itertuples(index=False)):
        data = row._asdict()
        try:
            code = _division_code(frame, i, data[code_col], level, seen)
            geom = _boundary(frame, i, repaired)
        except _Rejected as rejected:
            errors.append(rejected.problem)
            continue
        records.append(_division(data, code, level, geom))
    if errors:
        raise FeatureErrors(t("{count} feature(s) rejected; nothing was imported", count=len(errors)), errors)
    return records, repaired


async def write_divisions(conn: AsyncConnection, records: list[dict[str, Any]], replace: bool) -> None:
    """Insert divisions (replace=True updates existing codes; False leaves them as they are)."""
    if not records:
        return
    parents = {r["parent_code"] for r in records if r["parent_code"]}
    if parents:
        found = set((await conn.execute(select(Division.code).where(Division.code.in_(parents)))).scalars())
        found |= {r["code"] for r in records}
        missing = sorted(parents - found)
        if missing:
            raise InvalidInput(
                t(
                    "parent division(s) {codes} are not loaded: import the level above first",
                    codes=", ".join(missing[:10]),
                )
            )
    rows = [{**r, "geom": from_shape(r["geom"], srid=4326)} for r in records]
    stmt = pg_insert(Division)
    if replace:
        cols = ("name", "kind", "parent_code", "population", "geometry_source", "geom")
        stmt = stmt.on_conflict_do_update(
            index_elements=["code"], set_={c: getattr(stmt.excluded, c) for c in cols}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=["code"])
    await conn.execute(stmt, rows)


async def import_boundaries(
    engine: AsyncEngine, path: Path, level: str, crs: str, encoding: str | None = None, actor: str = "cli"
) -> ImportReport:
    """Import a boundary file of one level; existing codes are replaced, all in one transaction."""
    frame = read_vector(path, crs, encoding)
    frame.attrs["first_row"] = first_row(path.name)
    records, repaired = prepare_divisions(frame, level)
    async with engine.begin() as conn:
        await write_divisions(conn, records, replace=True)
        await assign_facility_divisions(conn)
        await audit.record(
            conn,
            actor,
            "import",
            "divisions",
            None,
            None,
            {"file": path.name, "level": level, "crs": crs, "rows": len(records)},
        )
    return ImportReport(f"{level} boundaries", len(records), repaired)


def prepare_facilities(frame: gpd.GeoDataFrame, ftype: str) -> list[dict[str, Any]]:
    """Validate facility features: a point and a name each; other columns become free attributes."""
    records, errors = facility_records(frame, ftype)
    if errors:
        raise FeatureErrors(t("{count} feature(s) rejected; nothing was imported", count=len(errors)), errors)
    return [r for _, r in records]


def _facility_point(frame: gpd.GeoDataFrame, i: int) -> Point:
    """Feature ``i``'s position: a point (a multipoint of one point is that point)."""
    geom = frame.geometry.iloc[i]
    if geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    if not isinstance(geom, Point):
        raise _Rejected(
            i,
            "geometry",
            t(
                "{feature}: a facility is a point, not a {kind}",
                feature=_label(frame, i),
                kind=geometry_word(geom.geom_type),
            ),
        )
    return geom


def _capacity(frame: gpd.GeoDataFrame, i: int, raw: Any) -> int | None:
    """Feature ``i``'s capacity, a whole number (None when the cell is empty)."""
    try:
        return int(float(raw)) if raw is not None and str(raw).strip() not in ("", "nan") else None
    except ValueError:
        raise _Rejected(
            i, "capacity", t("{feature}: capacity is not a number", feature=_label(frame, i))
        ) from None


def _attributes(row: pd.Series) -> dict[str, Any]:
    """The feature's other columns (not a facility column, a division code or an empty cell): free attributes."""
    extra = {
        k: (v.item() if isinstance(v, np.generic) else v)
        for k, v in row.items()
        if k not in (*FACILITY_COLUMNS, "geometry", "id", "type", "geometry_source")
        and not k.endswith("_code")
        and v is not None
        and not (isinstance(v, float) and math.isnan(v))
    }
    return {k: v for k, v in extra.items() if isinstance(v, str | int | float | bool)}


def _text(row: pd.Series, column: str, default: str | None = None) -> str | None:
    value = row.get(column)
    return value if isinstance(value, str) else default


def _facility(frame: gpd.GeoDataFrame, i: int, ftype: str) -> dict[str, Any]:
    """The facility of feature ``i`` (checked in the order: point, name, status, capacity)."""
    row = frame.iloc[i]
    geom = _facility_point(frame, i)
    name = row.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Rejected(i, "name", t("{feature}: the name is empty", feature=_label(frame, i)))
    status = row.get("status") if isinstance(row.get("status"), str) and row.get("status") else "active"
    if status not in FACILITY_STATUSES:
        raise _Rejected(
            i,
            "status",
            t(
                "{feature}: status must be one of {known}",
                feature=_label(frame, i),
                known=", ".join(FACILITY_STATUSES),
            ),
        )
    capacity = _capacity(frame, i, row.get("capacity"))
    phone = row.get("phone")
    return {
        "type": ftype,
        "name": name.strip(),
        "address": _text(row, "address"),
        "phone": str(phone) if phone not in (None, "") and pd.notna(phone) else None,
        "opening_hours": _text(row, "opening_hours"),
        "capacity": capacity,
        "status": status,
        "attributes": _attributes(row),
        "geometry_source": _text(row, "geometry_source", "imported"),
        "geom": geom,
        **({"id": int(row["id"])} if "id" in frame.columns and pd.notna(row.get("id")) else {}),
    }


def facility_records(
    frame: gpd.GeoDataFrame, ftype: str
) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """The facility of each good feature, by index, and the errors of the others (by index)."""
    if "name" not in frame.columns:
        raise InvalidInput(t("a facility file needs a 'name' column"))
    errors = _coordinate_errors(frame)
    bad = {e["index"] for e in errors}
    records: list[tuple[int, dict[str, Any]]] = []
    for i in range(len(frame)):
        if i in bad:
            continue
        try:
            records.append((i, _facility(frame, i, ftype)))
        except _Rejected as rejected:
            errors.append(rejected.problem)
    return records, errors


async def facility_type_codes(conn: AsyncConnection) -> list[str]:
    """The facility types defined in the database."""
    return list((await conn.execute(select(FacilityType.code).order_by(FacilityType.code))).scalars())


async def write_facilities(
    conn: AsyncConnection, records: list[dict[str, Any]], skip_existing: bool
) -> list[int]:
    """Insert facilities, assign their divisions; returns the new ids."""
    if not records:
        return []
    rows = [{**r, "geom": from_shape(r["geom"], srid=4326)} for r in records]
    stmt = pg_insert(Facility)
    if skip_existing:
        stmt = stmt.on_conflict_do_nothing(index_elements=["id"])
    # In the rows' order (the caller pairs them up), except when some may be skipped and so missing.
    returning = stmt.returning(Facility.id, sort_by_parameter_order=not skip_existing)
    ids = list((await conn.execute(returning, rows)).scalars())
    if any("id" in r for r in records):
        await conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('facilities', 'id'), (SELECT max(id) FROM facilities))"
            )
        )
    await assign_facility_divisions(conn, ids)
    return ids


async def import_facilities(
    engine: AsyncEngine, path: Path, ftype: str, crs: str, encoding: str | None = None, actor: str = "cli"
) -> ImportReport:
    """Import facilities of one type from a vector file, all in one transaction."""
    frame = read_vector(path, crs, encoding)
    frame.attrs["first_row"] = first_row(path.name)
    async with engine.begin() as conn:
        known = await facility_type_codes(conn)
        if ftype not in known:
            raise InvalidInput(
                t("unknown facility type {type!r}: use one of {known}", type=ftype, known=", ".join(known))
            )
        records = prepare_facilities(frame, ftype)
        for r in records:
            r.pop("id", None)  # imported facilities get new ids
        ids = await write_facilities(conn, records, skip_existing=False)
        outside = (
            await conn.execute(
                text("SELECT count(*) FROM facilities WHERE id = ANY(:ids) AND district_code IS NULL"),
                {"ids": ids},
            )
        ).scalar_one()
        await audit.record(
            conn,
            actor,
            "import",
            "facilities",
            None,
            None,
            {"file": path.name, "type": ftype, "crs": crs, "rows": len(ids)},
        )
    report = ImportReport(f"{ftype} facilities", len(ids))
    if outside:
        report.warnings.append(t("{count} facility(ies) lie outside every loaded district", count=outside))
    return report
