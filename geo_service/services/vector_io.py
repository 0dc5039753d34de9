"""Reading vector files (GeoJSON, GeoPackage, zipped Shapefile, CSV with lon/lat or WKT) into WGS84."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo_service.domain.crs import UnknownCRS, geometry_to_wgs84, is_offset_crs, normalize_crs
from geo_service.domain.errors import FeatureErrors, InvalidInput

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp", ".csv")
_ENCODINGS = ("utf-8", "gb18030")


def declared_crs(crs: str) -> str:
    """Validate a declared CRS name, raising InvalidInput with the accepted spellings."""
    try:
        name = normalize_crs(crs)
        if name.startswith("EPSG:"):
            CRS.from_user_input(name)
        return name
    except (UnknownCRS, CRSError) as exc:
        raise InvalidInput(
            str(exc) if isinstance(exc, UnknownCRS) else f"unknown EPSG code {crs!r}"
        ) from None


def _read_csv(path: Path, encoding: str | None) -> gpd.GeoDataFrame:
    last: Exception | None = None
    for enc in [encoding] if encoding else _ENCODINGS:
        try:
            frame = pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False)
            break
        except UnicodeDecodeError as exc:
            last = exc
    else:
        raise InvalidInput(
            f"{path.name}: text is neither UTF-8 nor GB18030/GBK; declare its encoding"
        ) from last
    cols = {c.lower().strip(): c for c in frame.columns}
    if "wkt" in cols:
        try:
            geom = shapely.from_wkt(frame[cols["wkt"]].to_numpy(), on_invalid="raise")
        except shapely.errors.GEOSException as exc:
            raise InvalidInput(f"{path.name}: a 'wkt' value is not valid WKT ({exc})") from None
        data = frame.drop(columns=[cols["wkt"]])
    elif {"lon", "lat"} <= set(cols) or {"lng", "lat"} <= set(cols):
        lon_col = cols.get("lon") or cols["lng"]
        try:
            lon = pd.to_numeric(frame[lon_col], errors="raise").to_numpy(dtype=float)
            lat = pd.to_numeric(frame[cols["lat"]], errors="raise").to_numpy(dtype=float)
        except ValueError as exc:
            raise InvalidInput(f"{path.name}: lon/lat must be numbers ({exc})") from None
        geom = shapely.points(lon, lat)
        data = frame.drop(columns=[lon_col, cols["lat"]])
    else:
        raise InvalidInput(f"{path.name}: a CSV needs 'lon' and 'lat' columns or a 'wkt' column")
    return gpd.GeoDataFrame(data, geometry=geom, crs=None)


def _shapefile_in(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        shps = [n for n in zf.namelist() if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
    if len(shps) != 1:
        raise InvalidInput(f"{path.name}: a zipped Shapefile must hold exactly one .shp (found {len(shps)})")
    return f"/vsizip/{path}/{shps[0]}"


def read_raw(path: Path, encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file as it is (no CRS conversion)."""
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise InvalidInput(f"{path.name}: unsupported file type; use one of {', '.join(VECTOR_SUFFIXES)}")
    if suffix == ".csv":
        return _read_csv(path, encoding)
    source = _shapefile_in(path) if suffix == ".zip" else str(path)
    kwargs = {"encoding": encoding} if encoding else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return gpd.read_file(source, engine="pyogrio", **kwargs)
    except Exception as exc:  # pyogrio raises several DataSourceError kinds
        raise InvalidInput(f"{path.name}: cannot be read as a vector file ({exc})") from None


def read_vector(path: Path, crs: str, encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file whose coordinates are in the declared ``crs`` and return it in WGS84.

    The declared CRS wins over what the file claims: GeoJSON always claims WGS84, even when it was
    exported from AMap in GCJ-02.
    """
    name = declared_crs(crs)
    frame = read_raw(path, encoding)
    if frame.geometry.isna().any() or frame.geometry.is_empty.any():
        bad = [int(i) for i in np.flatnonzero((frame.geometry.isna() | frame.geometry.is_empty).to_numpy())]
        raise FeatureErrors(
            f"{path.name}: {len(bad)} feature(s) have no geometry",
            [{"index": i, "rule": "geometry", "message": "feature has no geometry"} for i in bad[:100]],
        )
    if name.startswith("EPSG:"):
        frame = frame.set_crs(name, allow_override=True).to_crs("EPSG:4326")
    elif is_offset_crs(name):
        geoms = [geometry_to_wgs84(g, name) for g in frame.geometry.values]
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs="EPSG:4326")
    else:
        frame = frame.set_crs("EPSG:4326", allow_override=True)
    return frame
