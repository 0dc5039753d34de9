"""Field work: attachments and their links; signs retired (with reason and date) and placed in a district,
whether one is to replace now derived from the name it shows; joint marker inspections; facility closures.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TARGETS = (
    ("place_name_id", "place_names"),
    ("sign_id", "place_name_signs"),
    ("marker_inspection_id", "marker_inspections"),
    ("sign_inspection_id", "sign_inspections"),
)


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("bytes > 0", name=op.f("ck_attachments_bytes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("sha256", name=op.f("uq_attachments_sha256")),
    )
    op.create_table(
        "attachment_links",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("attachment_id", sa.BigInteger(), nullable=False),
        *(sa.Column(column, sa.BigInteger(), nullable=True) for column, _ in _TARGETS),
        sa.CheckConstraint(
            "num_nonnulls(place_name_id, sign_id, marker_inspection_id, sign_inspection_id) = 1",
            name=op.f("ck_attachment_links_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_attachment_links_attachment_id_attachments"),
            ondelete="RESTRICT",
        ),
        *(
            sa.ForeignKeyConstraint(
                [column], [f"{table}.id"], name=op.f(f"fk_attachment_links_{column}_{table}"), ondelete="CASCADE"
            )
            for column, table in _TARGETS
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_links")),
    )
    for column in ("attachment_id", *(c for c, _ in _TARGETS)):
        op.create_index(op.f(f"ix_attachment_links_{column}"), "attachment_links", [column])

    op.add_column("place_name_signs", sa.Column("district_code", sa.String(6), nullable=True))
    op.add_column("place_name_signs", sa.Column("retired_on", sa.Date(), nullable=True))
    op.add_column("place_name_signs", sa.Column("retired_reason", sa.String(16), nullable=True))
    op.create_check_constraint(
        op.f("ck_place_name_signs_retired_reason"), "place_name_signs", "retired_reason IN ('replaced', 'removed')"
    )
    op.create_check_constraint(
        op.f("ck_place_name_signs_retired_with_reason"),
        "place_name_signs",
        "(retired_on IS NULL) = (retired_reason IS NULL)",
    )
    op.create_index(op.f("ix_place_name_signs_district_code"), "place_name_signs", ["district_code"])
    op.execute(
        "UPDATE place_name_signs s SET district_code = (SELECT d.code FROM divisions d WHERE d.level = 'district' "
        "AND ST_Covers(d.geom, s.geom) ORDER BY d.code LIMIT 1)"
    )
    # A sign is to replace when it shows another name than its place's current one: derived, not stored.
    op.drop_column("place_name_signs", "to_replace")

    op.add_column("marker_inspections", sa.Column("inspectors", postgresql.JSONB(), nullable=True))
    op.add_column("facilities", sa.Column("closed_on", sa.Date(), nullable=True))
    op.add_column("facilities", sa.Column("closed_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("facilities", "closed_reason")
    op.drop_column("facilities", "closed_on")
    op.drop_column("marker_inspections", "inspectors")

    op.add_column(
        "place_name_signs", sa.Column("to_replace", sa.Boolean(), server_default="false", nullable=False)
    )
    op.execute(
        "UPDATE place_name_signs s SET to_replace = true FROM place_names p "
        "WHERE p.id = s.place_name_id AND p.name <> s.text AND s.retired_on IS NULL"
    )
    op.drop_index(op.f("ix_place_name_signs_district_code"), table_name="place_name_signs")
    op.drop_constraint(op.f("ck_place_name_signs_retired_with_reason"), "place_name_signs", type_="check")
    op.drop_constraint(op.f("ck_place_name_signs_retired_reason"), "place_name_signs", type_="check")
    op.drop_column("place_name_signs", "retired_reason")
    op.drop_column("place_name_signs", "retired_on")
    op.drop_column("place_name_signs", "district_code")

    op.drop_table("attachment_links")
    op.drop_table("attachments")
