"""Register integrity: a proposal left open when another rename of its place was approved is ``superseded``.

Revision ID: 0007_register_integrity
Revises: 0005 (to be re-chained after 0006_version_triggers at merge)
"""

from __future__ import annotations

from alembic import op

revision = "0007_register_integrity"
down_revision = "0005"
branch_labels = None
depends_on = None

_BEFORE = ("proposed", "approved", "rejected", "retired")
_AFTER = (*_BEFORE, "superseded")


def _status_check(statuses: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_place_names_status"), "place_names", type_="check")
    op.create_check_constraint(
        op.f("ck_place_names_status"), "place_names", f"status IN ({', '.join(repr(s) for s in statuses)})"
    )


def upgrade() -> None:
    _status_check(_AFTER)


def downgrade() -> None:
    # Superseded proposals were never approved: the closest earlier state is a rejection.
    op.execute("UPDATE place_names SET status = 'rejected' WHERE status = 'superseded'")
    _status_check(_BEFORE)
