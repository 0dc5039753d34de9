"""Structure of a place name: specific part (专名) + generic part (通名), and the categories generics fit."""

from __future__ import annotations

from dataclasses import dataclass

#: The Chinese name of each category (API.md, "Precise shapes"), as registers and forms show it.
CATEGORY_LABELS_ZH: dict[str, str] = {
    "road": "道路",
    "street": "街",
    "alley": "巷",
    "village": "行政村",
    "community": "社区",
    "natural_village": "自然村",
    "bridge": "桥",
    "other": "其他",
}
#: Chinese names of the categories, accepted wherever a category code is (surveyors' files say 类别: 道路).
CATEGORY_NAMES_ZH: dict[str, str] = {
    **{label: code for code, label in CATEGORY_LABELS_ZH.items()},
    "路": "road",
    "村": "village",
    "桥梁": "bridge",
}


def category_code(value: str) -> str:
    """The category code of a code or a Chinese category name (unknown values come back as given)."""
    value = value.strip()
    return CATEGORY_NAMES_ZH.get(value, value)


#: Generic terms and the place-name categories each may be used for (API.md, DOMAIN.md).
GENERIC_TERMS: dict[str, tuple[str, ...]] = {
    "大马路": ("road",),
    "马路": ("road",),
    "大道": ("road",),
    "公路": ("road",),
    "路": ("road",),
    "大街": ("street",),
    "直街": ("street",),
    "横街": ("street",),
    "街": ("street",),
    "巷": ("alley",),
    "里": ("alley",),
    "坊": ("alley", "natural_village"),
    "横": ("alley",),
    "社区": ("community",),
    "村": ("village", "natural_village"),
    "围": ("natural_village",),
    "庄": ("natural_village",),
    "寨": ("natural_village",),
    "屯": ("natural_village",),
    "大桥": ("bridge",),
    "桥": ("bridge",),
}

#: Directions that join the generic part they precede (北街 → Beijie).
DIRECTIONS = frozenset("东南西北中")
#: Numerals: a number before the generic joins it (一巷 → Yixiang, 十一巷 → Shiyixiang), as in a numbered series.
NUMERALS = frozenset("〇一二三四五六七八九十百")
#: One-syllable modifiers that join the generic part they precede (北街 → Beijie, 一巷 → Yixiang).
MODIFIERS = DIRECTIONS | NUMERALS
#: The longest number read as a modifier (九十九巷); a longer run of numerals is part of the specific.
MAX_NUMBER = 3


@dataclass(frozen=True)
class NameParts:
    """A name split into its specific part and its generic part (modifier included)."""

    specific: str
    generic: str
    term: str | None  # the bare generic term, e.g. 街 in 北街

    def categories(self) -> tuple[str, ...]:
        """Categories the generic term allows (empty when the name has no known generic)."""
        return GENERIC_TERMS.get(self.term, ()) if self.term else ()


def split_name(name: str, terms: dict[str, tuple[str, ...]] | None = None) -> NameParts:
    """Split a name at its generic term (longest match at the end), with a joining modifier."""
    table = terms or GENERIC_TERMS
    text = name.strip()
    for term in sorted(table, key=len, reverse=True):
        if text.endswith(term) and len(text) > len(term):
            specific = text[: -len(term)]
            cut = _modifier_length(specific) if len(term) == 1 else 0
            return NameParts(specific[: len(specific) - cut], specific[len(specific) - cut :] + term, term)
    return NameParts(text, "", None)


def _modifier_length(specific: str) -> int:
    """How many characters at the end of a specific part join the generic: a number (罗仙十一|巷) or one
    direction (沙面北|街), provided something is left of the specific (八一路 is Bayi Lu, 北街 is Bei Jie)."""
    number = len(specific) - len(specific.rstrip("".join(NUMERALS)))
    if number:
        return number if number < len(specific) and number <= MAX_NUMBER else 0
    return 1 if len(specific) > 1 and specific[-1] in DIRECTIONS else 0
