"""The characters outside GB2312 that standard place names may use, as a list admins keep (it was Guangzhou's,
written in the code).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Frozen here: the Guangdong characters the code allowed before this migration.
CHARACTERS = "滘涌塱氹圳埗冚岗窖畲凼漖塘甽沥埔廍鳌蠄"


def upgrade() -> None:
    local = op.create_table(
        "local_characters",
        sa.Column("character", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.CheckConstraint("char_length(character) = 1", name=op.f("ck_local_characters_one_character")),
        sa.PrimaryKeyConstraint("character", name=op.f("pk_local_characters")),
        sa.UniqueConstraint("id", name=op.f("uq_local_characters_id")),
    )
    op.bulk_insert(local, [{"character": ch} for ch in CHARACTERS])


def downgrade() -> None:
    op.drop_table("local_characters")
