"""No more ``coverage_pieces``: the union of service discs is kept in each process only.

The table (UNLOGGED) took a new set of shapes for every radius asked for and never lost one (1,000 canteen
coverage requests with random radii left 278 MB), and it was written on the reads' connection, so coverage
failed on a read replica (a standby can neither write nor read an unlogged table). Each worker now computes
the unions it needs (for the sample's types 3-230 ms each, against 1-12 ms to read stored ones) and keeps the
last few in memory.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_coverage_pieces_key", table_name="coverage_pieces")
    op.drop_table("coverage_pieces")


def downgrade() -> None:
    op.create_table(
        "coverage_pieces",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="POLYGON", srid=4326, spatial_index=True),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_pieces")),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_coverage_pieces_key", "coverage_pieces", ["key"])
