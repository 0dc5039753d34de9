"""Data-set versions bumped by the database itself: statement-level triggers on every table a cache reads.

Caches (coverage answers, map pages, place-name searches, the division index) and so ETags key on the
counters in ``data_versions``. They were bumped by the service's own writes only, so a write from psql or an
ETL job left every worker serving stale answers. Now each INSERT, UPDATE, DELETE or TRUNCATE bumps its data
set in the writing transaction. Facilities also bump one set per type, only for the types the statement
touched (from its transition tables: the old and the new type of an update that changes it), so a canteen
edit leaves the stations' cached answers alone; a statement that changes no facility bumps nothing.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen here: the data sets as geo_service.db.versions names them when this migration was written.
#: Tables whose writes change one data set (facilities and their types have functions of their own).
DATA_SETS = {
    "divisions": "divisions",
    "boundary_lines": "boundaries",
    "boundary_markers": "boundaries",
    "marker_inspections": "boundaries",
    "place_names": "place_names",
    "place_name_history": "place_names",
    "place_name_signs": "signs",
    "sign_inspections": "signs",
}
TYPE_PREFIX = "facilities:"  # + the type's code: one type's facilities

FUNCTIONS = {
    "bump_data_versions(names text[])": """
RETURNS void LANGUAGE sql AS $$
    -- In name order, so that two transactions bumping the same sets lock their rows in the same order.
    INSERT INTO data_versions (name, version) SELECT n, 1 FROM unnest(names) AS n ORDER BY n
    ON CONFLICT (name) DO UPDATE SET version = data_versions.version + 1
$$""",
    "bump_facility_versions(types text[])": f"""
RETURNS void LANGUAGE sql AS $$
    SELECT bump_data_versions(
        ARRAY['facilities'] || ARRAY(SELECT '{TYPE_PREFIX}' || t FROM unnest(types) AS t)
    )
$$""",
    # The data set named by the trigger's argument.
    "bump_data_version_trigger()": """
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bump_data_versions(ARRAY[TG_ARGV[0]]);
    RETURN NULL;
END
$$""",
    # The types a statement on facilities touched. Transition tables are allowed on single-event triggers
    # only: one trigger per event, each with the tables its event has.
    "bump_facility_versions_trigger()": """
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT type) INTO touched FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT type) INTO touched FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT type) INTO touched
        FROM (SELECT type FROM old_rows UNION ALL SELECT type FROM new_rows) AS t;
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM bump_facility_versions(touched);
    END IF;
    RETURN NULL;
END
$$""",
    # Every type: a TRUNCATE of facilities (it has no transition tables), or any change to the types
    # themselves (their defaults shape each type's coverage answers; types change rarely).
    "bump_all_facility_versions_trigger()": """
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bump_facility_versions(ARRAY(SELECT code FROM facility_types));
    RETURN NULL;
END
$$""",
}
ANY_WRITE = "INSERT OR UPDATE OR DELETE OR TRUNCATE"
#: (trigger name, events, table, function call, transition tables).
TRIGGERS = [
    *(
        (f"{table}_bump_version", ANY_WRITE, table, f"bump_data_version_trigger('{data_set}')", "")
        for table, data_set in DATA_SETS.items()
    ),
    ("facilities_bump_version_insert", "INSERT", "facilities",
     "bump_facility_versions_trigger()", "NEW TABLE AS new_rows"),
    ("facilities_bump_version_update", "UPDATE", "facilities",
     "bump_facility_versions_trigger()", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("facilities_bump_version_delete", "DELETE", "facilities",
     "bump_facility_versions_trigger()", "OLD TABLE AS old_rows"),
    ("facilities_bump_version_truncate", "TRUNCATE", "facilities",
     "bump_all_facility_versions_trigger()", ""),
    ("facility_types_bump_version", ANY_WRITE, "facility_types",
     "bump_all_facility_versions_trigger()", ""),
]


def upgrade() -> None:
    for signature, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {signature} {body}")
    for name, events, table, call, transition in TRIGGERS:
        referencing = f"REFERENCING {transition} " if transition else ""
        op.execute(
            f"CREATE TRIGGER {name} AFTER {events} ON {table} {referencing}"
            f"FOR EACH STATEMENT EXECUTE FUNCTION {call}"
        )


def downgrade() -> None:
    for name, _, table, _, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
