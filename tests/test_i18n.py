"""The one catalogue: every message the code writes with ``t("…")`` has its Chinese entry with the same
placeholders, no entry is left unused, every error raised to a client goes through ``t``, and ``Accept-Language``
picks the language."""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo_service import i18n
from geo_service.domain import errors

PACKAGE = Path(i18n.__file__).parent
#: Errors a client reads: their first argument must be a translated message.
CLIENT_ERRORS = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.GeoServiceError)
} | {"Violation", "HTTPException"}


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _is_t(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"


def _t_calls() -> list[tuple[str, str, int]]:
    """(text, file, line) of every ``t("literal", …)`` in the package."""
    found = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if _is_t(node):
                assert isinstance(node, ast.Call)
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path.name}:{node.lineno}: t() takes a literal text (values go in as keywords)"
                )
                found.append((first.value, path.name, node.lineno))
    return found


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_message_has_its_chinese_entry_with_the_same_placeholders() -> None:
    zh = i18n.api_messages("zh")
    missing = [f"{f}:{line}: {text!r}" for text, f, line in _t_calls() if text not in zh]
    assert not missing, "messages without a Chinese entry:\n" + "\n".join(missing)
    wrong = [k for k, v in zh.items() if _placeholders(k) != _placeholders(v)]
    assert not wrong, f"entries whose placeholders differ from the English: {wrong}"
    untranslated = [k for k, v in zh.items() if not v.strip() or v == k]
    assert not untranslated, f"entries not translated: {untranslated}"


def test_no_entry_is_left_unused() -> None:
    used = {text for text, _, _ in _t_calls()}
    unused = sorted(i18n.api_messages("zh").keys() - used)
    assert not unused, f"catalogue entries no code uses: {unused}"


def test_every_error_a_client_reads_goes_through_the_catalogue() -> None:
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id not in CLIENT_ERRORS or node.func.id == "GeoServiceError":
                continue
            if node.func.id in ("Violation", "HTTPException"):
                message = node.args[1] if len(node.args) > 1 else None
                message = next((k.value for k in node.keywords if k.arg == "detail"), message)
            else:
                message = node.args[0] if node.args else None
            if message is not None and not _is_t(message) and not isinstance(message, ast.Name):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.func.id}")
    assert not offenders, "errors raised with text not from the catalogue:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("", "en"),
        ("zh", "zh"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR, zh-Hans;q=0.5", "zh"),
        ("en;q=0.2, zh;q=0.7", "zh"),
        ("zh;q=0", "en"),
        ("de", "en"),
        ("*", "en"),
        ("zh;q=abc", "en"),
        ("zh;q=\uff11", "en"),
    ],
)
def test_accept_language_picks_the_answer_language(header: str | None, lang: str) -> None:
    assert i18n.from_accept_language(header) == lang


def test_t_renders_in_the_current_language_and_values_stay_data() -> None:
    text = next(iter(i18n.api_messages("zh")), None)
    assert text is not None
    values = {name: "{x}" for name in _placeholders(text)}
    with i18n.use("zh"):
        zh = i18n.t(text, **values)
    with i18n.use("en"):
        en = i18n.t(text, **values)
    assert zh == i18n.api_messages("zh")[text].format(**values) and en == text.format(**values)
    assert zh != en


def test_catalogue_files_are_json_objects_of_text() -> None:
    for path in i18n.api_files("zh"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict) and all(isinstance(v, str) for v in data.values()), path.name


def test_an_answer_follows_accept_language(client: TestClient) -> None:
    zh = client.get("/v1/no-such-thing", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    en = client.get("/v1/no-such-thing")
    assert zh.status_code == en.status_code == 404
    assert zh.json()["detail"] == "未找到" and en.json()["detail"] == "Not Found"
    assert zh.headers["content-language"] == "zh" and "Accept-Language" in zh.headers["vary"]
    query = {"lon": "x", "lat": 23.1, "type": "elderly_canteen"}
    bad = client.get("/v1/facilities/nearest", params=query, headers={"Accept-Language": "zh"})
    assert bad.status_code == 422 and "必须是数字" in bad.json()["detail"], bad.json()
