"""Structure of a place name: specific part (专名) + generic part (通名), and the categories generics fit."""

from __future__ import annotations

from dataclasses import dataclass

#: Chinese names of the categories, accepted wherever a category code is (surveyors' files say 类别: 道路).
CATEGORY_NAMES_ZH: dict[str, str] = {
    "道路": "road",
    "路": "road",
    "街": "street",
    "巷": "alley",
    "行政村": "village",
    "村": "village",
    "社区": "community",
    "自然村": "natural_village",
    "桥": "bridge",
    "桥梁": "bridge",
    "其他": "other",
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

#: One-syllable modifiers that join the generic part they precede (北街 → Beijie, 一巷 → Yixiang).
MODIFIERS = frozenset("东南西北中一二三四五六七八九十")


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
            generic = term
            if len(specific) > 1 and specific[-1] in MODIFIERS and len(term) == 1:
                specific, generic = specific[:-1], specific[-1] + term
            return NameParts(specific, generic, term)
    return NameParts(text, "", None)
