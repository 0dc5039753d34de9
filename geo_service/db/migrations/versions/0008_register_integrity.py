"""Register integrity: a proposal left open when another rename of its place was approved is ``superseded``;
a change to the protected list changes the place-names data version (place names show ``protected``).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
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
    # Place names show whether they are protected: a change to the list changes what place-name answers say.
    op.execute(
        "CREATE TRIGGER protected_names_bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON protected_names FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_trigger('place_names')"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER protected_names_bump_version ON protected_names")
    # Superseded proposals were never approved: the closest earlier state is a rejection.
    op.execute("UPDATE place_names SET status = 'rejected' WHERE status = 'superseded'")
    _status_check(_BEFORE)
