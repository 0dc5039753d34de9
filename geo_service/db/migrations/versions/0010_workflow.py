"""The naming workflow, complete: proposals can be ``returned`` for changes and ``withdrawn``; a decision records
when it was made and, for an approval, its reference (批准文号); the admin lists (protected names, forbidden
terms, readings) get ids; the audit log is indexed for its filters (time, actor, table).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Frozen copies of geo_service.db.models.PLACE_NAME_STATUSES before and after this migration.
_BEFORE = ("proposed", "approved", "rejected", "retired", "superseded")
_AFTER = ("proposed", "approved", "rejected", "returned", "withdrawn", "retired", "superseded")
_LISTS = ("protected_names", "forbidden_terms", "place_name_readings")
_AUDIT_INDEXES = {"ix_audit_log_at": ["at"], "ix_audit_log_actor_at": ["actor", "at"],
                  "ix_audit_log_entity_at": ["entity", "at"]}


def _status_check(statuses: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_place_names_status"), "place_names", type_="check")
    op.create_check_constraint(
        op.f("ck_place_names_status"), "place_names", f"status IN ({', '.join(repr(s) for s in statuses)})"
    )


def upgrade() -> None:
    _status_check(_AFTER)
    op.add_column(
        "place_names",
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True, comment="last decision"),
    )
    op.add_column("place_names", sa.Column("approval_ref", sa.Text(), nullable=True, comment="批准文号"))
    # Decisions made before this migration: their time is unknown, the last update is the best guess.
    op.execute(
        "UPDATE place_names SET decided_at = updated_at WHERE status <> 'proposed' AND reviewed_by IS NOT NULL"
    )
    for table in _LISTS:
        op.add_column(table, sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False))
        op.create_unique_constraint(op.f(f"uq_{table}_id"), table, ["id"])
    for name, columns in _AUDIT_INDEXES.items():
        op.create_index(name, "audit_log", columns)


def downgrade() -> None:
    for name in _AUDIT_INDEXES:
        op.drop_index(name, table_name="audit_log")
    for table in _LISTS:
        op.drop_constraint(op.f(f"uq_{table}_id"), table, type_="unique")
        op.drop_column(table, "id")
    op.drop_column("place_names", "approval_ref")
    op.drop_column("place_names", "decided_at")
    # Returned proposals wait for their proposer: the closest earlier state is pending; withdrawn ones are gone
    # from the workflow, as rejected ones are.
    op.execute("UPDATE place_names SET status = 'proposed' WHERE status = 'returned'")
    op.execute("UPDATE place_names SET status = 'rejected' WHERE status = 'withdrawn'")
    _status_check(_BEFORE)
