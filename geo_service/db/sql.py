"""Putting names and SQL pieces into a statement's text: the one audited place where that happens.

Values are always bound parameters (``:name`` with SQLAlchemy ``text()``, ``$n`` with ``db/raw.py``). What goes
into a statement's text is one of these, and :func:`compose` refuses anything else:

- :class:`Sql`: SQL written in this package (a property's expression, a filter, a statement), never built from a
  request;
- :func:`ident`: a table or column name on the allow-list (the tables and columns of ``db/models.py``), quoted;
- :func:`alias`: a column alias the package names (a property, such as a vector tile's attribute), quoted;
- :func:`code_literal`: a code (``[a-z][a-z0-9_]*``, such as a facility type) as a string literal, where a
  literal rather than a bound value gives each code its own plan (``services/nearest.py``).

So a client's text can reach a statement only as a bound value. ``tests/test_sql_style.py`` checks that no
f-string in the package builds SQL outside this module.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class Sql(str):
    """SQL text written in this package (a constant, or composed here from such pieces)."""

    __slots__ = ()


@functools.cache
def _names() -> frozenset[str]:
    # Imported here, not above: the models compose their CHECK constraints with this module.
    from geo_service.db.models import Base

    tables = Base.metadata.tables.values()
    return frozenset({t.name for t in tables} | {c.name for t in tables for c in t.columns})


def ident(name: str) -> Sql:
    """A table or column name of the schema, quoted (ValueError for any other name)."""
    if name not in _names():
        raise ValueError(f"{name!r} is not a table or column of the schema")
    return Sql(f'"{name}"')


def alias(name: str) -> Sql:
    """A column alias of the package's own (a Python identifier, such as a property name), quoted (ValueError
    for anything else)."""
    if not name.isidentifier():
        raise ValueError(f"{name!r} is not an alias")
    return Sql(f'"{name}"')


def configured_ident(name: str) -> Sql:
    """A name from the service's own configuration (its database, an extension), quoted as PostgreSQL quotes
    identifiers (a double quote doubled), so any name is one identifier."""
    return Sql('"' + name.replace('"', '""') + '"')


def is_code(value: str) -> bool:
    """Whether ``value`` is a code (``[a-z][a-z0-9_]*``, at most 64 characters)."""
    return _CODE.fullmatch(value) is not None


def code_literal(code: str) -> Sql:
    """A code (see :func:`is_code`) as an SQL string literal (ValueError for anything else)."""
    if not is_code(code):
        raise ValueError(f"{code!r} is not a code")
    return Sql(f"'{code}'")


def _piece(value: object) -> str:
    if isinstance(value, Sql):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)  # a number the code chose (a limit, an extent): nothing to escape
    raise TypeError(
        f"only Sql, ident(), code_literal() or numbers go into SQL text, not {type(value).__name__}"
    )


def compose(template: str, /, **parts: object) -> Sql:
    """``template`` (SQL written in the code) with its ``{name}`` places filled by ``parts``; each part must be
    :class:`Sql`, :func:`ident`, :func:`code_literal` or a number."""
    return Sql(template.format(**{name: _piece(value) for name, value in parts.items()}))


def join(separator: str, pieces: Iterable[object]) -> Sql:
    """Pieces (checked as by :func:`compose`) joined by ``separator``."""
    return Sql(separator.join(_piece(p) for p in pieces))


def json_object(fields: dict[str, Sql], extra: Sql = Sql("")) -> Sql:
    """``json_build_object('name', expression, …)`` of properties whose names are Python identifiers."""
    for name in fields:
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not a property name")
    pairs = join(", ", (Sql(f"'{name}', {_piece(expr)}") for name, expr in fields.items()))
    return compose("json_build_object({pairs}{extra})", pairs=pairs, extra=extra)
