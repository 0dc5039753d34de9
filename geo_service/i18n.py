"""The translation catalogue, one for the whole service: pages' texts and the API's messages.

Two kinds of entry, both JSON files under ``geo_service/locales/``:

- **Page texts** (``<lang>.json``): dotted keys (``propose.submit``), every language has the same keys (a test
  checks). Pages look texts up when they are rendered (:func:`gettext`), their scripts get the same messages as JSON.
  A missing key falls back to Chinese, then to the key itself, so a page never breaks over a missing translation.
- **API messages** (``api/<lang>/*.json``): gettext style, the key is the English text as written in the code,
  ``{name}`` placeholders filled by :func:`t`. English needs no file. Each area of the code keeps its own file
  (``api/zh/naming.json``, ``api/zh/uploads.json`` …); together they are one catalogue (a key may appear in one file
  only, every ``t("…")`` in the code has its entry with the same placeholders: ``tests/test_i18n.py``).

The language of an API answer follows ``Accept-Language`` (RFC 9110 §12.5.4): the middleware sets it for the request
(:func:`use`) and :func:`t` renders in it, so an error raised anywhere below (a service, a rule, a worker that was
told the language) is already in the reader's language. Without the header answers stay English, as the contract
has them; machine-readable fields (``rule``, ``code``) never change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("zh", "en")
DEFAULT = "zh"  # the pages' default
API_DEFAULT = "en"  # the API's default without Accept-Language (the contract's language)

_language: ContextVar[str] = ContextVar("language", default=API_DEFAULT)


# -- page texts ---------------------------------------------------------------------------------------------------


@cache
def messages(lang: str) -> dict[str, str]:
    """Every page text of a language (read once per process)."""
    if lang not in LANGUAGES:
        lang = DEFAULT
    data: dict[str, str] = json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def load_all() -> None:
    """Read every catalogue now (at start-up), so a broken file stops the service rather than a page."""
    for lang in LANGUAGES:
        messages(lang)
        api_messages(lang)


def gettext(lang: str, key: str) -> str:
    """The page text ``key`` in ``lang`` (Chinese, then the key itself, when it is missing)."""
    return messages(lang).get(key) or messages(DEFAULT).get(key) or key


def choose(cookie: str | None) -> str:
    """The language a person chose (a cookie), Chinese first."""
    return cookie if cookie in LANGUAGES else DEFAULT


# -- API messages -------------------------------------------------------------------------------------------------


def api_files(lang: str) -> list[Path]:
    """The files of a language's API messages (none for English, whose texts are the keys)."""
    return sorted((LOCALES_DIR / "api" / lang).glob("*.json"))


@cache
def api_messages(lang: str) -> dict[str, str]:
    """English text → its translation, every file of the language merged (a key twice is an error)."""
    merged: dict[str, str] = {}
    for path in api_files(lang):
        part: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        twice = merged.keys() & part.keys()
        if twice:
            raise ValueError(f"{path.name}: messages already in another file: {sorted(twice)[:3]}")
        merged.update(part)
    return merged


def t(text: str, /, **values: Any) -> str:
    """``text`` (English, as written in the code) in the current request's language, ``{name}`` filled from
    ``values``. Values are data: they are inserted as they are, never looked up or formatted as templates."""
    lang = _language.get()
    if lang != "en":
        text = api_messages(lang).get(text, text)
    return text.format(**values) if values else text


def language() -> str:
    """The current request's language."""
    return _language.get()


@contextmanager
def use(lang: str) -> Iterator[None]:
    """Render messages in ``lang`` within the block (a request, a worker's job)."""
    token = _language.set(lang if lang in LANGUAGES else API_DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


def from_accept_language(header: str | None) -> str:
    """The language to answer in, from an ``Accept-Language`` field: the supported one with the highest weight
    (``zh-CN``, ``zh-Hans``, ``zh-TW`` → zh; ``en-GB`` → en), ties in the client's order; English without one."""
    if not header:
        return API_DEFAULT
    best, best_q = API_DEFAULT, 0.0
    for item in header.split(",")[:20]:
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value) if value.strip().isascii() else 0.0
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best
