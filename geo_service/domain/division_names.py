"""How division names are written: the statistical full name (翠洲社区居民委员会) and the short form in use."""

from __future__ import annotations

import re

_SUFFIX = re.compile(r"(居民委员会|居委会|村民委员会|村委会)+会?$")


def short_village_name(name: str) -> str:
    """翠洲社区居民委员会 → 翠洲社区, 大岗村民委员会 → 大岗村."""
    stem = _SUFFIX.sub("", name)
    if name != stem and re.search(r"(村民委员会|村委会)", name) and not stem.endswith("村"):
        stem += "村"
    return stem


def short_township_name(name: str) -> str:
    """沙面街道 → 沙面街, 太和镇 → 太和镇 (as it is used in facility names)."""
    return name[:-2] + "街" if name.endswith("街道") else name
