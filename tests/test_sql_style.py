"""One SQL style (docs/architecture.md, "Service → SQL"): values are bound; names and SQL pieces go into a
statement's text only through ``geo_service/db/sql.py``; ``:name`` placeholders mean the same on both paths."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from geo_service.db import raw
from geo_service.db.engine import create_engine
from geo_service.db.sql import Sql, alias, code_literal, compose, configured_ident, ident, join
from tests.conftest import run

PACKAGE = Path(__file__).resolve().parent.parent / "geo_service"
#: Words only SQL writes in capitals.
_SQL = re.compile(
    r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|FROM|WHERE|JOIN|ORDER BY|GROUP BY|RETURNING|VALUES|CREATE|ALTER|"
    r"DROP|LIMIT|CASE WHEN|IS NULL|AND|OR|CAST)\b"
)
#: Migrations are left out of the scan: they are frozen files whose names are constants written in them, run once
#: by an operator, and must not import live code.


def _is_sql(literal: str) -> bool:
    return _SQL.search(literal) is not None


def _sql_templates(tree: ast.Module) -> set[str]:
    """Module-level names bound to an SQL-looking string constant (``_QUERY = "SELECT … {x}"``)."""
    found = set()
    for node in tree.body:
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Constant):
            continue
        value = node.value.value
        if isinstance(value, str) and "{" in value and _is_sql(value):
            found.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return found


def built_sql(source: str) -> list[int]:
    """Lines where SQL text is built by formatting: an f-string that reads as SQL and fills something in, or
    ``.format`` on an SQL string."""
    tree = ast.parse(source)
    templates = _sql_templates(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if _is_sql(literal) and any(isinstance(v, ast.FormattedValue) for v in node.values):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
        ):
            target = node.func.value
            if (
                isinstance(target, ast.Constant) and isinstance(target.value, str) and _is_sql(target.value)
            ) or (isinstance(target, ast.Name) and target.id in templates):
                lines.append(node.lineno)
    return lines


def test_the_scanner_sees_sql_built_by_formatting() -> None:
    assert built_sql('q = f"SELECT {col} FROM t"') == [1]
    assert built_sql('q = f"DELETE FROM {table} WHERE id = :id"') == [1]
    assert built_sql("_Q = \"SELECT x FROM t WHERE t.type = '{type}'\"\nq = _Q.format(type=x)") == [2]
    assert built_sql('q = "SELECT {c} FROM t".format(c=x)') == [1]
    assert built_sql('m = f"unknown status {s!r}: use one of {names}"') == []
    assert built_sql('q = compose("SELECT {c} FROM t", c=ident(x))') == []


def test_no_sql_is_built_with_f_strings_outside_the_helper() -> None:
    found: Counter[str] = Counter()
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name == "db/sql.py" or name.startswith("db/migrations/"):
            continue
        for _ in built_sql(path.read_text(encoding="utf-8")):
            found[name] += 1
    assert not found, (
        f"SQL built with f-strings or .format (use geo_service/db/sql.py compose/ident): {found}"
    )


def test_only_sql_names_codes_and_numbers_go_into_sql_text() -> None:
    assert compose("SELECT {c} FROM {t} LIMIT {n}", c=ident("code"), t=ident("divisions"), n=5) == (
        'SELECT "code" FROM "divisions" LIMIT 5'
    )
    assert compose("t.type = {c}", c=code_literal("elderly_canteen")) == "t.type = 'elderly_canteen'"
    assert configured_ident('odd"name') == '"odd""name"'
    assert alias("marker_count") == '"marker_count"'
    assert join(" AND ", [Sql("a"), Sql("b")]) == "a AND b"
    with pytest.raises(TypeError):
        compose("SELECT {c}", c="name; DROP TABLE divisions")  # a plain str: could be anyone's text
    with pytest.raises(TypeError):
        compose("LIMIT {n}", n=True)
    with pytest.raises(ValueError):
        ident("divisions; DROP TABLE divisions")
    with pytest.raises(ValueError):
        code_literal("x' OR '1'='1")
    with pytest.raises(ValueError):
        alias('name" FROM divisions --')


def test_named_placeholders_mean_what_they_mean_in_text() -> None:
    # The converter used to split on quotes to skip literals: an apostrophe in a comment (or E'\'' escapes)
    # turned the rest of the statement into "a literal" and left its placeholders unconverted.
    sql, args = raw.positional("SELECT :a -- the first's value\n, :b, CAST(:a AS int), :b", {"a": 1, "b": 2})
    assert sql == "SELECT $1 -- the first's value\n, $2, CAST($1 AS int), $2" and args == [1, 2]
    sql, args = raw.positional("SELECT E'it\\'s', :x", {"x": 3})
    assert sql == "SELECT E'it\\'s', $1" and args == [3]
    with pytest.raises(KeyError):
        raw.positional("SELECT :missing", {})


def test_raw_and_text_statements_give_the_same_rows(sample_url: str) -> None:
    statement = (
        "SELECT code, name -- the division's code and name\n"
        "FROM divisions WHERE level = :level AND code LIKE :prefix ORDER BY code LIMIT :n"
    )
    params = {"level": "township", "prefix": "440106%", "n": 5}

    async def both() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        engine = create_engine(sample_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                via_text = [tuple(r) for r in (await conn.execute(text(statement), params)).all()]
                via_raw = [tuple(r) for r in await raw.fetch_named(conn, statement, params)]
                return via_text, via_raw
        finally:
            await engine.dispose()

    via_text, via_raw = run(both())
    assert via_raw == via_text and len(via_text) == 5
