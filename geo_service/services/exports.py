"""Downloads for planners: tables as CSV or Excel (Chinese headers), areas and sites as GeoJSON or GeoPackage.

No table carries a live formula: a division name like ``=HYPERLINK(…)`` (imported, or set by staff) would run
in the planner's spreadsheet (OWASP "CSV injection"). Every text cell that a spreadsheet would read as a formula
goes out as text: in CSV with a leading ``'``, in Excel as a string cell.

In Excel, ratios are numbers shown as percentages (a number format, the value stays the ratio), the header row
is frozen and filters sit on it.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import quote

import geopandas as gpd
import orjson
import pandas as pd
import shapely
from openpyxl.worksheet.worksheet import Worksheet

from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
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
    "parent_name": "上级名称 parent_name",
    "facilities": "设施数 facilities",
    "area_km2": "面积(平方公里) area_km2",
    "covered_area_km2": "覆盖面积(平方公里) covered_area_km2",
    "covered_area_ratio": "面积覆盖率 covered_area_ratio",
    "population": "人口 population",
    "covered_population": "覆盖人口 covered_population",
    "covered_population_ratio": "人口覆盖率 covered_population_ratio",
}
#: Columns of the proposed sites table.
SITE_HEADERS = {
    "rank": "序号 rank",
    "lon": "经度 lon",
    "lat": "纬度 lat",
    "gain_population": "新增覆盖人口 gain_population",
    "division_code": "所在区划代码 division_code",
    "division_name": "所在区划 division_name",
    "candidate": "候选点 candidate",
}
#: Summary figures and parameters → the label planners read.
SUMMARY_LABELS = {
    "divisions": "区划数",
    "covered_divisions": "有覆盖的区划数(覆盖面积>0)",
    "fully_covered_divisions": "全部覆盖的区划数(按面积)",
    "partly_covered_divisions": "部分覆盖的区划数(按面积)",
    "uncovered_divisions": "未覆盖的区划数(按面积)",
    "fully_covered_divisions_by_population": "全部覆盖的区划数(按人口)",
    "partly_covered_divisions_by_population": "部分覆盖的区划数(按人口)",
    "uncovered_divisions_by_population": "未覆盖的区划数(按人口)",
    "area_km2": "面积(平方公里)",
    "covered_area_km2": "覆盖面积(平方公里)",
    "uncovered_area_km2": "未覆盖面积(平方公里)",
    "covered_area_ratio": "面积覆盖率",
    "population": "人口",
    "covered_population": "覆盖人口",
    "uncovered_population": "未覆盖人口",
    "covered_population_ratio": "人口覆盖率",
    "covered_population_before": "现有覆盖人口",
    "covered_population_after": "选址后覆盖人口",
    "method": "求解方法",
    "bound": "覆盖人口上界",
    "type": "设施类型",
    "mode": "计算方式",
    "radius_m": "服务半径(米)",
    "level": "区划级别",
    "within": "范围",
    "n": "选址数",
    "candidates": "候选点",
}
#: Excel number formats by column key; ratios as percentages.
NUMBER_FORMATS = {
    "area_km2": "#,##0.000",
    "covered_area_km2": "#,##0.000",
    "uncovered_area_km2": "#,##0.000",
    "population": "#,##0",
    "covered_population": "#,##0",
    "uncovered_population": "#,##0",
    "gain_population": "#,##0",
    "covered_population_before": "#,##0",
    "covered_population_after": "#,##0",
    "bound": "#,##0",
}
PERCENT = "0.0%"
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


def _number_format(key: str) -> str | None:
    return PERCENT if key.endswith("_ratio") else NUMBER_FORMATS.get(key)


def _format_columns(sheet: Worksheet, keys: list[str]) -> None:
    """Number formats by column, a frozen header with filters, and readable widths."""
    for j, key in enumerate(keys, start=1):
        fmt = _number_format(key)
        column = sheet.cell(row=1, column=j).column_letter
        sheet.column_dimensions[column].width = 22
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                if isinstance(cell.value, int | float):
                    cell.number_format = fmt
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def _summary_sheet(sheet: Worksheet, figures: dict[str, Any]) -> None:
    """Label (Chinese), value and key of each figure; ratios as percentages."""
    sheet.append(["指标 figure", "值 value", "字段 key"])
    for key, value in figures.items():
        sheet.append([SUMMARY_LABELS.get(key, key), value, key])
        fmt = _number_format(key)
        if fmt and isinstance(value, int | float):
            sheet.cell(row=sheet.max_row, column=2).number_format = fmt
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 18
    sheet.column_dimensions["C"].width = 34
    sheet.freeze_panes = "A2"


def table(
    rows: list[dict[str, Any]],
    headers: dict[str, str],
    figures: dict[str, Any],
    fmt: str,
    sheet_name: str,
) -> bytes:
    """Rows as CSV (UTF-8 with BOM, so Excel reads the Chinese) or as a workbook with a summary sheet."""
    if fmt not in TABLE_FORMATS:
        raise InvalidInput(t("unknown format {format!r} for a table: use csv or xlsx", format=fmt))
    frame = pd.DataFrame(rows, columns=list(headers)).rename(columns=headers)
    if fmt == "csv":
        return csv_table(frame)
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet_name)
        _format_columns(writer.sheets[sheet_name], list(headers))
        summary = writer.book.create_sheet("汇总 summary")
        _summary_sheet(summary, figures)
        _as_text(writer.sheets.values())
        _as_text([summary])
    return out.getvalue()


def _parameters(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: answer.get(k) for k in ("type", "mode", "radius_m", "level", "within")}


def coverage_table(answer: dict[str, Any], fmt: str) -> bytes:
    """The coverage rows with their summary and parameters."""
    figures = {**answer["summary"], **_parameters(answer)}
    return table(answer["divisions"], HEADERS, figures, fmt, "覆盖 coverage")


def sites_table(collection: dict[str, Any], fmt: str) -> bytes:
    """The proposed sites (rank, position, people gained, division) with the siting summary."""
    rows = []
    for f in orjson.loads(dumps(collection))["features"]:
        lon, lat = f["geometry"]["coordinates"]
        rows.append({**f["properties"], "lon": lon, "lat": lat})
    figures = {**collection["summary"], **collection.get("parameters", {})}
    return table(rows, SITE_HEADERS, figures, fmt, "选址 sites")


def features_file(collection: dict[str, Any], fmt: str, layer: str, columns: list[str]) -> bytes:
    """A FeatureCollection as GeoJSON, or as a GeoPackage layer named ``layer`` with these columns."""
    if fmt not in GAP_FORMATS:
        raise InvalidInput(
            t("unknown format {format!r} for a file of features: use geojson or gpkg", format=fmt)
        )
    if fmt == "geojson":
        return dumps(collection)
    features = orjson.loads(dumps(collection))["features"]
    frame = gpd.GeoDataFrame(
        [f["properties"] for f in features],
        geometry=[shapely.geometry.shape(f["geometry"]) for f in features],
        crs="EPSG:4326",
        columns=columns,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{layer}.gpkg"
        frame.to_file(path, driver="GPKG", layer=layer)
        return path.read_bytes()


def gaps_file(collection: dict[str, Any], fmt: str) -> bytes:
    """The uncovered divisions as GeoJSON or as a GeoPackage layer named 'gaps'."""
    return features_file(collection, fmt, "gaps", list(HEADERS))


def filename(kind: str, ftype: str, level: str | None, within: str | None, fmt: str) -> str:
    """A download's file name saying what it holds: kind, facility type, level and area (code, or all)."""
    parts = [kind, ftype, level or "", within or "all"]
    return "_".join(p for p in parts if p) + "." + fmt


def disposition(name: str, area_name: str | None = None) -> str:
    """Content-Disposition of a download; the area's name (Chinese) in ``filename*`` beside the ASCII name."""
    header = f'attachment; filename="{name}"'
    if area_name:
        stem, _, ext = name.rpartition(".")
        header += f"; filename*=UTF-8''{quote(f'{stem}_{area_name}.{ext}', safe='')}"
    return header
