"""Romanisation of place names in Hanyu Pinyin by the 1984 place-name spelling rules (GB/T 16159).

Specific and generic parts are separate capitalised words without tones; a one-syllable
modifier or a number joins the generic (沙面北街 → Shamian Beijie, 罗仙十一巷 → Luoxian Shiyixiang); an apostrophe
precedes a non-initial syllable starting with a, o or e (南岸路 → Nan'an Lu); ü stays ü. Natural villages, whose
specific and generic need no telling apart, are one word (GB/T 16159-2012 6.3.3: 罗仙岗 Luoxiangang, 罗仙围
Luoxianwei, 罗仙坊村 Luoxianfangcun); so is any name whose generic only a natural village takes (…围, …庄) when
the category is not known. pypinyin gives syllables only and misreads some Guangzhou names, so a place-name
reading dictionary is applied first.
"""

from __future__ import annotations

from collections.abc import Mapping

from pypinyin import Style, lazy_pinyin

from geo_service.domain.naming import NameParts, split_name

#: Readings pypinyin gets wrong in Guangzhou place names (space-separated syllables).
PLACE_READINGS: dict[str, str] = {
    "花都": "hua du",
    "长堤": "chang di",
    "十三行": "shi san hang",
    "海幢": "hai zhuang",
    "番禺": "pan yu",
    "长洲": "chang zhou",
    "长湴": "chang ban",
    "员村": "yuan cun",
    "车陂": "che bei",
    "大塘": "da tang",
    "沙湾": "sha wan",
    "增城": "zeng cheng",
    "从化": "cong hua",
    "乐从": "le cong",
    "石井": "shi jing",
    "厦滘": "xia jiao",
    "滘": "jiao",
    "涌": "chong",
    "塱": "lang",
    "氹": "dang",
    "圳": "zhen",
}


def _one_per_char(chars: str) -> list[str]:
    """pypinyin hook for non-Han runs: one item per character, to keep syllables aligned with characters."""
    return list(chars)


def syllables(text: str, readings: Mapping[str, str] | None = None) -> list[str]:
    """One toneless syllable per character (other characters as they are), dictionary readings first.

    Readings are matched longest first over the whole text, so a phrase may span the split between
    specific and generic part; a reading whose syllable count differs from its length is ignored.
    """
    table = {k: v for k, v in {**PLACE_READINGS, **(readings or {})}.items() if len(v.split()) == len(k)}
    longest = max((len(k) for k in table), default=0)
    out: list[str] = []
    pending: list[str] = []
    i = 0

    def flush() -> None:
        if pending:
            out.extend(
                lazy_pinyin("".join(pending), style=Style.NORMAL, v_to_u=True, errors=_one_per_char)  # type: ignore[arg-type]
            )
            pending.clear()

    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            reading = table.get(text[i : i + size])
            if reading:
                flush()
                out.extend(reading.split())
                i += size
                break
        else:
            pending.append(text[i])
            i += 1
    flush()
    return out


def syllables_many(names: list[str], readings: Mapping[str, str] | None = None) -> list[list[str]]:
    """``syllables`` of many names in one pass (pypinyin's per-call cost dominates for short names)."""
    if not names:
        return []
    separator = "|"  # not Han: neither the dictionary nor pypinyin's segmentation reads across it
    flat = syllables(separator.join(names), readings)
    out: list[list[str]] = [[]]
    for syl in flat:
        if syl == separator:
            out.append([])
        else:
            out[-1].append(syl)
    return out


def romanize_syllables(name: str, sylls: list[str], category: str | None = None) -> str:
    """The romanisation of a name of ``category`` (None: not known) from its syllables (one per character)."""
    parts = split_name(name)
    cut = len(parts.specific)
    end = len(parts.specific) + len(parts.generic)
    if one_word(parts, category):
        return _word(sylls[:end])
    words = [sylls[:cut], sylls[cut:end]]
    return " ".join(_word(w) for w in words if w)


def one_word(parts: NameParts, category: str | None) -> bool:
    """Whether a name is written as one word: a natural village (自然村), or, of unknown category, a name whose
    generic term only natural villages take."""
    if category is not None:
        return category == "natural_village"
    return parts.categories() == ("natural_village",)


def _word(sylls: list[str]) -> str:
    """Join syllables into one word: apostrophe before non-initial a/o/e syllables, capitalised."""
    word = ""
    for idx, syl in enumerate(sylls):
        syl = syl.lower()
        if idx and syl[:1] in ("a", "o", "e"):
            word += "'"
        word += syl
    return word[:1].upper() + word[1:]


def romanize(name: str, readings: Mapping[str, str] | None = None, category: str | None = None) -> str:
    """The standard romanisation of a place name, e.g. 沙面北街 → 'Shamian Beijie'."""
    parts = split_name(name)
    return romanize_syllables(name, syllables(parts.specific + parts.generic, readings), category)


def pinyin_key(name: str, readings: Mapping[str, str] | None = None) -> str:
    """Toneless lowercase syllables run together: equal keys mean homophones (天河路 → tianhelu)."""
    return "".join(syllables(name, readings)).lower()


def normalise_query(text: str) -> str:
    """A search text reduced to a pinyin key: 'Tianhe Lu', "tian'he lu" and 'TIANHELU' all match."""
    return "".join(ch for ch in text.lower() if (ch.isalnum() and ch.isascii()) or ch == "ü")
