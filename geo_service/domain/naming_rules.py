"""The naming rules a proposed place name is checked against (地名管理条例 2022, 广州市地名管理规定 2022).

Each rule is a function of the name (and its category) returning the violations it finds; uniqueness in
scope needs the database and lives in the place-names service, built on ``near_homophone_key`` below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from geo_service import i18n
from geo_service.domain.naming import CATEGORY_LABELS_ZH, GENERIC_TERMS, NUMERALS, split_name
from geo_service.domain.words import listing
from geo_service.i18n import t

#: Categories whose generic part is a street term: the name must end in one fitting the category.
STREET_CATEGORIES = ("road", "street", "alley")

#: Default forbidden terms (deployments add their own): leaders and other persons, foreign places, brands.
DEFAULT_FORBIDDEN: dict[str, tuple[str, ...]] = {
    "person": (
        "毛泽东",
        "周恩来",
        "刘少奇",
        "朱德",
        "邓小平",
        "江泽民",
        "胡锦涛",
        "习近平",
        "李鹏",
        "温家宝",
        "李克强",
        "孙悟空",
        "猪八戒",
        "雷锋",
    ),
    "foreign_place": (
        "纽约",
        "伦敦",
        "巴黎",
        "威尼斯",
        "曼哈顿",
        "维也纳",
        "罗马",
        "东京",
        "莫斯科",
        "加州",
        "夏威夷",
        "普罗旺斯",
        "莱茵",
        "多伦多",
        "悉尼",
    ),
    "company": (
        "万达",
        "碧桂园",
        "恒大",
        "万科",
        "保利",
        "星巴克",
        "麦当劳",
        "肯德基",
        "阿里巴巴",
        "腾讯",
        "华为",
    ),
}


@dataclass(frozen=True)
class Violation:
    """A broken rule, in words a surveyor can act on."""

    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]")


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def check_characters(name: str, local: Iterable[str] = ()) -> list[Violation]:
    """Standard simplified Chinese characters only: no Latin letters, digits, symbols, rare or traditional forms;
    ``local``: characters outside GB2312 the deployment's place names use as standard (滘, 涌 in Guangdong)."""
    if not name.strip():
        return [Violation("characters", t("the name is empty"))]
    if len(name) > 20:
        return [
            Violation(
                "characters",
                t("the name has {count} characters; a place name has at most 20", count=len(name)),
            )
        ]
    out = []
    if _LATIN.search(name):
        out.append(
            Violation("characters", t("Latin letters or foreign words are not allowed in a standard name"))
        )
    allowed_local = set(local)
    odd = [ch for ch in name if not _HAN.match(ch) and not _LATIN.match(ch)]
    if odd:
        out.append(
            Violation(
                "characters",
                t("only Chinese characters are allowed; remove {chars!r}", chars="".join(dict.fromkeys(odd))),
            )
        )
    rare = [ch for ch in name if _HAN.match(ch) and not _in_gb2312(ch) and ch not in allowed_local]
    if rare:
        out.append(
            Violation(
                "characters",
                t(
                    "rare, traditional or non-standard characters: {chars}",
                    chars="".join(dict.fromkeys(rare)),
                ),
            )
        )
    return out


def check_structure(
    name: str, category: str, terms: dict[str, tuple[str, ...]] | None = None
) -> list[Violation]:
    """A specific part and a generic part that fits the category (a 路 is a road, not an alley)."""
    table = terms or GENERIC_TERMS
    parts = split_name(name, table)
    fitting = sorted(t for t, cats in table.items() if category in cats)
    if parts.term is None:
        if category in STREET_CATEGORIES:
            return [
                Violation(
                    "structure",
                    t(
                        "a {category} name needs a generic term such as {terms}",
                        category=category_word(category),
                        terms="、".join(fitting[:6]),
                    ),
                )
            ]
        return []
    if not parts.specific:
        return [Violation("structure", t("the name has a generic term but no specific part"))]
    if category not in parts.categories():
        word = category_word(category)
        return [
            Violation(
                "structure",
                t(
                    "the generic term {term!r} does not fit the category {category!r} (a {what} ends in {allowed})",
                    term=parts.term,
                    category=word,
                    what=word,
                    allowed="、".join(fitting[:8]) or t("none"),
                ),
            )
        ]
    return []


def category_word(category: str) -> str:
    """A category as the reader says it: the code in English (road), its Chinese name in Chinese (道路)."""
    return CATEGORY_LABELS_ZH.get(category, category) if i18n.language() == "zh" else category


def unknown_category(category: str) -> str:
    """Why ``category`` is no category: missing (an empty cell), or not one of ours (listed as the reader says
    them: road, street … in English, 道路、街 … in Chinese)."""
    if not category:
        return t("the category is missing: fill in the category (类别) column or give the category field")
    return t(
        "unknown category {category!r}: use one of {known}",
        category=category,
        known=listing(category_word(c) for c in CATEGORY_LABELS_ZH),
    )


def check_forbidden(name: str, forbidden: Mapping[str, Iterable[str]] | None = None) -> list[Violation]:
    """No names of persons (never of leaders), foreign places, companies or trademarks."""
    out = []
    for kind, terms in (forbidden or DEFAULT_FORBIDDEN).items():
        for term in terms:
            if term and term in name:
                message = _forbidden_message(kind, term)
                out.append(Violation("forbidden", message))
    return out


def _forbidden_message(kind: str, term: str) -> str:
    if kind == "person":
        return t("{term!r} is the name of a person, which a place name may not use", term=term)
    if kind == "foreign_place":
        return t("{term!r} is a foreign place name, which a place name may not use", term=term)
    if kind == "company":
        return t("{term!r} is a company name or trademark, which a place name may not use", term=term)
    return t("{term!r} is {kind}, which a place name may not use", term=term, kind=kind)


def check_name(
    name: str,
    category: str,
    forbidden: Mapping[str, Iterable[str]] | None = None,
    local: Iterable[str] = (),
) -> list[Violation]:
    """Every rule that needs only the name: characters (``local``: the deployment's standard characters outside
    GB2312), structure, forbidden content."""
    return check_characters(name, local) + check_structure(name, category) + check_forbidden(name, forbidden)


# Pairs that speakers of Cantonese (and many Mandarin speakers in the south) merge.
_MERGES = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("ng", "n"), ("l", "n"))


def near_homophone_key(syllables: list[str]) -> str:
    """A key equal for names differing only in zh/z, ch/c, sh/s, -ng/-n or l/n: near homophones."""
    out = []
    for syl in syllables:
        s = syl.lower()
        for long, short in _MERGES[:3]:
            if s.startswith(long):
                s = short + s[len(long) :]
        if s.endswith("ng"):
            s = s[:-1]
        if s.startswith("l"):
            s = "n" + s[1:]
        out.append(s)
    return "".join(out)


def uniqueness_scope(category: str) -> str:
    """Where a name must be unique: 'city' for streets, roads, alleys and bridges; 'district' for villages."""
    return "district" if category in ("village", "community", "natural_village") else "city"


def place_kind(category: str) -> str:
    """The kind of place a category is, for the rule that specific parts do not repeat: streets (roads, streets
    and alleys, whose specifics must differ across the city), settlements (villages, communities, natural
    villages) and each other category on its own; a 罗仙路 and a 罗仙村 or 罗仙桥 are not repeats."""
    if category in STREET_CATEGORIES:
        return "street"
    return "settlement" if category in ("village", "community", "natural_village") else category


def numbered_series(name: str) -> tuple[str, str] | None:
    """The series a numbered name belongs to, as (specific part, generic term): 罗仙一巷 … 罗仙十巷 are the series
    ('罗仙', '巷'); None for a name without a number before its generic term."""
    parts = split_name(name)
    number = parts.generic[: len(parts.generic) - len(parts.term or "")]
    if not parts.term or not number or not set(number) <= NUMERALS:
        return None
    return parts.specific, parts.term


def same_series(a: str, b: str) -> bool:
    """Whether two names are members of one numbered series, which share their specific part by design (the
    rule that specific parts do not repeat is about different places, not about 一巷, 二巷 of one lane) and
    differ in their number alone (四巷 and 十巷 are near homophones as syllables, but signs show the numbers)."""
    series = numbered_series(a)
    return series is not None and series == numbered_series(b)
