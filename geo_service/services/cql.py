"""CQL2 filters (OGC API – Features Part 3) as SQL conditions: parsed by pygeofilter, translated here.

Values are always bound parameters (``:q0``, ``:q1`` …); identifiers only ever come from the collection's own
property list (its SQL expressions, services/collections.py) or its geometry. A filter that names anything
else, or compares a property with a value of another kind, is refused in words (400) before any SQL runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import orjson
import shapely
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text

from geo_service.db.sql import Sql, compose, join
from geo_service.domain.errors import InvalidInput
from geo_service.i18n import t
from geo_service.services.collections import Collection
from geo_service.services.queryables import GEOMETRY_NAMES, Kind

FILTER_LANGS = ("cql2-text", "cql2-json")
#: Longest filter accepted (characters): a page of conditions, not a data upload.
MAX_FILTER_CHARS = 20_000

_COMPARISONS = {
    ast.Equal: Sql("="),
    ast.NotEqual: Sql("<>"),
    ast.LessThan: Sql("<"),
    ast.LessEqual: Sql("<="),
    ast.GreaterThan: Sql(">"),
    ast.GreaterEqual: Sql(">="),
}
_SPATIAL = {
    ast.GeometryIntersects: Sql("ST_Intersects"),
    ast.GeometryDisjoint: Sql("ST_Disjoint"),
    ast.GeometryContains: Sql("ST_Contains"),
    ast.GeometryWithin: Sql("ST_Within"),
    ast.GeometryTouches: Sql("ST_Touches"),
    ast.GeometryCrosses: Sql("ST_Crosses"),
    ast.GeometryOverlaps: Sql("ST_Overlaps"),
    ast.GeometryEquals: Sql("ST_Equals"),
}
_ARITHMETIC = {ast.Add: Sql("+"), ast.Sub: Sql("-"), ast.Mul: Sql("*"), ast.Div: Sql("/")}
#: Temporal predicates on a date property and one instant.
_INSTANT = {ast.TimeAfter: Sql(">"), ast.TimeBefore: Sql("<"), ast.TimeEquals: Sql("=")}
_CASTS: dict[Kind, Sql] = {
    "string": Sql("text"),
    "integer": Sql("bigint"),
    "number": Sql("double precision"),
    "boolean": Sql("boolean"),
    "date": Sql("date"),
    "datetime": Sql("timestamptz"),
}
_TRUE, _FALSE = Sql("true"), Sql("false")
_GEOM = Sql("t.geom")


def _not(negated: bool) -> Sql:
    """``NOT `` before a negated operator (NOT LIKE, NOT IN, IS NOT NULL), nothing otherwise."""
    return Sql("NOT ") if negated else Sql("")


def parse(text: str, lang: str | None) -> ast.Node:
    """The filter's syntax tree; InvalidInput naming the problem when it is not CQL2 of that language."""
    lang = lang or "cql2-text"
    if lang not in FILTER_LANGS:
        raise InvalidInput(
            t("filter-lang must be one of {langs}, not {lang!r}", langs=", ".join(FILTER_LANGS), lang=lang)
        )
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidInput(t("the filter is longer than {limit} characters", limit=MAX_FILTER_CHARS))
    try:
        if lang == "cql2-json":
            return parse_json(orjson.loads(text))
        return parse_text(text)
    except orjson.JSONDecodeError:
        raise InvalidInput(
            t("filter is not JSON: filter-lang=cql2-json takes a CQL2 JSON document")
        ) from None
    except LarkError as exc:
        column = getattr(exc, "column", None)
        if column:
            raise InvalidInput(t("filter is not valid CQL2 text at column {column}", column=column)) from None
        raise InvalidInput(t("filter is not valid CQL2 text")) from None
    except RecursionError:
        raise InvalidInput(t("the filter is nested too deeply")) from None
    except Exception:  # pygeofilter's JSON parser raises whatever a malformed document makes it meet
        raise InvalidInput(t("filter is not valid {lang}", lang=lang)) from None


class Translator:
    """Turns a filter's syntax tree into one SQL condition on the collection's table (alias ``t``)."""

    def __init__(self, coll: Collection, kinds: dict[str, Kind], params: dict[str, Any]) -> None:
        self.coll = coll
        self.kinds = kinds
        self.params = params

    def condition(self, node: ast.Node) -> Sql:
        """The SQL of a filter; its values are added to ``params``."""
        try:
            return self._condition(node)
        except RecursionError:
            raise InvalidInput(t("the filter is nested too deeply")) from None

    def bind(self, value: Any, kind: Kind) -> Sql:
        """A bound value cast to the SQL type of ``kind``."""
        return compose("CAST({p} AS {cast})", p=self._placeholder(value), cast=_CASTS[kind])

    def _placeholder(self, value: Any) -> Sql:
        """``:qN``, a new parameter holding ``value``."""
        n = len(self.params)
        while f"q{n}" in self.params:
            n += 1
        self.params[f"q{n}"] = value
        return compose(":q{n}", n=n)

    def _condition(self, node: Any) -> Sql:
        if isinstance(node, ast.Not):
            return compose("NOT ({sub})", sub=self._condition(node.sub_node))
        if isinstance(node, ast.And | ast.Or):
            return compose(
                "(({lhs}) {op} ({rhs}))",
                lhs=self._condition(node.lhs),
                op=Sql("AND" if isinstance(node, ast.And) else "OR"),
                rhs=self._condition(node.rhs),
            )
        if isinstance(node, ast.Include):
            return _FALSE if node.not_ else _TRUE
        if isinstance(node, bool):  # a bare boolean literal is a condition too
            return _TRUE if node else _FALSE
        if isinstance(node, ast.Attribute) and self._kind_of(node) == "boolean":
            return self._expr(node)[0]
        handler = self._handlers().get(type(node))
        if handler is None:
            raise InvalidInput(
                t("the filter uses {what}, which this service does not support", what=_operator(node))
            )
        return handler(node)

    def _handlers(self) -> dict[type, Callable[[Any], Sql]]:
        return {
            **dict.fromkeys(_COMPARISONS, self._comparison),
            **dict.fromkeys(_SPATIAL, self._spatial),
            **dict.fromkeys(_INSTANT, self._temporal),
            ast.TimeDuring: self._temporal,
            ast.Like: self._like,
            ast.In: self._in,
            ast.Between: self._between,
            ast.IsNull: self._is_null,
        }

    def _kind_of(self, node: Any) -> Kind | None:
        if isinstance(node, ast.Attribute):
            if node.name in GEOMETRY_NAMES:
                return None
            if node.name not in self.kinds:
                raise InvalidInput(
                    t(
                        "the filter names {name!r}, which is not a queryable of {collection}: "
                        "one of {known} or geometry",
                        name=node.name,
                        collection=self.coll.id,
                        known=", ".join(self.kinds),
                    )
                )
            return self.kinds[node.name]
        if isinstance(node, ast.Function) and node.name == "lower":
            return "string"
        if isinstance(node, ast.Arithmetic):
            return "number"
        return None

    def _expr(self, node: Any, kind: Kind | None = None) -> tuple[Sql, Kind]:
        """The SQL of an operand and its kind (a literal takes the kind of what it is compared with)."""
        if isinstance(node, ast.Attribute):
            found = self._kind_of(node)
            if found is None:
                raise InvalidInput(
                    t(
                        "{name} is the geometry: compare it with a spatial operator (S_INTERSECTS …)",
                        name=node.name,
                    )
                )
            return self.coll.properties[node.name], found
        if isinstance(node, ast.Function):
            if node.name == "lower" and len(node.arguments) == 1:  # CASEI
                inner, inner_kind = self._expr(node.arguments[0], "string")
                if inner_kind != "string":
                    raise InvalidInput(t("CASEI applies to text"))
                return compose("lower({inner})", inner=inner), "string"
            raise InvalidInput(
                t("the filter calls {name}(), which this service does not provide", name=node.name)
            )
        if isinstance(node, ast.Arithmetic):
            lhs, lk = self._expr(node.lhs, "number")
            rhs, rk = self._expr(node.rhs, "number")
            if {lk, rk} - {"integer", "number"}:
                raise InvalidInput(t("arithmetic applies to numbers only"))
            return compose("({lhs} {op} {rhs})", lhs=lhs, op=_ARITHMETIC[type(node)], rhs=rhs), "number"
        return self.literal(node, kind or _literal_kind(node)), kind or _literal_kind(node)

    def literal(self, value: Any, kind: Kind) -> Sql:
        """A bound value converted to the kind it is compared with; InvalidInput when it cannot be."""
        if isinstance(value, ast.Node | values.Geometry | values.Envelope | values.Interval | list):
            raise InvalidInput(
                t("the filter compares {kind} values with {what}", kind=_kind_word(kind), what=_what(value))
            )
        try:
            converted = _convert(value, kind)
        except (TypeError, ValueError):
            raise InvalidInput(
                t(
                    "the filter compares a {kind} property with {value}",
                    kind=_kind_word(kind),
                    value=_literal_text(value),
                )
            ) from None
        if kind == "integer" and isinstance(converted, float):
            kind = "number"  # 2.5 compared with an integer property
        return self.bind(converted, kind)

    def _comparison(self, node: ast.Comparison) -> Sql:
        kind = self._kind_of(node.lhs) or self._kind_of(node.rhs)
        lhs, lk = self._expr(node.lhs, kind)
        rhs, rk = self._expr(node.rhs, lk)
        _compatible(lk, rk)
        return compose("{lhs} {op} {rhs}", lhs=lhs, op=_COMPARISONS[type(node)], rhs=rhs)

    def _like(self, node: ast.Like) -> Sql:
        lhs, kind = self._expr(node.lhs, "string")
        if kind != "string":
            lhs = compose("CAST({lhs} AS text)", lhs=lhs)
        pattern, pattern_kind = self._expr(node.pattern, "string")
        if pattern_kind != "string":
            raise InvalidInput(t("LIKE takes a text pattern"))
        op = Sql("ILIKE" if node.nocase else "LIKE")
        return compose("{lhs} {not_}{op} {pattern}", lhs=lhs, not_=_not(node.not_), op=op, pattern=pattern)

    def _in(self, node: ast.In) -> Sql:
        lhs, kind = self._expr(node.lhs)
        if not node.sub_nodes:
            return _TRUE if node.not_ else _FALSE
        items = join(", ", (self._expr(v, kind)[0] for v in node.sub_nodes))
        return compose("{lhs} {not_}IN ({items})", lhs=lhs, not_=_not(node.not_), items=items)

    def _between(self, node: ast.Between) -> Sql:
        lhs, kind = self._expr(node.lhs)
        low, high = self._expr(node.low, kind)[0], self._expr(node.high, kind)[0]
        return compose(
            "{lhs} {not_}BETWEEN {low} AND {high}", lhs=lhs, not_=_not(node.not_), low=low, high=high
        )

    def _is_null(self, node: ast.IsNull) -> Sql:
        if isinstance(node.lhs, ast.Attribute) and node.lhs.name in GEOMETRY_NAMES:
            lhs = _GEOM
        else:
            lhs = self._expr(node.lhs)[0]
        return compose("{lhs} IS {not_}NULL", lhs=lhs, not_=_not(node.not_))

    def _spatial(self, node: ast.SpatialComparisonPredicate) -> Sql:
        lhs, rhs = self._geometry(node.lhs), self._geometry(node.rhs)
        return compose("{function}({lhs}, {rhs})", function=_SPATIAL[type(node)], lhs=lhs, rhs=rhs)

    def _geometry(self, node: Any) -> Sql:
        if isinstance(node, ast.Attribute):
            if node.name not in GEOMETRY_NAMES:
                self._kind_of(node)  # an unknown name is told as such
                raise InvalidInput(
                    t("{name} is not a geometry: spatial operators take geometry", name=node.name)
                )
            return _GEOM
        if isinstance(node, values.Envelope):
            return self._envelope([node.x1, node.y1, node.x2, node.y2])
        if isinstance(node, ast.Function) and node.name.lower() == "bbox":
            return self._envelope(node.arguments)
        if isinstance(node, values.Geometry):
            try:
                shape = shapely.from_geojson(orjson.dumps(node.geometry))
            except (shapely.errors.GEOSException, ValueError, TypeError):
                raise InvalidInput(
                    t("the filter holds a geometry that is not valid GeoJSON or WKT")
                ) from None
            if shape.is_empty or not shapely.is_valid(shape) or not _finite(shape):
                raise InvalidInput(
                    t("the filter's {geom_type} is empty or invalid", geom_type=shape.geom_type)
                )
            return compose("ST_GeomFromWKB({wkb}, 4326)", wkb=self._placeholder(shapely.to_wkb(shape)))
        raise InvalidInput(t("spatial operators compare geometries, not {what}", what=_what(node)))

    def _envelope(self, numbers: list[Any]) -> Sql:
        nums = [n for n in numbers if isinstance(n, int | float) and not isinstance(n, bool)]
        if len(nums) not in (4, 6) or len(nums) != len(numbers):
            raise InvalidInput(t("BBOX takes 4 numbers: minLon, minLat, maxLon, maxLat"))
        x1, y1, x2, y2 = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else nums
        corners = join(", ", (self.bind(float(v), "number") for v in (x1, y1, x2, y2)))
        return compose("ST_MakeEnvelope({corners}, 4326)", corners=corners)

    def projected_box(self, corners: tuple[float, float, float, float], srid: int) -> Sql:
        """Features meeting a box given in a projected CRS (x0, y0, x1, y1): its edges are straight in the
        projection, so the box itself is compared (densified, then in WGS84), not its lon/lat hull."""
        return compose(
            "ST_Intersects(t.geom, ST_Transform(ST_Segmentize(ST_MakeEnvelope({corners}, {srid}), 100), 4326))",
            corners=join(", ", (self.bind(v, "number") for v in corners)),
            srid=srid,
        )

    def _temporal(self, node: ast.TemporalPredicate) -> Sql:
        lhs, kind = self._expr(node.lhs)
        if kind not in ("date", "datetime"):
            raise InvalidInput(t("temporal operators (T_AFTER …) apply to date properties"))
        if isinstance(node, ast.TimeDuring):
            interval = node.rhs
            if not isinstance(interval, values.Interval):
                raise InvalidInput(t("T_DURING takes an INTERVAL(start, end)"))
            parts = []
            if interval.start not in (None, ".."):
                parts.append(compose("{lhs} >= {start}", lhs=lhs, start=self.literal(interval.start, kind)))
            if interval.end not in (None, ".."):
                parts.append(compose("{lhs} <= {end}", lhs=lhs, end=self.literal(interval.end, kind)))
            return join(" AND ", parts) or _TRUE
        return compose("{lhs} {op} {rhs}", lhs=lhs, op=_INSTANT[type(node)], rhs=self.literal(node.rhs, kind))


def _operator(node: Any) -> str:
    """A CQL2 operator as the filter writes it (TOVERLAPS, AEQUALS …), for one this service does not take."""
    op = getattr(node, "op", None)
    return str(op.value) if op is not None else type(node).__name__.upper()


def _kind_word(kind: str) -> str:
    """A kind of value as the reader says it: the queryables' type in English (integer), a word in Chinese."""
    words = {
        "string": t("string"),
        "integer": t("integer"),
        "number": t("number"),
        "boolean": t("boolean"),
        "date": t("date"),
        "datetime": t("datetime"),
    }
    return words.get(kind, kind)


def _what(value: Any) -> str:
    """What a filter puts where a value of a property's kind belongs, in words (never a Python class name)."""
    if isinstance(value, values.Geometry):
        return t("a geometry")
    if isinstance(value, values.Envelope):
        return t("a bounding box")
    if isinstance(value, values.Interval):
        return t("an interval")
    if isinstance(value, list):
        return t("a list")
    return t("an expression")


def _literal_text(value: Any) -> str:
    """A literal as the filter wrote it: TRUE, 'abc', 2020-01-01, 5."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _finite(shape: shapely.Geometry) -> bool:
    coords = shapely.get_coordinates(shape)
    return bool(abs(coords).max() < 1e9) if len(coords) else True


def _literal_kind(value: Any) -> Kind:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    return "string"


def _compatible(a: Kind, b: Kind) -> None:
    numbers = {"integer", "number"}
    if a != b and not ({a, b} <= numbers) and {a, b} != {"date", "datetime"}:
        raise InvalidInput(
            t("the filter compares {a} values with {b} values", a=_kind_word(a), b=_kind_word(b))
        )


def _convert(value: Any, kind: Kind) -> Any:
    """A literal as the Python value bound for a property of ``kind``."""
    if kind == "string":
        if isinstance(value, dt.date | int | float) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise TypeError
        return value
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            raise TypeError
        number = float(value) if isinstance(value, str) else value
        if not isinstance(number, int | float) or number != number or abs(number) > 1e15:
            raise ValueError
        return int(number) if kind == "integer" and float(number).is_integer() else float(number)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise TypeError
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), dt.UTC)
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def all_of(conditions: list[Sql]) -> Sql | None:
    """The conditions joined by AND (each in parentheses); None when there are none."""
    return join(" AND ", (compose("({c})", c=c) for c in conditions)) or None


def datetime_condition(translator: Translator, value: str) -> Sql:
    """The ``datetime`` parameter (an instant, or ``start/end`` with ``..`` for open ends) on the collection's
    first date property; InvalidInput when the collection has none or the value is not ISO 8601."""
    name = next((n for n, k in translator.kinds.items() if k in ("date", "datetime")), None)
    if name is None:
        raise InvalidInput(
            t(
                "collection {collection} has no dates: datetime does not apply to it",
                collection=translator.coll.id,
            )
        )
    expr, kind = translator.coll.properties[name], translator.kinds[name]
    start, sep, end = value.partition("/")
    parts = []
    for bound, op in ((start, Sql(">=" if sep else "=")), (end, Sql("<="))):
        bound = bound.strip()
        if not bound or bound == "..":
            continue
        try:
            parsed: Any = dt.datetime.fromisoformat(bound.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(
                t("datetime {value!r} is not an ISO 8601 date, time or interval", value=value)
            ) from None
        parts.append(compose("{expr} {op} {value}", expr=expr, op=op, value=translator.literal(parsed, kind)))
    return join(" AND ", parts) if parts else _TRUE
