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


@pytest.mark.parametrize(
    ("name", "category", "expected", "rule"),
    [
        ("罗仙岗", "natural_village", "Luoxiangang", "GB/T 16159 6.3.3: a natural village is one word"),
        ("罗仙围", "natural_village", "Luoxianwei", "6.3.3: one word, though 围 is a generic term"),
        ("罗仙坊村", "natural_village", "Luoxianfangcun", "6.3.3: one word, however many generic-like parts"),
        ("西安村", "natural_village", "Xi'ancun", "one word keeps the apostrophe before an a/o/e syllable"),
        ("罗仙岗", None, "Luoxiangang", "no generic term: one word (the whole name is the specific)"),
        ("罗仙围", None, "Luoxianwei", "category unknown, but only natural villages end in 围: one word"),
        ("罗仙庄", None, "Luoxianzhuang", "the same for 庄"),
        (
            "罗仙坊村",
            "village",
            "Luoxianfang Cun",
            "6.3.1: an administrative village is specific + generic; "
            "坊 inside the specific is part of it (专名化)",
        ),
        ("罗仙坊村", None, "Luoxianfang Cun", "村 also names administrative villages: specific + generic"),
        ("罗仙坊", "alley", "Luoxian Fang", "6.3.1: an alley is specific + generic"),
        ("罗仙坊", "natural_village", "Luoxianfang", "6.3.3: the same characters as a natural village"),
        ("罗仙一巷", "alley", "Luoxian Yixiang", "6.3.2: a one-syllable modifier joins the generic"),
        ("罗仙十巷", "alley", "Luoxian Shixiang", "6.3.2, as 一巷"),
        (
            "罗仙十一巷",
            "alley",
            "Luoxian Shiyixiang",
            "a number before the generic joins it whole (not Luoxianshi Yixiang)",
        ),
        ("八一路", "road", "Bayi Lu", "a number that is the whole specific stays the specific"),
        ("六二三路", "road", "Liu'ersan Lu", "the same (not Liu'er Sanlu)"),
    ],
)
def test_word_division_by_category(name: str, category: str | None, expected: str, rule: str) -> None:
    assert romanize(name, category=category) == expected, rule


def test_extra_readings_override_pypinyin() -> None:
    assert romanize("乐村", readings={"乐村": "yue cun"}) == "Yue Cun"  # a phrase across the split
    assert romanize("乐一路", readings={"乐": "yue"}) == "Yue Yilu"


def test_pinyin_key_makes_homophones_equal() -> None:
    assert pinyin_key("天河路") == "tianhelu"
    assert pinyin_key("天和路") == pinyin_key("天河路")
    assert pinyin_key("天湖路") != pinyin_key("天河路")


@pytest.mark.parametrize(
    ("name", "specific", "generic", "term"),
    [
        ("沙面北街", "沙面", "北街", "街"),
        ("中山大道", "中山", "大道", "大道"),
        ("大岗一巷", "大岗", "一巷", "巷"),
        ("恩宁路", "恩宁", "路", "路"),
        ("西关", "西关", "", None),
        ("北街", "北", "街", "街"),
        ("罗仙十一巷", "罗仙", "十一巷", "巷"),
        ("八一路", "八一", "路", "路"),
        ("十三行路", "十三行", "路", "路"),
    ],
)
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
