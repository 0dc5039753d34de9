"""Romanisation by the place-name spelling rules, and the specific/generic split."""

from __future__ import annotations

import pytest

from geo_service.domain.naming import split_name
from geo_service.domain.romanize import pinyin_key, romanize


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("天河路", "Tianhe Lu"),
        ("沙面北街", "Shamian Beijie"),
        ("中山大道", "Zhongshan Dadao"),
        ("南岸路", "Nan'an Lu"),
        ("西安", "Xi'an"),
        ("绿村", "Lü Cun"),
        ("花都大道", "Huadu Dadao"),
        ("长堤大马路", "Changdi Damalu"),
        ("十三行路", "Shisanhang Lu"),
        ("海幢街", "Haizhuang Jie"),
        ("番禺路", "Panyu Lu"),
    ],
)
def test_romanize(name: str, expected: str) -> None:
    assert romanize(name) == expected


def test_extra_readings_override_pypinyin() -> None:
    assert romanize("乐村", readings={"乐村": "yue cun"}) == "Yue Cun"  # a phrase across the split
    assert romanize("乐一路", readings={"乐": "yue"}) == "Yue Yilu"


def test_pinyin_key_makes_homophones_equal() -> None:
    assert pinyin_key("天河路") == "tianhelu"
    assert pinyin_key("天和路") == pinyin_key("天河路")
    assert pinyin_key("天湖路") != pinyin_key("天河路")


@pytest.mark.parametrize(
    ("name", "specific", "generic", "term"),
    [("沙面北街", "沙面", "北街", "街"), ("中山大道", "中山", "大道", "大道"), ("大岗一巷", "大岗", "一巷", "巷"),
     ("恩宁路", "恩宁", "路", "路"), ("西关", "西关", "", None), ("北街", "北", "街", "街")],
)  # fmt: skip
def test_split_name(name: str, specific: str, generic: str, term: str | None) -> None:
    parts = split_name(name)
    assert (parts.specific, parts.generic, parts.term) == (specific, generic, term)


def test_syllables_of_many_names_at_once() -> None:
    from geo_service.domain.romanize import romanize_syllables, syllables_many

    names = ["天河路", "沙面北街", "花都大道", "西安", ""]
    assert [romanize_syllables(n, s) for n, s in zip(names, syllables_many(names), strict=True)] == [
        romanize(n) for n in names
    ]
    assert syllables_many([]) == []
