"""Numbers written in ASCII digits: ``str.isdigit()`` also takes "²", "٣" and "１", which ``int()`` refuses or
reads, and ``int()`` refuses more than 4,300 digits; ids, cursors and codes from clients go through here."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")


def ascii_digits(text: str, most: int) -> bool:
    """Whether ``text`` is 1 to ``most`` ASCII digits."""
    return len(text) <= most and _DIGITS.fullmatch(text) is not None


def ascii_int(text: str, most: int) -> int | None:
    """The number ``text`` writes in 1 to ``most`` ASCII digits, or None when it is anything else."""
    return int(text) if ascii_digits(text, most) else None
