"""Downloads never carry live formulas (OWASP CSV injection): text that looks like one goes out as text."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geo_service.api.app import create_app
from geo_service.services import exports
from tests.conftest import settings_for
from tests.conftest import sql as query

NAMES = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
PARAMS = {"type": "elderly_canteen", "level": "village", "within": "440106"}
NUMBERS = slice(5, 12)  # facilities … covered_population_ratio


def read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def formulas(body: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(body))
    return [
        f"{ws.title}!{c.coordinate}"
        for ws in book
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


def check_csv(body: bytes, named: dict[str, str], villages: int) -> None:
    header, *rows = read_csv(body)
    assert header[1] == "名称 name" and len(rows) == villages  # a CR in a name splits no row
    by_code = {r[0]: r for r in rows}
    for code, name in named.items():
        assert by_code[code][1] == "'" + name
    assert all(not r[1].startswith("'") for r in rows if r[0] not in named)  # other names as they are
    for r in rows:
        [float(v) for v in r[NUMBERS]]  # numbers stay numbers, unquoted


def check_xlsx(body: bytes, named: dict[str, str], villages: int) -> None:
    assert formulas(body) == []
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == villages
    by_code = {r[0].value: r for r in rows}
    for code, name in named.items():
        assert by_code[code][1].value == name and by_code[code][1].data_type == "s"
    assert all(c.data_type == "n" for r in rows for c in r[NUMBERS])


def test_coverage_downloads_hold_no_formula(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = [
        r[0]
        for r in query(
            fresh_url,
            "SELECT code FROM divisions WHERE level = 'village' AND code LIKE '440106%' ORDER BY code",
        )
    ]
    named = dict(zip(codes, NAMES, strict=False))
    for code, name in named.items():
        query(fresh_url, "UPDATE divisions SET name = :n WHERE code = :c", n=name, c=code)
    with TestClient(create_app(settings_for(fresh_url))) as c:
        check_csv(c.get("/v1/coverage", params={**PARAMS, "format": "csv"}).content, named, len(codes))
        check_xlsx(c.get("/v1/coverage", params={**PARAMS, "format": "xlsx"}).content, named, len(codes))
    # The CLI's exports are the same tables.
    from geo_service.cli.main import app as cli

    monkeypatch.setenv("GEO_DATABASE_URL", fresh_url)
    for fmt, check in (("csv", check_csv), ("xlsx", check_xlsx)):
        out = tmp_path / f"coverage.{fmt}"
        args = ["export", "coverage", "--type", "elderly_canteen", "--level", "village", "--within", "440106"]
        result = CliRunner().invoke(cli, [*args, "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        check(out.read_bytes(), named, len(codes))


def test_the_rule_is_about_text_cells() -> None:
    row: dict[str, Any] = {
        "code": "-1",
        "name": "=1+1",
        "level": "village",
        "parent_code": "+86",
        "facilities": -3,
        "area_km2": -1.5,
        "covered_area_km2": 0.0,
        "covered_area_ratio": -0.25,
        "population": -7,
        "covered_population": None,
    }
    answer = {
        "divisions": [row],
        "summary": {"note": "@x", "divisions": -1},
        "type": "t",
        "mode": "radius",
        "radius_m": 500.0,
        "level": "village",
        "within": "-x",
    }
    _, line = read_csv(exports.coverage_table(answer, "csv"))
    assert line == ["'-1", "'=1+1", "village", "'+86", "", "-3", "-1.5", "0.0", "-0.25", "-7", "", ""]
    body = exports.coverage_table(answer, "xlsx")
    assert formulas(body) == []
    book = openpyxl.load_workbook(io.BytesIO(body))
    cells = [(c.value, c.data_type) for c in next(book.worksheets[0].iter_rows(min_row=2))]
    assert cells[:4] == [("-1", "s"), ("=1+1", "s"), ("village", "s"), ("+86", "s")] and cells[5] == (-3, "n")
    summary = {r[2].value: (r[1].value, r[1].data_type) for r in book.worksheets[1].iter_rows(min_row=2)}
    assert (
        summary["note"] == ("@x", "s")
        and summary["divisions"] == (-1, "n")
        and summary["within"] == ("-x", "s")
    )


def test_the_coverage_workbook_reads_as_a_planner_expects(client: TestClient) -> None:
    """Ratios as percentages (a number format on the ratio), division and parent names, the people's ratio,
    Chinese summary labels, a frozen header with filters."""
    body = client.get("/v1/coverage", params={**PARAMS, "format": "xlsx"}).content
    book = openpyxl.load_workbook(io.BytesIO(body))
    sheet, summary = book.worksheets
    header = [c.value for c in sheet[1]]
    assert header[:5] == [
        "区划代码 code",
        "名称 name",
        "级别 level",
        "上级代码 parent_code",
        "上级名称 parent_name",
    ]
    assert "人口覆盖率 covered_population_ratio" in header
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == sheet.dimensions
    first = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert first["上级名称 parent_name"].value.endswith("街道")
    for ratio in ("面积覆盖率 covered_area_ratio", "人口覆盖率 covered_population_ratio"):
        cell = first[ratio]
        assert cell.number_format == "0.0%" and isinstance(cell.value, int | float) and 0 <= cell.value <= 1
        assert cell.value == round(cell.value, 6)  # no float noise
    assert first["人口 population"].number_format == "#,##0"
    labels = {r[2].value: r[0].value for r in summary.iter_rows(min_row=2)}
    assert labels["covered_population_ratio"] == "人口覆盖率" and labels[
        "fully_covered_divisions"
    ].startswith("全部覆盖")
    ratio_row = next(r for r in summary.iter_rows(min_row=2) if r[2].value == "covered_population_ratio")
    assert ratio_row[1].number_format == "0.0%"
    rows = list(csv.reader(io.StringIO(client.get("/v1/coverage", params={**PARAMS, "format": "csv"}).text)))
    assert rows[0][-1] == "人口覆盖率 covered_population_ratio" and rows[0][4] == "上级名称 parent_name"
