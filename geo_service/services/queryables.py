"""What a collection's features can be filtered and sorted on: each property's type, and its JSON Schema.

The types are read from the database: the statement that selects each property's SQL (written once, in
services/collections.py) is prepared, and PostgreSQL says what type each column has. So a property added to
a collection is queryable with the right type without being declared twice.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.db import raw
from geo_service.db.sql import compose, ident, join
from geo_service.services.collections import Collection

Kind = Literal["string", "integer", "number", "boolean", "date", "datetime"]

#: PostgreSQL type names by the kind of value a filter compares them with.
_KINDS: dict[str, Kind] = {
    "int2": "integer",
    "int4": "integer",
    "int8": "integer",
    "numeric": "number",
    "float4": "number",
    "float8": "number",
    "bool": "boolean",
    "date": "date",
    "timestamp": "datetime",
    "timestamptz": "datetime",
}
#: Names by which a filter refers to a feature's geometry.
GEOMETRY_NAMES = ("geometry", "geom")

_types: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Kind]] = {}


async def property_kinds(conn: AsyncConnection, coll: Collection) -> dict[str, Kind]:
    """The kind of each property of the collection (text unless the database says otherwise)."""
    key = (coll.table, tuple(coll.properties.items()))
    found = _types.get(key)
    if found is None:
        columns = join(
            ", ", (compose("{e} AS p{i}", e=e, i=i) for i, e in enumerate(coll.properties.values()))
        )
        driver = await raw.driver(conn)
        query = compose(
            "SELECT {columns} FROM {table} t WHERE false", columns=columns, table=ident(coll.table)
        )
        statement = await driver.prepare(str(query))
        names = [a.type.name for a in statement.get_attributes()]
        found = _types[key] = {
            name: _KINDS.get(pg, "string") for name, pg in zip(coll.properties, names, strict=True)
        }
    return found


def schema(coll: Collection, kinds: dict[str, Kind], url: str) -> dict[str, Any]:
    """The queryables document (JSON Schema 2020-12), as OGC API – Features Part 3 describes it."""
    properties: dict[str, Any] = {
        "geometry": {
            "title": "the feature's geometry",
            "format": "geometry-any",
            "x-ogc-role": "primary-geometry",
        }
    }
    for name, kind in kinds.items():
        if kind in ("date", "datetime"):
            properties[name] = {
                "title": name,
                "type": "string",
                "format": "date" if kind == "date" else "date-time",
            }
        else:
            properties[name] = {"title": name, "type": kind}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": coll.title,
        "properties": properties,
        "additionalProperties": False,
    }
