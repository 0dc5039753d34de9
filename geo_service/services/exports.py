"""Downloads for planners: the coverage table as CSV or Excel (Chinese headers), the gaps as GeoJSON or GeoPackage.

No table carries a live formula: a division name like ``=HYPERLINK(…)`` (imported, or set by staff) would run
in the planner's spreadsheet (OWASP "CSV injection"). Every text cell that a spreadsheet would read as a formula
goes out as text: in CSV with a leading ``'``, in Excel as a string cell.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeGuard

import geopandas as gpd
import orjson
import pandas as pd
import shapely
from openpyxl.worksheet.worksheet import Worksheet

from geo_service.domain.errors import InvalidInput
from geo_service.services.geojson import dumps

TABLE_FORMATS = ("csv", "xlsx")
GAP_FORMATS = ("geojson", "gpkg")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}
#: Column → header shown to planners (Chinese, with the English key for other tools).
HEADERS = {
    "code": "区划代码 code",
    "name": "名称 name",
    "level": "级别 level",
    "parent_code": "上级代码 parent_code",
    "facilities": "设施数 facilities",
    "area_km2": "面积(平方公里) area_km2",
    "covered_area_km2": "覆盖面积(平方公里) covered_area_km2",
    "covered_area_ratio": "面积覆盖率 covered_area_ratio",
    "population": "人口 population",
    "covered_population": "覆盖人口 covered_population",
}
#: How a text cell starts that a spreadsheet takes for a formula (OWASP: = + - @, tab, carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: object) -> TypeGuard[str]:
    """Whether a cell is text that a spreadsheet would read as a formula (numbers never are)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _csv_text(value: object) -> object:
    return "'" + value if formula_like(value) else value


def _as_text(sheets: Iterable[Worksheet]) -> None:
    """Formula-like text cells typed as strings: openpyxl makes a str starting with '=' a formula."""
    for sheet in sheets:
        for row in sheet.iter_rows():
            for cell in row:
                if formula_like(cell.value):
                    cell.data_type = "s"


def csv_table(frame: pd.DataFrame) -> bytes:
    """A table as CSV: UTF-8 with a BOM (so Excel reads the Chinese), CRLF rows, formula-like text as text."""
    # CRLF ends rows (RFC 4180): Python's csv quotes a field holding a line-end character only if it is
    # one of the terminator's, and a lone CR in a name would otherwise split its row in two.
    return frame.map(_csv_text).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def xlsx_list(frame: pd.DataFrame, sheet_name: str, widths: dict[str, int] | None = None) -> bytes:
    """A table as an .xlsx workbook for working through: the header row frozen and filters on every column;
    formula-like text as string cells."""
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet_name)
        sheet = writer.sheets[sheet_name]
        _as_text([sheet])
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        for column in sheet.columns:
            header = str(column[0].value)
            sheet.column_dimensions[column[0].column_letter].width = (widths or {}).get(header, 18)
    return out.getvalue()


def coverage_table(answer: dict[str, Any], fmt: str) -> bytes:
    """The coverage rows as CSV (UTF-8 with BOM, so Excel reads the Chinese) or as an .xlsx workbook."""
    if fmt not in TABLE_FORMATS:
        raise InvalidInput(f"unknown format {fmt!r} for the coverage table: use csv or xlsx")
    frame = pd.DataFrame(answer["divisions"], columns=list(HEADERS)).rename(columns=HEADERS)
    if fmt == "csv":
        return csv_table(frame)
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="覆盖 coverage")
        summary = pd.DataFrame(
            [{"指标 figure": k, "值 value": v} for k, v in answer["summary"].items()]
            + [
                {"指标 figure": k, "值 value": answer[k]}
                for k in ("type", "mode", "radius_m", "level", "within")
            ]
        )
        summary.to_excel(writer, index=False, sheet_name="汇总 summary")
        _as_text(writer.sheets.values())
        for sheet in writer.sheets.values():
            for column in sheet.columns:
                sheet.column_dimensions[column[0].column_letter].width = 22
    return out.getvalue()


def gaps_file(collection: dict[str, Any], fmt: str) -> bytes:
    """The uncovered divisions as GeoJSON or as a GeoPackage layer named 'gaps'."""
    if fmt not in GAP_FORMATS:
        raise InvalidInput(f"unknown format {fmt!r} for the gaps: use geojson or gpkg")
    if fmt == "geojson":
        return dumps(collection)
    features = orjson.loads(dumps(collection))["features"]
    frame = gpd.GeoDataFrame(
        [f["properties"] for f in features],
        geometry=[shapely.geometry.shape(f["geometry"]) for f in features],
        crs="EPSG:4326",
        columns=list(HEADERS),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gaps.gpkg"
        frame.to_file(path, driver="GPKG", layer="gaps")
        return path.read_bytes()
