"""Bulk submissions of place names from files (GeoJSON, GeoPackage, zipped Shapefile, CSV): all or nothing.

Limits answer clearly: file size (413), feature count (413), zip contents (no absolute or parent paths, no
more than a bounded uncompressed size or ratio: no zip bombs), text encodings (UTF-8 and GB18030/GBK are read;
a Shapefile without a .cpg whose text is neither says which encoding to declare).
"""

from __future__ import annotations

import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import audit
from geo_service.domain.errors import FeatureErrors, InvalidInput, NotFound, PayloadTooLarge
from geo_service.services.keys import Caller
from geo_service.services.naming_check import Proposal, check_all
from geo_service.services.place_name_workflow import insert_proposals
from geo_service.services.vector_io import VECTOR_SUFFIXES, declared_crs, read_vector


@dataclass(frozen=True)
class Limits:
    """How much one upload may hold."""

    max_bytes: int = 50 * 1024 * 1024
    max_features: int = 200_000
    max_unzipped_bytes: int = 500 * 1024 * 1024
    max_zip_ratio: int = 200
    max_zip_members: int = 50


NAME_COLUMNS = ("name", "名称", "标准名称", "NAME", "Name")
_CJK = re.compile(r"[\u3400-\u9fff]")
_MOJIBAKE = re.compile(r"[\u0080-\u00ff]")


def check_zip(path: Path, limits: Limits) -> None:
    """Reject archives that could escape their folder or blow up when unpacked."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except zipfile.BadZipFile:
        raise InvalidInput(f"{path.name} is not a valid zip archive") from None
    if len(members) > limits.max_zip_members:
        raise InvalidInput(f"the zip holds {len(members)} files; at most {limits.max_zip_members}")
    total = 0
    for m in members:
        name = PurePosixPath(m.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or re.match(r"^[A-Za-z]:", m.filename):
            raise InvalidInput(f"the zip member {m.filename!r} points outside the archive")
        total += m.file_size
        if m.compress_size and m.file_size / m.compress_size > limits.max_zip_ratio:
            raise PayloadTooLarge(
                f"the zip member {m.filename!r} expands {m.file_size // m.compress_size}×: refused"
            )
    if total > limits.max_unzipped_bytes:
        raise PayloadTooLarge(
            f"the zip unpacks to {total / 1e6:.0f} MB; at most {limits.max_unzipped_bytes / 1e6:.0f} MB"
        )


def _looks_misdecoded(values: pd.Series) -> bool:
    text_values = [v for v in values if isinstance(v, str)]
    return (
        bool(text_values)
        and not any(_CJK.search(v) for v in text_values)
        and any(_MOJIBAKE.search(v) for v in text_values)
    )


def read_upload(path: Path, crs: str, encoding: str | None, limits: Limits) -> Any:
    """The uploaded file as a GeoDataFrame in WGS84, its text decoded right."""
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise InvalidInput(f"{path.name}: upload a .geojson, .gpkg, zipped Shapefile (.zip) or .csv")
    if path.suffix.lower() == ".zip":
        check_zip(path, limits)
    declared_crs(crs)
    frame = read_vector(path, crs, encoding)
    name_col = next((c for c in NAME_COLUMNS if c in frame.columns), None)
    if name_col and encoding is None and path.suffix.lower() == ".zip" and _looks_misdecoded(frame[name_col]):
        # A Shapefile without a .cpg is read as Latin-1; Chinese GIS exports are usually GBK.
        frame = read_vector(path, crs, "GB18030")
        if _looks_misdecoded(frame[name_col]):
            raise InvalidInput(
                "the Shapefile's text is neither UTF-8 nor GBK: declare its encoding (encoding=...)"
            )
    return frame


def proposals_from(frame: Any, category: str | None) -> tuple[list[Proposal], list[dict[str, Any]]]:
    """One proposal per feature, with the errors of features that cannot even be read as one."""
    name_col = next((c for c in NAME_COLUMNS if c in frame.columns), None)
    if name_col is None:
        raise InvalidInput(f"the file needs a name column ({', '.join(NAME_COLUMNS[:3])})")
    if category is None and "category" not in frame.columns:
        raise InvalidInput("give the category (form field) or a 'category' column")
    proposals, errors = [], []
    for i, (row, geom) in enumerate(zip(frame.to_dict("records"), frame.geometry.values, strict=True)):
        name = row.get(name_col)
        cat = category or row.get("category")
        if not isinstance(name, str) or not name.strip():
            errors.append({"index": i, "rule": "name", "message": "the name is empty"})
            name = ""
        proposals.append(
            Proposal(
                name=name.strip(),
                category=str(cat),
                geom=geom,
                division_code=_text(row.get("division_code")),
                origin=_text(row.get("origin")),
                note=_text(row.get("note")),
            )
        )
    return proposals, errors


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value).strip() or None


async def submit(
    conn: AsyncConnection, caller: Caller, path: Path, filename: str, category: str | None, crs: str,
    dry_run: bool, encoding: str | None, limits: Limits,
) -> dict[str, Any]:  # fmt: skip
    """Check every feature; write all of them (and the submission) or none. A dry run writes nothing."""
    frame = read_upload(path, crs, encoding, limits)
    if len(frame) == 0:
        raise InvalidInput("the file holds no features")
    if len(frame) > limits.max_features:
        raise PayloadTooLarge(
            f"the file holds {len(frame):,} features; at most {limits.max_features:,} per upload"
        )
    proposals, errors = proposals_from(frame, category)
    await check_all(conn, proposals)
    for i, p in enumerate(proposals):
        errors += [{"index": i, **v} for v in p.violations]
    if errors:
        errors.sort(key=lambda e: e["index"])
        bad = len({e["index"] for e in errors})
        raise FeatureErrors(
            f"{bad} of {len(proposals)} feature(s) break the rules; nothing was written", errors
        )
    if dry_run:
        return {"submission_id": None, "dry_run": True, "accepted": True, "feature_count": len(proposals),
                "features": [{"index": i, "id": None, "warnings": p.warnings} for i, p in enumerate(proposals)]}  # fmt: skip
    submission_id = str(uuid.uuid4())
    await conn.execute(
        text("INSERT INTO submissions (id, submitted_by, filename, category, crs, dry_run, accepted, feature_count, "
             "result) VALUES (:id, :by, :f, :c, :crs, false, true, :n, '{}')"),
        {"id": submission_id, "by": caller.name, "f": filename[:200], "c": category, "crs": crs, "n": len(proposals)},
    )  # fmt: skip
    ids = await insert_proposals(conn, proposals, caller, submission_id)
    features = [
        {"index": i, "id": pid, "warnings": p.warnings}
        for i, (pid, p) in enumerate(zip(ids, proposals, strict=True))
    ]
    result = {"submission_id": submission_id, "dry_run": False, "accepted": True, "feature_count": len(ids),
              "features": features}  # fmt: skip
    await conn.execute(text("UPDATE submissions SET result = CAST(:r AS jsonb) WHERE id = :id"),
                       {"r": orjson.dumps(result).decode(), "id": submission_id})  # fmt: skip
    await audit.record(conn, caller.name, "submit", "submission", submission_id, None,
                       {"file": filename, "features": len(ids), "crs": crs})  # fmt: skip
    return result


async def get(conn: AsyncConnection, submission_id: str) -> dict[str, Any]:
    """A submission as it was answered, with who made it and when."""
    row = (
        await conn.execute(
            text("SELECT id, submitted_by, filename, category, crs, feature_count, created_at, result "
                 "FROM submissions WHERE id = CAST(:id AS text)"),
            {"id": submission_id},
        )
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"no submission {submission_id}")
    return {"submission_id": row[0], "submitted_by": row[1], "filename": row[2], "category": row[3], "crs": row[4],
            "feature_count": row[5], "created_at": row[6].isoformat(), "features": row[7].get("features", [])}  # fmt: skip
