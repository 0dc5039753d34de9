"""The translation catalogue: one JSON file of messages per language (``geo_service/locales/<lang>.json``).

Keys are dotted names (``propose.submit``); every language has the same keys (a test checks). Pages look texts
up here when they are rendered, and their scripts get the same messages as JSON. A missing key falls back to
Chinese, then to the key itself, so a page never breaks over a missing translation.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("zh", "en")
DEFAULT = "zh"


@cache
def messages(lang: str) -> dict[str, str]:
    """Every message of a language (read once per process)."""
    if lang not in LANGUAGES:
        lang = DEFAULT
    data: dict[str, str] = json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def load_all() -> None:
    """Read every catalogue now (at start-up), so a broken file stops the service rather than a page."""
    for lang in LANGUAGES:
        messages(lang)


def gettext(lang: str, key: str) -> str:
    """The message ``key`` in ``lang`` (Chinese, then the key itself, when it is missing)."""
    return messages(lang).get(key) or messages(DEFAULT).get(key) or key


def choose(cookie: str | None) -> str:
    """The language a person chose (a cookie), Chinese first."""
    return cookie if cookie in LANGUAGES else DEFAULT
