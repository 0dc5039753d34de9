"""The place-name register (地名录): every approved name with its category, pinyin, divisions, origin (含义),
history (历史沿革), approval reference (批准文号) and dates, as a spreadsheet for the bureau and the public.

Public: it holds what the public reads of approved names, never staff comments or reasons. Downloads go
through ``exports`` (formula-like text stays text).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db.sql import compose
from geo_service.domain.errors import InvalidInput
from geo_service.domain.naming import CATEGORY_LABELS_ZH
from geo_service.i18n import t
from geo_service.services import exports
from geo_service.services.place_names import APPROVED_PLACES

FORMATS = ("xlsx", "csv")
#: Column → header (Chinese, with the English key for other tools).
HEADERS = {
    "id": "编号 id",
    "name": "标准名称 name",
    "category": "类别 category",
    "pinyin": "汉语拼音 pinyin",
    "district": "区 district",
    "township": "镇街 township",
    "village": "村居 village",
    "division_code": "区划代码 division_code",
    "origin": "含义 origin",
    "history": "历史沿革 history",
    "approval_ref": "批准文号 approval_ref",
    "approved_on": "批准日期 approved_on",
    "proposed_on": "申报日期 proposed_on",
}
#: Wider columns for the long texts.
_WIDTHS = {HEADERS["origin"]: 40, HEADERS["history"]: 48, HEADERS["name"]: 20, HEADERS["pinyin"]: 24}

# A division code names its ancestors by its prefixes (6 digits the district, 9 the township, 12 the village).
# History: earlier names with the dates each was valid, oldest first; the reasons typed by staff stay out.
_REGISTER = compose(
    """
SELECT t.id, t.name, t.category, t.pinyin, d.name AS district, tw.name AS township, v.name AS village,
       t.division_code, t.origin,
       (SELECT string_agg(h.name || '（' || coalesce(h.valid_from::text, '') || '—' || coalesce(h.valid_to::text, '')
                          || '）', '；' ORDER BY h.valid_to NULLS LAST, h.id)
        FROM place_name_history h WHERE h.place_name_id = t.id) AS history,
       t.approval_ref, t.approved_on, t.created_at::date AS proposed_on
FROM place_names t
LEFT JOIN divisions d ON d.code = left(t.division_code, 6)
LEFT JOIN divisions tw ON length(t.division_code) >= 9 AND tw.code = left(t.division_code, 9)
LEFT JOIN divisions v ON length(t.division_code) = 12 AND v.code = t.division_code
WHERE {approved} AND (CAST(:district AS text) IS NULL OR t.district_code = :district)
ORDER BY t.division_code, t.name, t.id
""",
    approved=APPROVED_PLACES,
)


async def rows(conn: AsyncConnection, district: str | None = None) -> list[dict[str, Any]]:
    """The register's rows (of one district, or all), in division then name order."""
    if district is not None:
        found = await conn.execute(
            text("SELECT 1 FROM divisions WHERE code = :c AND level = 'district'"), {"c": district}
        )
        if found.first() is None:
            raise InvalidInput(
                t("unknown district code {district!r}: give a 6-digit district code", district=district)
            )
    result = await conn.execute(text(_REGISTER), {"district": district})
    return [{**r._mapping, "category": CATEGORY_LABELS_ZH.get(r.category, r.category)} for r in result]


def file(found: list[dict[str, Any]], fmt: str) -> bytes:
    """The register as an .xlsx workbook (header frozen, filters on) or as CSV."""
    if fmt not in FORMATS:
        raise InvalidInput(t("unknown format {format!r} for the register: use xlsx or csv", format=fmt))
    frame = pd.DataFrame(found, columns=list(HEADERS)).rename(columns=HEADERS)
    if fmt == "csv":
        return exports.csv_table(frame)
    return exports.xlsx_list(frame, "地名录 register", _WIDTHS)
