"""Bulk submissions of place names from files (GeoJSON, GeoPackage, zipped Shapefile, CSV, KML/KMZ, GPX): all
features or none.

The file is read and checked in a worker process (``upload_pool``, ``upload_parse``); uniqueness against the
register and the write happen here, in one transaction. Limits answer clearly: file size and feature count
(413, reading stops as soon as one is passed), zip contents (no paths outside the archive, no zip bombs),
text encodings (UTF-8, UTF-16 with a byte-order mark and GB18030/GBK are read; a Shapefile without a .cpg
whose text is neither says which encoding to declare).
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.db import audit
from geo_service.domain import naming_warnings
from geo_service.domain.errors import FeatureErrors, Forbidden, NotFound
from geo_service.i18n import t
from geo_service.services.division_index import division_index
from geo_service.services.keys import Caller
from geo_service.services.naming_check import Proposal, check_uniqueness, load_rules
from geo_service.services.place_name_workflow import insert_proposals, outside_district
from geo_service.services.upload_parse import Limits, ParsedUpload, Upload, parse_upload
from geo_service.services.upload_pool import UploadPool
from geo_service.services.vector_files import kind_of
from geo_service.services.vector_io import declared_crs


async def parse(engine: AsyncEngine, pool: UploadPool, upload: Upload, limits: Limits) -> ParsedUpload:
    """Read and check the file in a worker process (the rules and divisions it needs read here first)."""
    declared_crs(upload.crs)
    kind_of(upload.shown)
    async with engine.connect() as conn:
        rules = await load_rules(conn)
        index = await division_index(conn)
    return await pool.run(parse_upload, upload, limits, rules, index)


def _raise_errors(parsed: ParsedUpload) -> None:
    found = parsed.errors + [{"index": i, **v} for i, p in enumerate(parsed.proposals) for v in p.violations]
    # A problem two rules both see (an empty name: the reader and the character rule) is told once.
    errors: list[dict[str, Any]] = []
    told: set[tuple[int, str]] = set()
    for e in found:
        if (e["index"], e["message"]) not in told:
            told.add((e["index"], e["message"]))
            errors.append(e)
    if not errors:
        return
    for e in errors:
        e["row"] = e["index"] + parsed.first_row
        e["name"] = parsed.proposals[e["index"]].name
    errors.sort(key=lambda e: e["index"])
    bad = len({e["index"] for e in errors})
    raise FeatureErrors(
        t(
            "{bad} of {count} feature(s) break the rules; nothing was written",
            bad=bad,
            count=len(parsed.proposals),
        ),
        errors,
    )


async def commit(
    conn: AsyncConnection, caller: Caller, parsed: ParsedUpload, upload: Upload
) -> dict[str, Any]:
    """Check uniqueness and write every feature (and the submission) or none. A dry run writes nothing."""
    proposals = parsed.proposals
    _within_district(caller, parsed)
    await check_uniqueness(
        conn, proposals, lock=not upload.dry_run
    )  # a dry run writes nothing: waits for no one
    _raise_errors(parsed)
    features = [_echo(i, p, parsed.first_row) for i, p in enumerate(proposals)]
    if upload.dry_run:
        return {
            "submission_id": None,
            "dry_run": True,
            "accepted": True,
            "feature_count": len(proposals),
            "features": _shown(features),
        }
    submission_id = str(uuid.uuid4())
    await conn.execute(
        text(
            "INSERT INTO submissions (id, submitted_by, filename, category, crs, dry_run, accepted, "
            "feature_count, result) VALUES (:id, :by, :f, :c, :crs, false, true, :n, '{}')"
        ),
        {
            "id": submission_id,
            "by": caller.name,
            "f": upload.shown[:200],
            "c": upload.category,
            "crs": upload.crs,
            "n": len(proposals),
        },
    )
    ids = await insert_proposals(conn, proposals, caller, submission_id)
    for feature, pid in zip(features, ids, strict=True):
        feature["id"] = pid
    result = {
        "submission_id": submission_id,
        "dry_run": False,
        "accepted": True,
        "feature_count": len(ids),
        "features": features,
    }
    await conn.execute(
        text("UPDATE submissions SET result = CAST(:r AS jsonb) WHERE id = :id"),
        {"r": orjson.dumps(result).decode(), "id": submission_id},
    )
    await audit.record(
        conn,
        caller.name,
        "submit",
        "submission",
        submission_id,
        None,
        {"file": upload.shown, "features": len(ids), "crs": upload.crs},
    )
    return {**result, "features": _shown(features)}


def _shown(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Features as answered: their warnings worded in the reader's language (stored with their values)."""
    return [{**f, "warnings": naming_warnings.shown(f.get("warnings", []))} for f in features]


def _within_district(caller: Caller, parsed: ParsedUpload) -> None:
    """403 naming the features outside the district a limited caller acts in (nothing written)."""
    errors = []
    for i, p in enumerate(parsed.proposals):
        reason = outside_district(caller, p.district_code, t("the feature"))
        if reason is not None:
            errors.append(
                {
                    "index": i,
                    "row": i + parsed.first_row,
                    "name": p.name,
                    "rule": "district",
                    "message": reason,
                }
            )
    if errors:
        raise Forbidden(
            t(
                "{bad} of {count} feature(s) lie outside district {district}, where you propose: "
                "nothing was written",
                bad=len(errors),
                count=len(parsed.proposals),
                district=caller.district,
            ),
            errors=errors,
        )


def _echo(i: int, p: Proposal, first_row: int) -> dict[str, Any]:
    """A feature as the surveyor should see it came through: row, name, pinyin, division, warnings."""
    return {
        "index": i,
        "row": i + first_row,
        "id": None,
        "name": p.name,
        "pinyin": p.pinyin,
        "division_code": p.division_code,
        "warnings": p.warnings,
    }


async def get(conn: AsyncConnection, submission_id: str) -> dict[str, Any]:
    """A submission as it was answered, with who made it and when."""
    row = (
        await conn.execute(
            text(
                "SELECT id, submitted_by, filename, category, crs, feature_count, created_at, result "
                "FROM submissions WHERE id = CAST(:id AS text)"
            ),
            {"id": submission_id},
        )
    ).first()
    if row is None:
        raise NotFound(t("no submission {id}", id=submission_id))
    return {
        "submission_id": row[0],
        "submitted_by": row[1],
        "filename": row[2],
        "category": row[3],
        "crs": row[4],
        "feature_count": row[5],
        "created_at": row[6].isoformat(),
        "features": _shown(row[7].get("features", [])),
    }
