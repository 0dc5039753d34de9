"""What an upload worker process does with a file: read it, make a proposal of every feature, and run every
rule that needs no database (characters, structure, forbidden terms, romanisation, the division by location).

It runs in ``upload_pool``'s processes; everything it takes and returns is pickled across, so it takes the
rules and the division index as arguments instead of reading the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo_service.domain.errors import InvalidInput, PayloadTooLarge
from geo_service.domain.geometry_input import in_range
from geo_service.domain.naming import category_code
from geo_service.i18n import t
from geo_service.services.division_index import DivisionIndex
from geo_service.services.naming_check import Proposal, RuleBook, check_pure, place
from geo_service.services.upload_rows import first_row
from geo_service.services.vector_files import ZipLimits, kind_of
from geo_service.services.vector_io import FIELD_ALIASES, read_vector

NAME_COLUMNS = FIELD_ALIASES["name"]
CATEGORY_COLUMNS = FIELD_ALIASES["category"]
_CJK = re.compile(r"[\u3400-\u9fff]")
_MOJIBAKE = re.compile(r"[\u0080-\u00ff]")


@dataclass(frozen=True)
class Limits:
    """How much one upload may hold."""

    max_bytes: int = 50 * 1024 * 1024
    max_features: int = 200_000
    zip: ZipLimits = field(default_factory=ZipLimits)


@dataclass(frozen=True)
class Upload:
    """A file as uploaded: where we saved it, what the user called it, and what they declared about it."""

    path: Path
    shown: str
    crs: str
    category: str | None = None
    encoding: str | None = None
    layer: str | None = None
    dry_run: bool = False


@dataclass
class ParsedUpload:
    """Every feature as a proposal, checked by the rules that need no database; errors of unreadable ones."""

    proposals: list[Proposal]
    errors: list[dict[str, Any]]
    first_row: int  # the spreadsheet row of the first feature: 2 in a CSV (its header is row 1), else 1


def _looks_misdecoded(values: pd.Series) -> bool:
    text_values = [v for v in values if isinstance(v, str)]
    return (
        bool(text_values)
        and not any(_CJK.search(v) for v in text_values)
        and any(_MOJIBAKE.search(v) for v in text_values)
    )


def read_upload(upload: Upload, limits: Limits) -> Any:
    """The uploaded file as a GeoDataFrame in WGS84, its text decoded right, at most ``max_features`` long."""

    def read(encoding: str | None) -> Any:
        frame = read_vector(
            upload.path,
            upload.crs,
            encoding,
            shown=upload.shown,
            layer=upload.layer,
            limit=limits.max_features + 1,
            zip_limits=limits.zip,
        )
        if len(frame) > limits.max_features:
            raise PayloadTooLarge(
                t(
                    "{file} holds more than {most:,} features; at most {most:,} per upload",
                    file=upload.shown,
                    most=limits.max_features,
                )
            )
        return frame

    frame = read(upload.encoding)
    name_col = next((c for c in NAME_COLUMNS if c in frame.columns), None)
    shapefile = kind_of(upload.shown).driver == "ESRI Shapefile"
    if name_col and upload.encoding is None and shapefile and _looks_misdecoded(frame[name_col]):
        # A Shapefile without a .cpg is read as Latin-1; Chinese GIS exports are usually GBK.
        frame = read("GB18030")
        if _looks_misdecoded(frame[name_col]):
            raise InvalidInput(
                t("the Shapefile's text is neither UTF-8 nor GBK: declare its encoding (encoding=...)")
            )
    return frame


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value).strip() or None


def proposals_from(frame: Any, category: str | None) -> tuple[list[Proposal], list[dict[str, Any]]]:
    """One proposal per feature, with the errors of features that cannot even be read as one."""
    name_col = next((c for c in NAME_COLUMNS if c in frame.columns), None)
    if name_col is None:
        raise InvalidInput(t("the file needs a name column ({columns})", columns=", ".join(NAME_COLUMNS[:3])))
    category_col = next((c for c in CATEGORY_COLUMNS if c in frame.columns), None)
    if category is None and category_col is None:
        raise InvalidInput(t("give the category (form field) or a category (类别) column"))
    proposals, errors = [], []
    for i, (row, geom) in enumerate(zip(frame.to_dict("records"), frame.geometry.values, strict=True)):
        name = row.get(name_col)
        # A row's own category wins over the form's (a file may mix roads and alleys).
        cat = category_code((_text(row.get(category_col)) if category_col else None) or category or "")
        if not isinstance(name, str) or not name.strip():
            errors.append({"index": i, "rule": "name", "message": t("the name is empty")})
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


def parse_upload(upload: Upload, limits: Limits, rules: RuleBook, index: DivisionIndex) -> ParsedUpload:
    """Read the file and check every feature by the rules that need no database (run in a worker process)."""
    frame = read_upload(upload, limits)
    if len(frame) == 0:
        raise InvalidInput(t("{file} holds no features", file=upload.shown))
    proposals, errors = proposals_from(frame, upload.category)
    check_pure(proposals, rules)
    # A longitude of 913 is a typing slip, not a place outside the region: say so, and place the others only.
    far = {
        i for i, p in enumerate(proposals) if p.geom.is_valid and not p.geom.is_empty and not in_range(p.geom)
    }
    errors += [
        {
            "index": i,
            "rule": "geometry",
            "message": t("coordinates out of range: lon within ±180, lat within ±90 (lon, lat order)"),
        }
        for i in sorted(far)
    ]
    place([p for i, p in enumerate(proposals) if i not in far], index)
    return ParsedUpload(proposals, errors, first_row=first_row(upload.shown))
