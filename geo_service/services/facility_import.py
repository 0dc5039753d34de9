"""Bulk import of facilities by editors over the web: one file of one type, every row or none.

The file is read in an upload worker process by the same readers and limits as place-name submissions
(``upload_parse.read_upload``: the kind its name declares, size and feature limits, encodings); the rows are
checked by the CLI importer's rules (``imports.facility_records``) and by where they stand, as a single new
facility is (``facilities.placement_problems``: inside a district, no duplicate). Errors name the row (as a
spreadsheet shows it) and the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service import i18n
from geo_service.db import audit
from geo_service.domain.errors import FeatureErrors, Forbidden, InvalidInput
from geo_service.i18n import t
from geo_service.services import facilities, facility_types, imports
from geo_service.services.keys import Caller
from geo_service.services.upload_parse import Limits, Upload, read_upload
from geo_service.services.upload_pool import UploadPool
from geo_service.services.upload_rows import first_row
from geo_service.services.vector_files import kind_of
from geo_service.services.vector_io import declared_crs

#: Chinese column headers a bureau's spreadsheet uses → the importer's columns (名称 and the other names of the
#: name every upload takes are already ``name``: ``vector_io.FIELD_ALIASES``).
HEADERS = {
    "设施名称": "name",
    "地址": "address",
    "电话": "phone",
    "联系电话": "phone",
    "开放时间": "opening_hours",
    "服务时间": "opening_hours",
    "容量": "capacity",
    "状态": "status",
}


@dataclass
class ParsedFacilities:
    """The facility of each good row (by index), the errors of the others, and every row's name."""

    records: list[tuple[int, dict[str, Any]]]
    errors: list[dict[str, Any]]
    names: list[str | None]
    first_row: int  # the spreadsheet row of the first feature: 2 in a CSV (its header is row 1), else 1


def parse_facility_upload(upload: Upload, limits: Limits, ftype: str, lang: str) -> ParsedFacilities:
    """Read the file and check every row by the rules that need no database (run in a worker process, which
    answers in the request's language ``lang``)."""
    with i18n.use(lang):
        return _parse_facility_upload(upload, limits, ftype)


def _parse_facility_upload(upload: Upload, limits: Limits, ftype: str) -> ParsedFacilities:
    frame = read_upload(upload, limits)
    if len(frame) == 0:
        raise InvalidInput(t("{file_name} holds no features", file_name=upload.shown))
    renames = {c: HEADERS[c] for c in frame.columns if c in HEADERS and HEADERS[c] not in frame.columns}
    frame = frame.rename(columns=renames)
    frame.attrs["first_row"] = first_row(upload.shown)
    records, errors = imports.facility_records(frame, ftype)
    names = [(v.strip() or None) if isinstance(v, str) else None for v in frame["name"]]
    return ParsedFacilities(records, errors, names, first_row=frame.attrs["first_row"])


async def parse(
    engine: AsyncEngine, pool: UploadPool, upload: Upload, limits: Limits, ftype: str
) -> ParsedFacilities:
    """Check what was declared (type, CRS, kind of file), then read and check the file in a worker process."""
    declared_crs(upload.crs)
    kind_of(upload.shown)
    async with engine.connect() as conn:
        await facility_types.get_type(conn, ftype)
    return await pool.run(parse_facility_upload, upload, limits, ftype, i18n.language())


async def commit(
    conn: AsyncConnection, caller: Caller, parsed: ParsedFacilities, upload: Upload, ftype: str
) -> dict[str, Any]:
    """Check where every row stands and write them all, or none: 403 listing the rows outside the district of a
    caller limited to one, else 422 listing every row's problems."""
    await facilities.lock_types(conn, {ftype})
    records = parsed.records
    for _, record in records:
        record.pop("id", None)  # imported facilities get new ids
    placed = await facilities.placement_problems(
        conn, [(i, r["type"], r["name"], r["geom"], 0) for i, r in records], caller=caller
    )
    outside = [p for p in placed if p["rule"] == "district"]
    if outside:  # as for uploads of place names: the district first, alone
        _name_rows(parsed, outside)
        raise Forbidden(
            t(
                "{bad} of {total} row(s) lie outside district {district}, where you act: nothing was written",
                bad=len(outside),
                total=len(parsed.names),
                district=caller.district,
            ),
            errors=outside,
        )
    active = {i for i, r in records if r["status"] == "active"}
    # A closed facility recorded for its history may stand where an open one of the same name does.
    errors = parsed.errors + [p for p in placed if p["rule"] != "duplicate" or p["index"] in active]
    if errors:
        _name_rows(parsed, errors)
        bad = len({e["index"] for e in errors})
        total = len(parsed.names)
        raise FeatureErrors(
            t("{bad} of {total} row(s) cannot be imported; nothing was written", bad=bad, total=total), errors
        )
    rows = [{"index": i, "row": i + parsed.first_row, "id": None, "name": r["name"]} for i, r in records]
    if not upload.dry_run:
        ids = await imports.write_facilities(conn, [r for _, r in records], skip_existing=False)
        for row, fid in zip(rows, ids, strict=True):
            row["id"] = fid
        await audit.record(
            conn,
            caller.name,
            "import",
            "facilities",
            None,
            None,
            {"file": upload.shown, "type": ftype, "crs": upload.crs, "rows": len(ids)},
        )
    return {
        "dry_run": upload.dry_run,
        "accepted": True,
        "type": ftype,
        "feature_count": len(rows),
        "features": rows,
    }


def _name_rows(parsed: ParsedFacilities, errors: list[dict[str, Any]]) -> None:
    """Give each error the row as a spreadsheet shows it and the row's name; sort them by row."""
    for e in errors:
        e["row"], e["name"] = e["index"] + parsed.first_row, parsed.names[e["index"]]
    errors.sort(key=lambda e: e["index"])
