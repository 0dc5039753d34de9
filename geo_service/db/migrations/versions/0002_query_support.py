"""Query support: stored geodesic division areas, parent index, coverage disc cache.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "divisions",
        sa.Column(
            "area_m2",
            sa.Double(),
            sa.Computed("ST_Area(geom::geography)", persisted=True),
            nullable=False,
            comment="geodesic area on WGS84",
        ),
    )
    op.create_index("ix_divisions_parent_code", "divisions", ["parent_code"])
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


def downgrade() -> None:
    op.drop_index("ix_coverage_pieces_key", table_name="coverage_pieces")
    op.drop_table("coverage_pieces")
    op.drop_index("ix_divisions_parent_code", table_name="divisions")
    op.drop_column("divisions", "area_m2")
