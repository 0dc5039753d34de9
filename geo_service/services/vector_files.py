"""The kinds of vector file we accept, and the checks a file's bytes pass before any reader sees them.

A file's kind is declared by its name (``.geojson``, ``.gpkg``, a zipped Shapefile, ``.csv``, ``.kml``/``.kmz``,
``.gpx``); it is never sniffed. GDAL would otherwise pick a driver by content: a ``.geojson`` whose bytes are an
OGR VRT document can read local files or fetch URLs. So each kind is opened with exactly one driver (see
``vector_io``), and its bytes must look like that kind first: JSON text for GeoJSON, an SQLite database with the
GeoPackage application id and plain tables for GPKG, a Shapefile header for ``.shp``, XML without a document
type declaration (no entities, no external references) for KML and GPX. Archives are unpacked here, member by
member, with the zip-slip and zip-bomb checks, into a folder of ours under names of ours.
"""

from __future__ import annotations

import re
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from geo_service.domain.errors import InvalidInput, PayloadTooLarge
from geo_service.i18n import t


@dataclass(frozen=True)
class Kind:
    """One accepted kind of file: its name in messages and the one GDAL driver it may be opened with."""

    name: str
    driver: str | None  # None: read in Python (CSV, KML, GPX)


KINDS: dict[str, Kind] = {
    ".geojson": Kind("GeoJSON", "GeoJSON"),
    ".json": Kind("GeoJSON", "GeoJSON"),
    ".gpkg": Kind("GeoPackage", "GPKG"),
    ".zip": Kind("zipped Shapefile", "ESRI Shapefile"),
    ".csv": Kind("CSV", None),
    ".kml": Kind("KML", None),
    ".kmz": Kind("KMZ", None),
    ".gpx": Kind("GPX", None),
    ".shp": Kind("Shapefile", "ESRI Shapefile"),
}


def accepted() -> str:
    """The kinds of file taken, in the reader's language."""
    return t(".geojson, .gpkg, .zip (a zipped Shapefile), .csv, .kml, .kmz, .gpx")


ACCEPTED = accepted()  # read at import, so in English: the OpenAPI descriptions' words


def kind_word(kind: Kind) -> str:
    """A kind of file as a message names it, in the reader's language (the others are names in any language)."""
    return t("zipped Shapefile") if kind.name == "zipped Shapefile" else kind.name


@dataclass(frozen=True)
class ZipLimits:
    """How large an archive may unpack."""

    max_unzipped_bytes: int = 500 * 1024 * 1024
    max_ratio: int = 200
    max_members: int = 50


def kind_of(filename: str) -> Kind:
    """The kind a file name declares; an unknown suffix is refused naming the accepted ones."""
    kind = KINDS.get(Path(filename).suffix.lower())
    if kind is None:
        raise InvalidInput(
            t("{file}: unsupported file type; upload one of {accepted}", file=filename, accepted=accepted())
        )
    return kind


def kind_suffix(filename: str) -> str:
    """The suffix of a file name of an accepted kind (lower case), refusing other kinds."""
    kind_of(filename)
    return Path(filename).suffix.lower()


def check_zip(path: Path, shown: str, limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """The archive's members, after refusing archives that could escape their folder or blow up."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError):
        raise InvalidInput(t("{file} is not a valid zip archive", file=shown)) from None
    if len(members) > limits.max_members:
        raise InvalidInput(
            t(
                "{file}: the zip holds {count} files; at most {most}",
                file=shown,
                count=len(members),
                most=limits.max_members,
            )
        )
    total = 0
    for m in members:
        name = PurePosixPath(m.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or re.match(r"^[A-Za-z]:", m.filename):
            raise InvalidInput(
                t(
                    "{file}: the zip member {member!r} points outside the archive",
                    file=shown,
                    member=m.filename,
                )
            )
        total += m.file_size
        if m.compress_size and m.file_size / m.compress_size > limits.max_ratio:
            raise PayloadTooLarge(
                t(
                    "{file}: the zip member {member!r} expands {ratio}×: refused",
                    file=shown,
                    member=m.filename,
                    ratio=m.file_size // m.compress_size,
                )
            )
    if total > limits.max_unzipped_bytes:
        raise PayloadTooLarge(
            t(
                "{file}: the zip unpacks to {mb:.0f} MB; at most {most:.0f} MB",
                file=shown,
                mb=total / 1e6,
                most=limits.max_unzipped_bytes / 1e6,
            )
        )
    return members


def _extract(path: Path, member: zipfile.ZipInfo, target: Path, limit: int) -> None:
    """Copy one member out, stopping if it grows past what its header claimed (a lying header is a bomb)."""
    written = 0
    with zipfile.ZipFile(path) as zf, zf.open(member) as src, target.open("wb") as out:
        while chunk := src.read(1024 * 1024):
            written += len(chunk)
            if written > min(member.file_size, limit):
                raise PayloadTooLarge(
                    t("the zip member {member!r} unpacks larger than it claims", member=member.filename)
                )
            out.write(chunk)


def _visible(members: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    return [
        m
        for m in members
        if not m.is_dir() and "__MACOSX" not in m.filename and not _basename(m).startswith(".")
    ]


def _basename(member: zipfile.ZipInfo) -> str:
    return PurePosixPath(member.filename.replace("\\", "/")).name


def unpack_shapefile(path: Path, shown: str, folder: Path, limits: ZipLimits) -> Path:
    """The one Shapefile of a zip, unpacked as ``folder/layer.shp`` (with its .shx, .dbf, .prj, .cpg)."""
    members = _visible(check_zip(path, shown, limits))
    shps = [m for m in members if _basename(m).lower().endswith(".shp")]
    if len(shps) != 1:
        raise InvalidInput(
            t(
                "{file}: a zipped Shapefile must hold exactly one .shp (found {count})",
                file=shown,
                count=len(shps),
            )
        )
    stem = _basename(shps[0])[:-4].lower()
    folder.mkdir(parents=True, exist_ok=True)
    for m in members:
        base = _basename(m)
        suffix = Path(base).suffix.lower()
        if base[: -len(suffix) or None].lower() == stem and suffix in (
            ".shp",
            ".shx",
            ".dbf",
            ".prj",
            ".cpg",
        ):
            _extract(path, m, folder / f"layer{suffix}", limits.max_unzipped_bytes)
    shp = folder / "layer.shp"
    if not (folder / "layer.dbf").exists():
        raise InvalidInput(
            t("{file}: the Shapefile's .dbf (its attribute table) is missing from the zip", file=shown)
        )
    with shp.open("rb") as f:
        if f.read(4) != b"\x00\x00\x27\x0a":
            raise InvalidInput(
                t("{file}: {member} is not a Shapefile", file=shown, member=_basename(shps[0]))
            )
    return shp


def unpack_kmz(path: Path, shown: str, folder: Path, limits: ZipLimits) -> Path:
    """The KML document of a KMZ (doc.kml, or its only .kml), unpacked as ``folder/doc.kml``."""
    members = [m for m in _visible(check_zip(path, shown, limits)) if _basename(m).lower().endswith(".kml")]
    docs = [m for m in members if _basename(m).lower() == "doc.kml"] or members
    if len(docs) != 1:
        raise InvalidInput(
            t(
                "{file}: a KMZ must hold one doc.kml (found {count} .kml files)",
                file=shown,
                count=len(members),
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "doc.kml"
    _extract(path, docs[0], target, limits.max_unzipped_bytes)
    return target


def check_json(path: Path, shown: str) -> None:
    """GeoJSON is JSON text: its first character (after a byte-order mark and spaces) is ``{``."""
    with path.open("rb") as f:
        head = f.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head.startswith(b"{"):
        raise InvalidInput(
            t("{file} is not GeoJSON: a GeoJSON file is a JSON object starting with '{{'", file=shown)
        )


def parse_xml(path: Path, shown: str, root: str) -> Any:
    """The root element of a KML or GPX file: XML with that root element and no document type declaration."""
    try:
        tree = safe_xml.parse(path, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise InvalidInput(
            t("{file}: XML with a document type declaration or entities is refused", file=shown)
        ) from None
    except (safe_xml.ParseError, ValueError, OSError):
        raise InvalidInput(t("{file} is not well-formed XML", file=shown)) from None
    tag = tree.getroot().tag
    if tag.rsplit("}", 1)[-1] != root:
        raise InvalidInput(
            t(
                "{file} is not {kind}: its root element is <{element}>",
                file=shown,
                kind=root.upper(),
                element=tag.rsplit("}", 1)[-1],
            )
        )
    return tree.getroot()


_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_IDS = (0x47504B47, 0x47503130, 0x47503131)  # "GPKG", "GP10", "GP11"


def geopackage_layers(path: Path, shown: str) -> list[str]:
    """The feature tables of a GeoPackage, read with SQLite (not GDAL); views and other tricks are refused."""
    with path.open("rb") as f:
        header = f.read(100)
    if not header.startswith(_SQLITE_MAGIC) or int.from_bytes(header[68:72], "big") not in _GPKG_IDS:
        raise InvalidInput(t("{file} is not a GeoPackage", file=shown))
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            rows = db.execute(
                "SELECT c.table_name, m.type FROM gpkg_contents c "
                "LEFT JOIN sqlite_master m ON m.name = c.table_name WHERE c.data_type = 'features'"
            ).fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        raise InvalidInput(
            t("{file} is not a readable GeoPackage (no gpkg_contents table)", file=shown)
        ) from None
    if not rows:
        raise InvalidInput(
            t("{file}: the GeoPackage holds no feature layer (a table without geometry?)", file=shown)
        )
    views = [name for name, kind in rows if kind != "table"]
    if views:
        raise InvalidInput(
            t(
                "{file}: layers that are views or missing tables are refused ({layers})",
                file=shown,
                layers=", ".join(views),
            )
        )
    return [name for name, _ in rows]


def check_shapefile(path: Path, shown: str) -> None:
    """A bare ``.shp`` (CLI imports of a folder) starts with the Shapefile file code."""
    with path.open("rb") as f:
        if f.read(4) != b"\x00\x00\x27\x0a":
            raise InvalidInput(t("{file} is not a Shapefile", file=shown))
