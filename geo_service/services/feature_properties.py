"""The SQL of every published property, written once.

OGC collections (``collections.py``), place-name reads (``place_names.py``), the maps and the nearest-facility
answer all pick their properties from here, so one record reads the same wherever it is read. Expressions name
the record's table ``t``.
"""

from __future__ import annotations

from geo_service.db.sql import Sql, compose, ident
from geo_service.services import attachments


def pick(source: dict[str, Sql], *names: str) -> dict[str, Sql]:
    """The properties ``names`` of ``source``, in that order (KeyError for a name it lacks)."""
    return {name: source[name] for name in names}


def _columns(*names: str) -> dict[str, Sql]:
    return {name: compose("t.{column}", column=ident(name)) for name in names}


DIVISION = {
    **_columns("code", "name", "level", "kind", "parent_code", "population"),
    "area_km2": Sql("round(CAST(t.area_m2 / 1e6 AS numeric), 6)"),
    **_columns("geometry_source"),
}

_LINE_MARKERS = Sql("(SELECT {what} FROM boundary_markers m WHERE m.line_code = t.code{extra})")
BOUNDARY_LINE = {
    **_columns("code", "name", "left_code", "right_code"),
    "length_m": Sql("round(CAST(ST_Length(t.geom::geography) AS numeric), 1)"),
    "marker_count": compose(_LINE_MARKERS, what=Sql("count(*)"), extra=Sql("")),
    "markers_intact": compose(_LINE_MARKERS, what=Sql("count(*)"), extra=Sql(" AND m.status = 'intact'")),
    "last_inspected_on": compose(_LINE_MARKERS, what=Sql("max(m.last_inspected_on)"), extra=Sql("")),
    **_columns("geometry_source"),
}

BOUNDARY_MARKER = _columns(
    "number", "line_code", "kind", "status", "installed_on", "last_inspected_on", "version"
)

#: The place names the public sees: approved ones. An approved rename proposal is not one: it lives on in the
#: place it renamed.
APPROVED_PLACES = Sql("t.status = 'approved' AND t.rename_of IS NULL")
#: Protection belongs to the place: kept across renames (the flag), or its current name is on the list.
PROTECTED = Sql("(t.protected OR EXISTS (SELECT 1 FROM protected_names pn WHERE pn.name = t.name))")

#: What anyone may read of another's proposal: enough to see a conflict (id and geometry besides).
PLACE_NAME_MINIMAL = _columns("name", "status", "category")
#: What the public reads of an approved name.
PLACE_NAME_PUBLIC = {
    **_columns(
        "name",
        "pinyin",
        "category",
        "specific",
        "generic",
        "status",
        "division_code",
        "district_code",
        "origin",
    ),
    "protected": PROTECTED,
    **_columns("approved_on", "approval_ref", "version", "geometry_source"),
}
#: What staff read (reviewers and up; a surveyor on its own proposals): who, notes, reasons, comments.
PLACE_NAME_STAFF = {
    **PLACE_NAME_PUBLIC,
    **_columns(
        "note",
        "rename_of",
        "warnings",
        "justification",
        "proposed_by",
        "reviewed_by",
        "review_comment",
        "decided_at",
        "created_at",
    ),
    "attachment_ids": attachments.ids_sql("place_name", Sql("t.id")),
}

_SIGN_PLACE = Sql("(SELECT p.{column} FROM place_names p WHERE p.id = t.place_name_id)")
#: A sign is to replace while it stands (not retired) and shows another name than its place's current one.
SIGN_TO_REPLACE = compose(
    "(t.retired_on IS NULL AND t.text <> {name})", name=compose(_SIGN_PLACE, column=Sql("name"))
)
#: When the name a sign shows stopped being the place's name (its latest end in the place's history).
_SIGN_RENAMED_ON = compose(
    "(CASE WHEN {to_replace} THEN (SELECT max(h.valid_to) FROM place_name_history h "
    "WHERE h.place_name_id = t.place_name_id AND h.name = t.text) END)",
    to_replace=SIGN_TO_REPLACE,
)
SIGN = {
    **_columns("place_name_id", "text", "pinyin", "status"),
    "to_replace": SIGN_TO_REPLACE,
    "current_name": compose(_SIGN_PLACE, column=Sql("name")),
    "current_pinyin": compose(_SIGN_PLACE, column=Sql("pinyin")),
    "renamed_on": _SIGN_RENAMED_ON,
    "days_since_rename": compose("(current_date - {renamed_on})", renamed_on=_SIGN_RENAMED_ON),
    **_columns(
        "district_code", "installed_on", "last_inspected_on", "retired_on", "retired_reason", "version"
    ),
}

FACILITY = _columns(
    "type",
    "name",
    "address",
    "phone",
    "opening_hours",
    "capacity",
    "status",
    "district_code",
    "township_code",
    "village_code",
    "geometry_source",
    "version",
    "closed_on",
)
