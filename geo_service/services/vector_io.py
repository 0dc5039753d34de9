"""Reading vector files (GeoJSON, GeoPackage, zipped Shapefile, CSV with lon/lat or WKT, KML/KMZ, GPX) into WGS84.

Every file is read by the kind its name declares, with the one reader that kind allows (see ``vector_files``):
GDAL (through fiona, restricted to one driver) for GeoJSON, GeoPackage and Shapefile; Python for CSV, KML and
GPX. Messages name the file as the user called it, never a path of ours or GDAL's own text.
"""

from __future__ import annotations

import itertools
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
    parse_xml,
    unpack_kmz,
    unpack_shapefile,
)
from geo_service.services.xml_vectors import gpx_features, kml_features

_ENCODINGS = ("utf-8", "gb18030")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
LON_COLUMNS = ("lon", "lng", "longitude", "经度")
LAT_COLUMNS = ("lat", "latitude", "纬度")


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
        except (LookupError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise InvalidInput(
                t("{file}: cannot be read as CSV ({reason})", file=shown, reason=_first_line(exc))
            ) from None
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
    if "wkt" in cols:
        try:
            geom = shapely.from_wkt(frame[cols["wkt"]].to_numpy(), on_invalid="raise")
        except shapely.errors.GEOSException as exc:
            raise InvalidInput(
                t("{file}: a 'wkt' value is not valid WKT ({reason})", file=shown, reason=_first_line(exc))
            ) from None
        data = frame.drop(columns=[cols["wkt"]])
    elif lon_col and lat_col:
        try:
            lon = pd.to_numeric(frame[lon_col], errors="raise").to_numpy(dtype=float)
            lat = pd.to_numeric(frame[lat_col], errors="raise").to_numpy(dtype=float)
        except ValueError as exc:
            raise InvalidInput(
                t(
                    "{file}: {lon}/{lat} must be numbers ({reason})",
                    file=shown,
                    lon=lon_col,
                    lat=lat_col,
                    reason=_first_line(exc),
                )
            ) from None
        geom = shapely.points(lon, lat)
        data = frame.drop(columns=[lon_col, lat_col])
    else:
        raise InvalidInput(
            t("{file}: a CSV needs 'lon' and 'lat' (经度, 纬度) columns or a 'wkt' column", file=shown)
        )
    return gpd.GeoDataFrame(data, geometry=geom, crs=None)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _frame(features: Iterable[tuple[dict[str, Any], Any]], limit: int | None) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for props, geom in itertools.islice(features, limit):
        rows.append(props)
        geoms.append(geom)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gpd.GeoSeries(geoms, crs=None), crs=None)


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
        raise InvalidInput(t("{file} cannot be read as {kind}", file=shown, kind=kind.name)) from None


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
    """Read a vector file as it is (no CRS conversion), by the kind its name ``shown`` declares.

    ``limit`` stops reading after that many features (the caller compares the count with its own limit).
    """
    shown = shown or path.name
    kind = kind_of(shown)
    with tempfile.TemporaryDirectory(prefix="geo-unpack-") as tmp:
        if kind.name == "CSV":
            return _read_csv(path, shown, encoding, limit)
        if kind.name in ("KML", "KMZ"):
            doc = unpack_kmz(path, shown, Path(tmp), zip_limits) if kind.name == "KMZ" else path
            return _frame(kml_features(parse_xml(doc, shown, "kml"), shown), limit)
        if kind.name == "GPX":
            return _frame(gpx_features(parse_xml(path, shown, "gpx"), shown), limit)
        if kind.name == "GeoJSON":
            check_json(path, shown)
        elif kind.name == "GeoPackage":
            layer = _gpkg_layer(path, shown, layer)
        elif kind.name == "zipped Shapefile":
            path = unpack_shapefile(path, shown, Path(tmp), zip_limits)
        else:
            check_shapefile(path, shown)
        return _read_gdal(path, shown, kind, encoding, layer, limit)


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
            t("{file}: {count} feature(s) have no geometry", file=shown, count=len(bad)),
            [{"index": i, "rule": "geometry", "message": t("feature has no geometry")} for i in bad[:100]],
        )
    if name.startswith("EPSG:"):
        frame = frame.set_crs(name, allow_override=True).to_crs("EPSG:4326")
    elif is_offset_crs(name):
        geoms = [geometry_to_wgs84(g, name) for g in frame.geometry.values]
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs="EPSG:4326")
    else:
        frame = frame.set_crs("EPSG:4326", allow_override=True)
    return frame
