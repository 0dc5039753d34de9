"""Naming workflow: near-homophone keys, forbidden terms, place-name readings, protected names.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

from geo_service.domain.naming_rules import DEFAULT_FORBIDDEN
from geo_service.domain.romanize import PLACE_READINGS

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "place_names",
        sa.Column("near_key", sa.Text(), nullable=True, comment="pinyin with zh/z, ch/c, sh/s, ng/n, l/n merged"),
    )
    op.create_index("ix_place_names_near_key", "place_names", ["near_key"])
    op.create_index("ix_place_names_rename_of", "place_names", ["rename_of"])
    op.create_index("ix_place_names_specific", "place_names", ["specific"])
    op.add_column(
        "sign_inspections",
        sa.Column("position", geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False)),
    )
    forbidden = op.create_table(
        "forbidden_terms",
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'foreign_place', 'company')", name=op.f("ck_forbidden_terms_kind")),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_forbidden_terms")),
    )
    readings = op.create_table(
        "place_name_readings",
        sa.Column("phrase", sa.Text(), nullable=False),
        sa.Column("reading", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "array_length(regexp_split_to_array(reading, ' '), 1) = char_length(phrase)",
            name=op.f("ck_place_name_readings_one_syllable_per_character"),
        ),
        sa.PrimaryKeyConstraint("phrase", name=op.f("pk_place_name_readings")),
    )
    op.bulk_insert(forbidden, [{"term": t, "kind": k} for k, terms in DEFAULT_FORBIDDEN.items() for t in terms])
    op.bulk_insert(readings, [{"phrase": p, "reading": r} for p, r in PLACE_READINGS.items()])


def downgrade() -> None:
    op.drop_table("place_name_readings")
    op.drop_table("forbidden_terms")
    op.drop_column("sign_inspections", "position")
    op.drop_index("ix_place_names_specific", table_name="place_names")
    op.drop_index("ix_place_names_rename_of", table_name="place_names")
    op.drop_index("ix_place_names_near_key", table_name="place_names")
    op.drop_column("place_names", "near_key")
