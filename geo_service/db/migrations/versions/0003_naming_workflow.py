"""Naming workflow: near-homophone keys, forbidden terms, place-name readings, protected names.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of geo_service.domain.naming_rules.DEFAULT_FORBIDDEN and geo_service.domain.romanize.PLACE_READINGS
# as they were when this migration was written: a migration seeds the same rows whatever the code says later
# (later changes to the lists belong in a later migration).
FORBIDDEN_TERMS: dict[str, tuple[str, ...]] = {
    "person": (
        "毛泽东",
        "周恩来",
        "刘少奇",
        "朱德",
        "邓小平",
        "江泽民",
        "胡锦涛",
        "习近平",
        "李鹏",
        "温家宝",
        "李克强",
        "孙悟空",
        "猪八戒",
        "雷锋",
    ),
    "foreign_place": (
        "纽约",
        "伦敦",
        "巴黎",
        "威尼斯",
        "曼哈顿",
        "维也纳",
        "罗马",
        "东京",
        "莫斯科",
        "加州",
        "夏威夷",
        "普罗旺斯",
        "莱茵",
        "多伦多",
        "悉尼",
    ),
    "company": (
        "万达",
        "碧桂园",
        "恒大",
        "万科",
        "保利",
        "星巴克",
        "麦当劳",
        "肯德基",
        "阿里巴巴",
        "腾讯",
        "华为",
    ),
}
READINGS: dict[str, str] = {
    "花都": "hua du",
    "长堤": "chang di",
    "十三行": "shi san hang",
    "海幢": "hai zhuang",
    "番禺": "pan yu",
    "长洲": "chang zhou",
    "长湴": "chang ban",
    "员村": "yuan cun",
    "车陂": "che bei",
    "大塘": "da tang",
    "沙湾": "sha wan",
    "增城": "zeng cheng",
    "从化": "cong hua",
    "乐从": "le cong",
    "石井": "shi jing",
    "厦滘": "xia jiao",
    "滘": "jiao",
    "涌": "chong",
    "塱": "lang",
    "氹": "dang",
    "圳": "zhen",
}


def upgrade() -> None:
    op.add_column(
        "place_names",
        sa.Column(
            "near_key", sa.Text(), nullable=True, comment="pinyin with zh/z, ch/c, sh/s, ng/n, l/n merged"
        ),
    )
    op.create_index("ix_place_names_near_key", "place_names", ["near_key"])
    op.create_index("ix_place_names_rename_of", "place_names", ["rename_of"])
    op.create_index("ix_place_names_specific", "place_names", ["specific"])
    op.add_column(
        "sign_inspections",
        sa.Column(
            "position", geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False)
        ),
    )
    forbidden = op.create_table(
        "forbidden_terms",
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "kind IN ('person', 'foreign_place', 'company')", name=op.f("ck_forbidden_terms_kind")
        ),
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
    op.bulk_insert(forbidden, [{"term": t, "kind": k} for k, terms in FORBIDDEN_TERMS.items() for t in terms])
    op.bulk_insert(readings, [{"phrase": p, "reading": r} for p, r in READINGS.items()])


def downgrade() -> None:
    op.drop_table("place_name_readings")
    op.drop_table("forbidden_terms")
    op.drop_column("sign_inspections", "position")
    op.drop_index("ix_place_names_specific", table_name="place_names")
    op.drop_index("ix_place_names_rename_of", table_name="place_names")
    op.drop_index("ix_place_names_near_key", table_name="place_names")
    op.drop_column("place_names", "near_key")
