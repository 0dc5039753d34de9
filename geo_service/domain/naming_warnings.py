"""Warnings about a proposed name (it sounds like another, repeats a specific part, renames a protected place).

A warning is stored with its proposal (and in a submission's answer) and read later by someone who may read
another language, so it is kept as its rule and the values that word it, ``{"rule", "message", "values"}`` (the
message in English, for whoever reads the column itself), and worded again in the reader's language when shown.
Warnings stored before (rule and message only) are shown as they were written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from geo_service import i18n
from geo_service.i18n import t

_WORDING: dict[str, Callable[[dict[str, Any]], str]] = {
    "near_homophone": lambda v: t(
        "sounds close to {name!r} (id {id}) for Cantonese speakers", name=v["name"], id=v["id"]
    ),
    "specific_repeats": lambda v: t(
        "the specific part {specific!r} is used by {name!r} (id {id})",
        specific=v["specific"],
        name=v["name"],
        id=v["id"],
    ),
    "protected": lambda v: t("renames {name!r}, a protected name", name=v["name"]),
}


def warning(rule: str, **values: Any) -> dict[str, Any]:
    """A warning as it is stored: its rule, its values and its English message."""
    with i18n.use("en"):
        message = _WORDING[rule](values)
    return {"rule": rule, "message": message, "values": values}


def shown(warnings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Warnings as a reader sees them, ``{"rule", "message"}`` in the current language (a stored message
    without values as it was written)."""
    out = []
    for w in warnings:
        wording = _WORDING.get(w.get("rule", "")) if isinstance(w.get("values"), dict) else None
        out.append({"rule": w.get("rule"), "message": wording(w["values"]) if wording else w.get("message")})
    return out


def shown_in_properties(properties_json: str) -> str:
    """A feature's properties (JSON text) with their ``warnings`` in the current language (text without stored
    values comes back untouched, unparsed)."""
    if '"values"' not in properties_json:
        return properties_json
    props = orjson.loads(properties_json)
    if isinstance(props.get("warnings"), list):
        props["warnings"] = shown(props["warnings"])
    return orjson.dumps(props).decode()


def shown_in_feature(feature: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON feature (its properties possibly database JSON) with its warnings in the current language."""
    parsed: dict[str, Any] = orjson.loads(orjson.dumps(feature))
    warnings = parsed.get("properties", {}).get("warnings")
    if isinstance(warnings, list):
        parsed["properties"]["warnings"] = shown(warnings)
    return parsed
