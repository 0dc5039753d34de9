"""The naming rules a proposed place name is checked against (地名管理条例 2022, 广州市地名管理规定 2022).

Each rule is a function of the name (and its category) returning the violations it finds; uniqueness in
scope needs the database and lives in the place-names service, built on ``near_homophone_key`` below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from geo_service.domain.naming import GENERIC_TERMS, NUMERALS, split_name

#: Characters outside GB2312 that Guangdong place names use as standard (configurable by deployments).
LOCAL_CHARACTERS = frozenset("滘涌塱氹圳埗冚岗窖畲凼漖塘甽沥埔廍鳌蠄")

#: Categories whose generic part is a street term: the name must end in one fitting the category.
STREET_CATEGORIES = ("road", "street", "alley")

#: Default forbidden terms (deployments add their own): leaders and other persons, foreign places, brands.
DEFAULT_FORBIDDEN: dict[str, tuple[str, ...]] = {
    "person": ("毛泽东", "周恩来", "刘少奇", "朱德", "邓小平", "江泽民", "胡锦涛", "习近平", "李鹏", "温家宝",
               "李克强", "孙悟空", "猪八戒", "雷锋"),
    "foreign_place": ("纽约", "伦敦", "巴黎", "威尼斯", "曼哈顿", "维也纳", "罗马", "东京", "莫斯科", "加州",
                      "夏威夷", "普罗旺斯", "莱茵", "多伦多", "悉尼"),
    "company": ("万达", "碧桂园", "恒大", "万科", "保利", "星巴克", "麦当劳", "肯德基", "阿里巴巴", "腾讯", "华为"),
}  # fmt: skip


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


def check_characters(name: str, local: Iterable[str] = LOCAL_CHARACTERS) -> list[Violation]:
    """Standard simplified Chinese characters only: no Latin letters, digits, symbols, rare or traditional forms."""
    if not name.strip():
        return [Violation("characters", "the name is empty")]
    if len(name) > 20:
        return [Violation("characters", f"the name has {len(name)} characters; a place name has at most 20")]
    out = []
    if _LATIN.search(name):
        out.append(
            Violation("characters", "Latin letters or foreign words are not allowed in a standard name")
        )
    allowed_local = set(local)
    odd = [ch for ch in name if not _HAN.match(ch) and not _LATIN.match(ch)]
    if odd:
        out.append(
            Violation(
                "characters", f"only Chinese characters are allowed; remove {''.join(dict.fromkeys(odd))!r}"
            )
        )
    rare = [ch for ch in name if _HAN.match(ch) and not _in_gb2312(ch) and ch not in allowed_local]
    if rare:
        out.append(
            Violation(
                "characters", f"rare, traditional or non-standard characters: {''.join(dict.fromkeys(rare))}"
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
                    "structure", f"a {category} name needs a generic term such as {'、'.join(fitting[:6])}"
                )
            ]
        return []
    if not parts.specific:
        return [Violation("structure", "the name has a generic term but no specific part")]
    if category not in parts.categories():
        allowed = "、".join(fitting[:8]) or "none"
        return [
            Violation(
                "structure",
                f"the generic term {parts.term!r} does not fit the category {category!r} "
                f"(a {category} ends in {allowed})",
            )
        ]
    return []


def check_forbidden(name: str, forbidden: Mapping[str, Iterable[str]] | None = None) -> list[Violation]:
    """No names of persons (never of leaders), foreign places, companies or trademarks."""
    words = {
        "person": "the name of a person",
        "foreign_place": "a foreign place name",
        "company": "a company name or trademark",
    }
    out = []
    for kind, terms in (forbidden or DEFAULT_FORBIDDEN).items():
        for term in terms:
            if term and term in name:
                out.append(
                    Violation(
                        "forbidden", f"{term!r} is {words.get(kind, kind)}, which a place name may not use"
                    )
                )
    return out


def check_name(
    name: str, category: str, forbidden: Mapping[str, Iterable[str]] | None = None
) -> list[Violation]:
    """Every rule that needs only the name: characters, structure, forbidden content."""
    return check_characters(name) + check_structure(name, category) + check_forbidden(name, forbidden)


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
