"""Naming rules, each with passing and failing real Guangzhou examples (pure: no database)."""

from __future__ import annotations

import pytest

from geo_service.domain.naming_rules import (
    check_characters,
    check_forbidden,
    check_structure,
    near_homophone_key,
    numbered_series,
    same_series,
    uniqueness_scope,
)
from geo_service.domain.romanize import syllables


@pytest.mark.parametrize("name", ["恩宁路", "沙面北街", "十三行路", "厦滘大街", "荔枝湾涌", "塱头村"])
def test_standard_characters_pass(name: str) -> None:
    assert check_characters(name, local="滘塱") == []


def test_local_characters_are_the_deployments_not_the_codes() -> None:
    # 滘 is outside GB2312: standard in Guangdong (the deployment lists it), rare anywhere else.
    assert check_characters("厦滘大街", local="滘") == []
    assert [v.rule for v in check_characters("厦滘大街")] == ["characters"]


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Tianhe路", "Latin"),
        ("天河 路", "only Chinese"),
        ("天河3路", "only Chinese"),
        ("廣州路", "traditional"),
        ("", "empty"),
        ("天河路" * 8, "at most 20"),
        ("Ｔ河路", "Latin"),
    ],
)
def test_characters_fail(name: str, says: str) -> None:
    violations = check_characters(name)
    assert violations and any(says in v.message for v in violations)


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("天河路", "road"),
        ("中山大道", "road"),
        ("沙面北街", "street"),
        ("恩宁横街", "street"),
        ("大岗一巷", "alley"),
        ("荣华里", "alley"),
        ("大岗村", "village"),
        ("翠洲社区", "community"),
        ("海珠桥", "bridge"),
        ("西关", "other"),
    ],
)
def test_structure_fits_category(name: str, category: str) -> None:
    assert check_structure(name, category) == []


@pytest.mark.parametrize(
    ("name", "category", "says"),
    [
        ("天河路", "alley", "does not fit"),
        ("大岗巷", "road", "does not fit"),
        ("天河", "road", "needs a generic"),
        ("大岗村", "street", "does not fit"),
        ("路", "road", "needs a generic"),
    ],
)
def test_structure_fails(name: str, category: str, says: str) -> None:
    violations = check_structure(name, category)
    assert violations and says in violations[0].message


@pytest.mark.parametrize("name", ["邓小平路", "纽约大道", "万达广场路", "星巴克街", "孙悟空巷"])
def test_forbidden_terms(name: str) -> None:
    assert check_forbidden(name)


def test_forbidden_terms_are_configurable() -> None:
    assert check_forbidden("中山路") == []
    assert check_forbidden("中山路", {"person": ["中山"]})


def test_near_homophones_merge_cantonese_pairs() -> None:
    assert near_homophone_key(syllables("新村路")) == near_homophone_key(syllables("星村路"))  # xin / xing
    assert near_homophone_key(syllables("山前路")) == near_homophone_key(syllables("三前路"))  # shan / san
    assert near_homophone_key(syllables("兰园路")) == near_homophone_key(syllables("南园路"))  # lan / nan
    assert near_homophone_key(syllables("天河路")) != near_homophone_key(syllables("天湖路"))


def test_uniqueness_scope() -> None:
    assert uniqueness_scope("road") == uniqueness_scope("alley") == "city"
    assert uniqueness_scope("village") == uniqueness_scope("community") == "district"


def test_numbered_alleys_are_one_series() -> None:
    alleys = [f"罗仙{n}巷" for n in "一二三四五六七八九十"] + ["罗仙十一巷", "罗仙二十三巷"]
    assert {numbered_series(a) for a in alleys} == {("罗仙", "巷")}
    assert all(same_series("罗仙一巷", a) for a in alleys)
    assert not same_series("罗仙一巷", "罗仙东路")  # another kind of place sharing the specific
    assert not same_series("罗仙一巷", "罗仙一横")  # another series (横, not 巷)
    assert not same_series("罗仙一巷", "罗岗一巷")  # another specific
    assert not same_series("罗仙南坊", "罗仙北坊")  # directions do not number a series
    assert numbered_series("罗仙巷") is None and numbered_series("八一路") is None
