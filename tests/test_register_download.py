"""The place-name register (GET /v1/place-names/register): every approved name with category, pinyin, division
names, origin, history, approval reference and dates, as a workbook to work through (frozen header, filters,
Chinese headers) or CSV; public; no live formulas; over HTTP against PostGIS."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, line_in, make_keys

FORMULA = '=HYPERLINK("http://x","y")'
REF = "穗府地名〔2026〕7号"


@pytest.fixture
def register_data(fresh_client: TestClient, fresh_url: str) -> dict[str, Any]:
    """An approved name with a formula-like origin and an approval reference, and a renamed place."""
    c, keys = fresh_client, make_keys(fresh_url)
    village = big_village(fresh_url)
    body = {
        "type": "Feature",
        "geometry": line_in(fresh_url, village),
        "properties": {"name": "禾雀名录路", "category": "road", "origin": FORMULA, "note": "zqx-note"},
    }
    pid = c.post("/v1/place-names", json=body, headers=auth(keys["surveyor"])).json()["id"]
    approve = {"decision": "approve", "comment": "zqx-comment", "approval_ref": REF}
    assert (
        c.post(
            f"/v1/place-names/{pid}/review",
            json=approve,
            headers={**auth(keys["reviewer"]), "If-Match": '"1"'},
        ).status_code
        == 200
    )
    place, old = query(
        fresh_url,
        "SELECT id, name FROM place_names WHERE status = 'approved' AND category = 'road' "
        "AND district_code = '440117' ORDER BY id LIMIT 1",
    )[0]
    rename = c.post(
        f"/v1/place-names/{place}/rename", json={"name": "禾雀曾名路"}, headers=auth(keys["surveyor"])
    )
    assert rename.status_code == 201, rename.text
    assert (
        c.post(
            f"/v1/place-names/{rename.json()['id']}/review",
            json={"decision": "approve", "comment": "zqx-why"},
            headers={**auth(keys["reviewer"]), "If-Match": '"1"'},
        ).status_code
        == 200
    )
    return {"id": pid, "village": village, "renamed": place, "old": old}


def _sheet_rows(body: bytes) -> tuple[Any, list[dict[str, Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(body))
    sheet = book.active
    cells = list(sheet.iter_rows())
    headers = [c.value for c in cells[0]]
    return sheet, [dict(zip(headers, row, strict=True)) for row in cells[1:]]


def test_the_workbook(fresh_client: TestClient, fresh_url: str, register_data: dict[str, Any]) -> None:
    resp = fresh_client.get("/v1/place-names/register")  # public, xlsx by default
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert 'filename="place-name-register.xlsx"' in resp.headers["content-disposition"]
    sheet, rows = _sheet_rows(resp.content)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == sheet.dimensions
    headers = list(rows[0])
    assert [h.split(" ")[0] for h in headers] == [
        "编号",
        "标准名称",
        "类别",
        "汉语拼音",
        "区",
        "镇街",
        "村居",
        "区划代码",
        "含义",
        "历史沿革",
        "批准文号",
        "批准日期",
        "申报日期",
    ]
    approved = query(
        fresh_url, "SELECT count(*) FROM place_names WHERE status = 'approved' AND rename_of IS NULL"
    )
    assert len(rows) == approved[0][0]
    ours = next(r for r in rows if r["编号 id"].value == register_data["id"])
    village = register_data["village"]
    names = dict(
        query(
            fresh_url,
            "SELECT code, name FROM divisions WHERE code IN (:d, :t, :v)",
            d=village[:6],
            t=village[:9],
            v=village,
        )
    )
    assert (ours["标准名称 name"].value, ours["类别 category"].value, ours["汉语拼音 pinyin"].value) == (
        "禾雀名录路",
        "道路",
        "Hequeminglu Lu",
    )
    assert (ours["区 district"].value, ours["镇街 township"].value, ours["村居 village"].value) == (
        names[village[:6]],
        names[village[:9]],
        names[village],
    )
    assert ours["批准文号 approval_ref"].value == REF and ours["批准日期 approved_on"].value is not None
    origin = ours["含义 origin"]
    assert origin.value == FORMULA and origin.data_type == "s"  # text, not a formula
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    renamed = next(r for r in rows if r["编号 id"].value == register_data["renamed"])
    assert renamed["标准名称 name"].value == "禾雀曾名路"
    history = renamed["历史沿革 history"].value
    assert history.startswith(register_data["old"] + "（") and "zqx" not in history
    valid_to = query(
        fresh_url,
        "SELECT valid_to FROM place_name_history WHERE place_name_id = :i",
        i=register_data["renamed"],
    )[0][0]
    assert f"—{valid_to.isoformat()}）" in history
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
    assert "zqx" not in text and "test-surveyor" not in text  # no staff texts or people


def test_csv_of_one_district(fresh_client: TestClient, fresh_url: str, register_data: dict[str, Any]) -> None:
    resp = fresh_client.get("/v1/place-names/register", params={"format": "csv", "district": "440117"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert 'filename="place-name-register_440117.csv"' in resp.headers["content-disposition"]
    assert resp.content.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the Chinese
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))
    district = query(fresh_url, "SELECT name FROM divisions WHERE code = '440117'")[0][0]
    expected = query(
        fresh_url,
        "SELECT count(*) FROM place_names WHERE status = 'approved' AND rename_of IS NULL "
        "AND district_code = '440117'",
    )[0][0]
    assert len(rows) == expected and {r["区 district"] for r in rows} == {district}
    assert "禾雀曾名路" in [r["标准名称 name"] for r in rows]
    everywhere = fresh_client.get("/v1/place-names/register", params={"format": "csv"})
    ours = next(
        r
        for r in csv.DictReader(io.StringIO(everywhere.content.decode("utf-8-sig"), newline=""))
        if r["编号 id"] == str(register_data["id"])
    )
    assert ours["含义 origin"] == "'" + FORMULA  # OWASP: a leading ' keeps it text
    assert ours["批准文号 approval_ref"] == REF


@pytest.mark.parametrize(
    ("params", "status"),
    [({"district": "999999"}, 400), ({"district": "4401"}, 422), ({"format": "pdf"}, 422)],
)
def test_bad_register_requests(client: TestClient, params: dict[str, str], status: int) -> None:
    resp = client.get("/v1/place-names/register", params=params)
    assert resp.status_code == status and resp.json()["detail"]
