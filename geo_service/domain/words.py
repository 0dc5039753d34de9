"""Words that go inside a message as the reader's language says them: a status, a list of items."""

from __future__ import annotations

from collections.abc import Iterable

from geo_service import i18n


def status_word(status: str) -> str:
    """A place name's status as the reader says it: the code in English (rejected), in Chinese the word the
    pages use (未批准, from the page catalogue's ``status.*``), so the API and the workbench agree."""
    lang = i18n.language()
    if lang == "en":
        return status
    return i18n.messages(lang).get(f"status.{status}", status)


def listing(items: Iterable[object]) -> str:
    """Items as the reader lists them inside a sentence: ``a, b`` in English, ``a、b`` in Chinese."""
    return ("、" if i18n.language() == "zh" else ", ").join(str(item) for item in items)
