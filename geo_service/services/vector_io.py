"""Reading vector files (GeoJSON, GeoPackage, zipped Shapefile, CSV with lon/lat or WKT, KML/KMZ, GPX) into WGS84.

Every file is read by the kind its name declares, with the one reader that kind allows (see ``vector_files``):
GDAL (through fiona, restricted to one driver) for GeoJSON, GeoPackage and Shapefile; Python for CSV, KML and
GPX. Messages name the file as the user called it, never a path of ours or GDAL's own text.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import shape

from geo_service.domain.crs import UnknownCRS, geometry_to_wgs84, is_offset_crs, normalize_crs
from geo_service.domain.errors import FeatureErrors, InvalidInput
from geo_service.i18n import t
from geo_service.services.vector_files import (
    Kind,
    ZipLimits,
    check_json,
    check_shapefile,
    geopackage_layers,
    kind_of,
    kind_word,
    parse_xml,
    unpack_kmz,
    unpack_shapefile,
)
from geo_service.services.xml_vectors import gpx_features, kml_features

_ENCODINGS = ("utf-8", "gb18030")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
LON_COLUMNS = ("lon", "lng", "longitude", "经度")
LAT_COLUMNS = ("lat", "latitude", "纬度")
#: The columns (or properties) a feature's name and category may come under, in every kind of file: the first
#: one given in a row wins (a GeoJSON feature may say ``名称`` where the one before said ``name``).
FIELD_ALIASES = {
    "name": ("name", "名称", "标准名称", "NAME", "Name"),
    "category": ("category", "类别", "CATEGORY", "Category"),
}
#: ``frame.attrs`` key of the rows whose geometry a reader could not make: {index: what is wrong}.
UNREADABLE = "unreadable"


def declared_crs(crs: str) -> str:
    """Validate a declared CRS name, raising InvalidInput with the accepted spellings."""
    try:
        name = normalize_crs(crs)
        if name.startswith("EPSG:"):
            CRS.from_user_input(name)
        return name
    except UnknownCRS as exc:
        message = str(exc)  # already in the reader's language (domain.crs)
        raise InvalidInput(message) from None
    except CRSError:
        raise InvalidInput(t("unknown EPSG code {crs!r}", crs=crs)) from None


def _csv_encodings(path: Path, encoding: str | None) -> tuple[str, ...]:
    if encoding:
        return (encoding,)
    with path.open("rb") as f:
        head = f.read(4)
    return next(((enc,) for bom, enc in _BOMS if head.startswith(bom)), _ENCODINGS)


def _is_common(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def _misread_big5(path: Path, frame: pd.DataFrame) -> bool:
    """Whether text read as GBK is really Big5: GBK place names are almost all common simplified characters
    (GB 2312); Big5 bytes read as GBK give rare characters, kana and symbols, and decode as Big5 cleanly."""
    sample = list(frame.columns) + [
        v for col in frame.columns for v in frame[col].head(200) if isinstance(v, str)
    ]
    cjk = [ch for text in sample for ch in text if "\u3040" <= ch <= "\u9fff"]
    if len(cjk) < 4 or sum(map(_is_common, cjk)) / len(cjk) > 0.8:
        return False
    try:
        path.read_bytes().decode("big5")
    except UnicodeDecodeError:
        return False
    return True


def _column(cols: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((cols[n] for n in names if n in cols), None)


def _read_csv(path: Path, shown: str, encoding: str | None, limit: int | None) -> gpd.GeoDataFrame:
    last: Exception | None = None
    for enc in _csv_encodings(path, encoding):
        try:
            frame = pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False, nrows=limit)
            break
        except UnicodeDecodeError as exc:
            last = exc
        except LookupError:
            raise InvalidInput(
                t(
                    "{file}: unknown text encoding {encoding!r}; say e.g. utf-8, gb18030 or big5",
                    file=shown,
                    encoding=enc,
                )
            ) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            message = _csv_problem(shown, exc)
            raise InvalidInput(message) from None
    else:
        raise InvalidInput(
            t("{file}: text is neither UTF-8 nor GB18030/GBK; declare its encoding", file=shown)
        ) from last
    if encoding is None and enc == "gb18030" and _misread_big5(path, frame):
        raise InvalidInput(
            t(
                "{file}: the text looks like Big5 (traditional Chinese), not GBK: save the file as UTF-8, "
                "or declare its encoding (big5)",
                file=shown,
            )
        )
    cols = {c.lower().strip(): c for c in frame.columns}
    lon_col, lat_col = _column(cols, LON_COLUMNS), _column(cols, LAT_COLUMNS)
    unreadable: dict[int, str] = {}
    if "wkt" in cols:
        geom = shapely.from_wkt(frame[cols["wkt"]].to_numpy(), on_invalid="ignore")
        for i, (text, g) in enumerate(zip(frame[cols["wkt"]], geom, strict=True)):
            if g is None and text.strip():
                unreadable[i] = t("{value} is not valid WKT", value=_short(text))
        data = frame.drop(columns=[cols["wkt"]])
    elif lon_col and lat_col:
        lon = _numbers(frame[lon_col], lon_col, unreadable)
        lat = _numbers(frame[lat_col], lat_col, unreadable)
        geom = shapely.points(lon, lat)
        geom[list(unreadable)] = None
        data = frame.drop(columns=[lon_col, lat_col])
    else:
        raise InvalidInput(
            t("{file}: a CSV needs 'lon' and 'lat' (经度, 纬度) columns or a 'wkt' column", file=shown)
        )
    result = gpd.GeoDataFrame(data, geometry=geom, crs=None)
    result.attrs[UNREADABLE] = unreadable
    return result


def _numbers(values: pd.Series, column: str, unreadable: dict[int, str]) -> np.ndarray:
    """A column of coordinates as floats: an empty cell is missing (NaN), text that is not a number is recorded
    in ``unreadable`` by row (its geometry cannot be made)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(np.isnan(numbers)):
        text = values.iloc[i].strip()
        if text and text.lower() != "nan" and int(i) not in unreadable:
            unreadable[int(i)] = t("{column} {value} is not a number", column=column, value=_short(text))
    return numbers


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _csv_problem(shown: str, exc: Exception) -> str:
    """What pandas could not read in a CSV, in our words (its own text names its internals)."""
    if isinstance(exc, pd.errors.EmptyDataError):
        return t("{file} is empty: a CSV starts with a header row", file=shown)
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if found:
        return t(
            "{file}: row {row} has {saw} cells where the header has {expected}",
            file=shown,
            row=found[2],
            saw=found[3],
            expected=found[1],
        )
    return t("{file} cannot be read as CSV (check the quotes and separators)", file=shown)


def _frame(features: Iterable[tuple[dict[str, Any], Any]], limit: int | None) -> gpd.GeoDataFrame:
    rows, geoms, unreadable = [], [], {}
    for i, (props, geom) in enumerate(itertools.islice(features, limit)):
        rows.append(props)
        if isinstance(geom, str):  # the reader could not make this feature's geometry: why
            unreadable[i], geom = geom, None
        geoms.append(geom)
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gpd.GeoSeries(geoms, crs=None), crs=None)
    frame.attrs[UNREADABLE] = unreadable
    return frame


def _read_gdal(
    path: Path, shown: str, kind: Kind, encoding: str | None, layer: str | None, limit: int | None
) -> gpd.GeoDataFrame:
    """Read with exactly one GDAL driver (fiona's ``enabled_drivers``), never sniffing the content."""
    import fiona  # its GDAL is loaded only where files are read

    assert kind.driver is not None
    try:
        with fiona.open(
            path, driver=kind.driver, enabled_drivers=[kind.driver], layer=layer, encoding=encoding
        ) as src:
            if src.schema.get("geometry") in (None, "None"):
                raise InvalidInput(t("{file}: the layer has no geometry column", file=shown))
            features = ((dict(f.properties), f.geometry and shape(f.geometry)) for f in src)
            return _frame(features, limit)
    except (fiona.errors.FionaError, fiona.errors.FionaValueError, RuntimeError, UnicodeDecodeError):
        raise InvalidInput(t("{file} cannot be read as {kind}", file=shown, kind=kind_word(kind))) from None


def _gpkg_layer(path: Path, shown: str, layer: str | None) -> str:
    layers = geopackage_layers(path, shown)
    if layer is not None and layer not in layers:
        raise InvalidInput(
            t(
                "{file} has no layer {layer!r}; its layers: {layers}",
                file=shown,
                layer=layer,
                layers=", ".join(layers),
            )
        )
    if layer is None and len(layers) > 1:
        raise InvalidInput(
            t(
                "{file} holds {count} layers ({layers}): say which one (layer)",
                file=shown,
                count=len(layers),
                layers=", ".join(layers),
            ),
            layers=layers,
        )
    return layer or layers[0]


def read_raw(
    path: Path,
    encoding: str | None = None,
    *,
    shown: str | None = None,
    layer: str | None = None,
    limit: int | None = None,
    zip_limits: ZipLimits = ZipLimits(),
) -> gpd.GeoDataFrame:
    """Read a vector file as it is (no CRS conversion), by the kind its name ``shown`` declares, its name and
    category under one column each (``FIELD_ALIASES``); ``attrs[UNREADABLE]`` says why rows have no geometry.

    ``limit`` stops reading after that many features (the caller compares the count with its own limit).
    """
    shown = shown or path.name
    frame = _read_kind(path, shown, encoding, layer, limit, zip_limits)
    unreadable = frame.attrs.get(UNREADABLE, {})
    frame = canonical_columns(frame)
    frame.attrs[UNREADABLE] = unreadable
    return frame


def _read_kind(
    path: Path, shown: str, encoding: str | None, layer: str | None, limit: int | None, zip_limits: ZipLimits
) -> gpd.GeoDataFrame:
    kind = kind_of(shown)
    with tempfile.TemporaryDirectory(prefix="geo-unpack-") as tmp:
        if kind.name == "CSV":
            return _read_csv(path, shown, encoding, limit)
        if kind.name in ("KML", "KMZ"):
            doc = unpack_kmz(path, shown, Path(tmp), zip_limits) if kind.name == "KMZ" else path
            return _frame(kml_features(parse_xml(doc, shown, "kml")), limit)
        if kind.name == "GPX":
            return _frame(gpx_features(parse_xml(path, shown, "gpx")), limit)
        if kind.name == "GeoJSON":
            check_json(path, shown)
        elif kind.name == "GeoPackage":
            layer = _gpkg_layer(path, shown, layer)
        elif kind.name == "zipped Shapefile":
            path = unpack_shapefile(path, shown, Path(tmp), zip_limits)
        else:
            check_shapefile(path, shown)
        return _read_gdal(path, shown, kind, encoding, layer, limit)


def _given(value: Any) -> bool:
    return (
        value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip() != ""
    )


def canonical_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with each of ``FIELD_ALIASES`` under its own column: per row the first alias that holds a value
    (a spreadsheet's 名称 header and a GeoJSON feature's 名称 property alike), the aliases dropped."""
    for field, aliases in FIELD_ALIASES.items():
        present = [c for c in aliases if c in frame.columns and c != frame.geometry.name]
        if not present or present == [field]:
            continue
        merged = frame[present[0]].copy().astype(object)
        for col in present[1:]:
            missing = ~merged.map(_given)
            merged[missing] = frame.loc[missing, col]
        frame = frame.drop(columns=present)
        frame[field] = merged
    return frame


def row_errors(
    frame: gpd.GeoDataFrame,
    shown: str,
    indices: Iterable[int],
    rule: str,
    messages: dict[int, str],
    default: str,
) -> list[dict[str, Any]]:
    """Per-row errors as every upload answers them: index, the row as a spreadsheet shows it, name, rule, message."""
    first_row = 2 if kind_of(shown).name == "CSV" else 1
    names = frame["name"] if "name" in frame.columns else None
    return [
        {
            "index": i,
            "row": i + first_row,
            "name": str(names.iloc[i]).strip() if names is not None and _given(names.iloc[i]) else None,
            "rule": rule,
            "message": messages.get(i, default),
        }
        for i in indices
    ]


def read_vector(
    path: Path,
    crs: str,
    encoding: str | None = None,
    *,
    shown: str | None = None,
    layer: str | None = None,
    limit: int | None = None,
    zip_limits: ZipLimits = ZipLimits(),
) -> gpd.GeoDataFrame:
    """Read a vector file whose coordinates are in the declared ``crs`` and return it in WGS84.

    The declared CRS wins over what the file claims: GeoJSON always claims WGS84, even when it was
    exported from AMap in GCJ-02.
    """
    name = declared_crs(crs)
    shown = shown or path.name
    frame = read_raw(path, encoding, shown=shown, layer=layer, limit=limit, zip_limits=zip_limits)
    if frame.geometry.isna().any() or frame.geometry.is_empty.any():
        bad = [int(i) for i in np.flatnonzero((frame.geometry.isna() | frame.geometry.is_empty).to_numpy())]
        raise FeatureErrors(
            t(
                "{file}: {count} feature(s) have no usable geometry; nothing was written",
                file=shown,
                count=len(bad),
            ),
            row_errors(
                frame,
                shown,
                bad[:100],
                "geometry",
                frame.attrs.get(UNREADABLE, {}),
                t("feature has no geometry"),
            ),
        )
    if name.startswith("EPSG:"):
        frame = frame.set_crs(name, allow_override=True).to_crs("EPSG:4326")
    elif is_offset_crs(name):
        geoms = [geometry_to_wgs84(g, name) for g in frame.geometry.values]
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs="EPSG:4326")
    else:
        frame = frame.set_crs("EPSG:4326", allow_override=True)
    return frame
