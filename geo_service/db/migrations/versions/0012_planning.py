"""Planning: the bureau's other facility networks as types, and uploaded candidate sites for siting.

The six types (with their default radius and coverage mode; the reasons are in data/boundaries/README.md) are
rows like the first four: coverage, maps and OGC collections take them up without a code change.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen here: the types as this migration adds them.
TYPES = [
    ("community_station", "community-stations", "羊城暖湾", "Community care station (Yangcheng Nuanwan)",
     1000.0, "radius", "village"),
    ("assistance_platform", "assistance-platforms", "穗救易·共助空间", "Social assistance platform",
     3000.0, "radius", "township"),
    ("charity_supermarket", "charity-supermarkets", "慈善超市", "Charity supermarket",
     5000.0, "radius", "district"),
    ("dementia_care_center", "dementia-care-centers", "认知障碍照护支持中心", "Dementia care support centre",
     10000.0, "presence", "district"),
    ("policy_observation_point", "policy-observation-points", "民政政策观察点", "Civil-affairs policy observation point",
     5000.0, "presence", "district"),
    ("marriage_reform_village", "marriage-reform-villages", "婚俗改革示范村居", "Marriage custom reform model village",
     5000.0, "presence", "district"),
]


def upgrade() -> None:
    facility_types = sa.table(
        "facility_types",
        sa.column("code", sa.String), sa.column("collection", sa.String), sa.column("name_zh", sa.Text),
        sa.column("name_en", sa.Text), sa.column("default_radius_m", sa.Double),
        sa.column("default_mode", sa.String), sa.column("presence_level", sa.String),
    )
    keys = ("code", "collection", "name_zh", "name_en", "default_radius_m", "default_mode", "presence_level")
    op.bulk_insert(facility_types, [dict(zip(keys, t, strict=True)) for t in TYPES])
    op.create_table(
        "siting_candidates",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("point_count", sa.Integer(), nullable=False),
        sa.Column("points", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment="[[lon, lat, label], …] in WGS84"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_siting_candidates"),
    )


def downgrade() -> None:
    op.drop_table("siting_candidates")
    codes = ", ".join(f"'{t[0]}'" for t in TYPES)
    op.execute(f"DELETE FROM facilities WHERE type IN ({codes})")
    op.execute(f"DELETE FROM facility_types WHERE code IN ({codes})")
