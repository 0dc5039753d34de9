"""The database schema: SQLAlchemy 2 / GeoAlchemy2 models. Migrations in ``migrations/`` follow these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geo_service.db.point_grid import CELL_SQL
from geo_service.db.sql import Sql, code_literal, compose, join

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DIVISION_LEVELS = ("district", "township", "village")
FACILITY_STATUSES = ("active", "closed")
MARKER_KINDS = ("single", "paired", "triple")
MARKER_STATUSES = ("intact", "damaged", "missing", "moved")
PLACE_NAME_CATEGORIES = (
    "road",
    "street",
    "alley",
    "village",
    "community",
    "natural_village",
    "bridge",
    "other",
)
PLACE_NAME_STATUSES = ("proposed", "approved", "rejected", "returned", "withdrawn", "retired", "superseded")
ROLES = ("surveyor", "reviewer", "editor", "admin")
SIGN_RETIRE_REASONS = ("replaced", "removed")


def _in(column: str, values: tuple[str, ...]) -> Sql:
    return compose("{column} IN ({values})", column=Sql(column), values=join(", ", map(code_literal, values)))


def _valid(column: str, srid: int = 4326) -> Sql:
    return compose("ST_IsValid({column}) AND ST_SRID({column}) = {srid}", column=Sql(column), srid=srid)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _created() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Division(Base):
    """An administrative division: district (6-digit code), township (9), village (12)."""

    __tablename__ = "divisions"
    __table_args__ = (
        CheckConstraint(_in("level", DIVISION_LEVELS), name="level"),
        CheckConstraint(
            "(level = 'district' AND length(code) = 6) OR (level = 'township' AND length(code) = 9 "
            "AND left(code, 6) = parent_code) OR (level = 'village' AND length(code) = 12 "
            "AND left(code, 9) = parent_code)",
            name="code_matches_level_and_parent",
        ),
        CheckConstraint(_valid("geom"), name="geom_valid"),
        CheckConstraint("population IS NULL OR population >= 0", name="population"),
        Index("ix_divisions_level_parent", "level", "parent_code"),
        Index("ix_divisions_parent_code", "parent_code"),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(Text, comment="街道, 镇, 居委会, 村委会, ...")
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code", ondelete="RESTRICT"))
    population: Mapped[int | None] = mapped_column(BigInteger)
    geometry_source: Mapped[str] = mapped_column(Text, default="official")
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True))
    area_m2: Mapped[float] = mapped_column(
        Double, Computed("ST_Area(geom::geography)", persisted=True), comment="geodesic area on WGS84"
    )
    created_at: Mapped[dt.datetime] = _created()


class FacilityType(Base):
    """A kind of service facility; rows, not an enum, so an admin can add one."""

    __tablename__ = "facility_types"
    __table_args__ = (
        CheckConstraint("default_mode IN ('radius', 'presence')", name="mode"),
        CheckConstraint("default_radius_m > 0", name="radius"),
        CheckConstraint("code ~ '^[a-z][a-z0-9_]*$'", name="code_format"),
        CheckConstraint(_in("presence_level", DIVISION_LEVELS), name="presence_level"),
    )

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    collection: Mapped[str] = mapped_column(String(64), unique=True, comment="OGC collection id")
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    default_radius_m: Mapped[float] = mapped_column(Double)
    default_mode: Mapped[str] = mapped_column(String(16))
    presence_level: Mapped[str] = mapped_column(String(16), default="village")


class Facility(Base):
    """A service facility at a point, with the divisions it lies in."""

    __tablename__ = "facilities"
    __table_args__ = (
        CheckConstraint(_in("status", FACILITY_STATUSES), name="status"),
        CheckConstraint(_valid("geom"), name="geom_valid"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
        Index("ix_facilities_type_status", "type", "status"),
        Index(
            "ix_facilities_active_type_geom",
            "type",
            "geom",
            postgresql_using="gist",
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_facilities_village_code", "village_code"),
        Index("ix_facilities_township_code", "township_code"),
        Index("ix_facilities_grid", "grid_cell", "id", postgresql_include=["type", "lon", "lat"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(ForeignKey("facility_types.code", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    opening_hours: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    district_code: Mapped[str | None] = mapped_column(String(6))
    township_code: Mapped[str | None] = mapped_column(String(9))
    village_code: Mapped[str | None] = mapped_column(String(12))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    geometry_source: Mapped[str] = mapped_column(Text, default="surveyed")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    # Derived from geom by the database: exact bbox tests and grid pages (see db/point_grid.py).
    lon: Mapped[float] = mapped_column(Double, Computed("ST_X(geom)", persisted=True))
    lat: Mapped[float] = mapped_column(Double, Computed("ST_Y(geom)", persisted=True))
    grid_cell: Mapped[int] = mapped_column(BigInteger, Computed(CELL_SQL, persisted=True))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class BoundaryLine(Base):
    """The shared border of two adjacent divisions, e.g. 天河区—白云区."""

    __tablename__ = "boundary_lines"
    __table_args__ = (
        CheckConstraint("left_code < right_code", name="ordered_pair"),
        CheckConstraint(_valid("geom"), name="geom_valid"),
        UniqueConstraint("left_code", "right_code"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    left_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    right_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    geometry_source: Mapped[str] = mapped_column(Text, default="official")
    geom: Mapped[Any] = mapped_column(Geometry("MULTILINESTRING", srid=4326, spatial_index=True))


class BoundaryMarker(Base):
    """A boundary marker (界桩) on a line; its status is that of its latest inspection."""

    __tablename__ = "boundary_markers"
    __table_args__ = (
        CheckConstraint(_in("kind", MARKER_KINDS), name="kind"),
        CheckConstraint(_in("status", MARKER_STATUSES), name="status"),
        CheckConstraint(_valid("geom"), name="geom_valid"),
        UniqueConstraint("line_code", "number"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    line_code: Mapped[str] = mapped_column(ForeignKey("boundary_lines.code", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="single")
    status: Mapped[str] = mapped_column(String(16), default="intact")
    installed_on: Mapped[dt.date | None] = mapped_column(Date)
    last_inspected_on: Mapped[dt.date | None] = mapped_column(Date)
    geometry_source: Mapped[str] = mapped_column(Text, default="surveyed")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))


class MarkerInspection(Base):
    """One inspection of a boundary marker; never overwritten."""

    __tablename__ = "marker_inspections"
    __table_args__ = (CheckConstraint(_in("status", MARKER_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    marker_id: Mapped[int] = mapped_column(ForeignKey("boundary_markers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    inspector: Mapped[str | None] = mapped_column(Text)
    # A joint inspection (联检): [{"name", "side": district code}] from both sides of the line.
    inspectors: Mapped[list[Any] | None] = mapped_column(JSONB(none_as_null=True))
    position: Mapped[Any | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    created_at: Mapped[dt.datetime] = _created()


class PlaceName(Base):
    """A standard place name (specific + generic part) with its status in the naming workflow."""

    __tablename__ = "place_names"
    __table_args__ = (
        CheckConstraint(_in("category", PLACE_NAME_CATEGORIES), name="category"),
        CheckConstraint(_in("status", PLACE_NAME_STATUSES), name="status"),
        CheckConstraint(_valid("geom"), name="geom_valid"),
        Index("ix_place_names_pinyin_key", "pinyin_key"),
        Index("ix_place_names_near_key", "near_key"),
        Index("ix_place_names_rename_of", "rename_of"),
        Index("ix_place_names_specific", "specific"),
        Index("ix_place_names_name", "name"),
        Index("ix_place_names_division_code", "division_code"),
        Index("ix_place_names_status_category", "status", "category"),
        Index(
            "ix_place_names_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index(
            "ix_place_names_pinyin_trgm",
            "pinyin_key",
            postgresql_using="gin",
            postgresql_ops={"pinyin_key": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    specific: Mapped[str] = mapped_column(Text, comment="专名")
    generic: Mapped[str] = mapped_column(Text, comment="通名")
    category: Mapped[str] = mapped_column(String(32))
    pinyin: Mapped[str] = mapped_column(Text, comment="romanised per GB/T 16159, e.g. Tianhe Lu")
    pinyin_key: Mapped[str] = mapped_column(Text, comment="toneless lowercase syllables, for homophones")
    near_key: Mapped[str | None] = mapped_column(
        Text, comment="pinyin with zh/z, ch/c, sh/s, ng/n, l/n merged"
    )
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    division_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"))
    district_code: Mapped[str | None] = mapped_column(String(6))
    origin: Mapped[str | None] = mapped_column(Text, comment="命名由来")
    note: Mapped[str | None] = mapped_column(Text)
    protected: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    rename_of: Mapped[int | None] = mapped_column(ForeignKey("place_names.id"))
    justification: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"))
    proposed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    review_comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), comment="last decision")
    approval_ref: Mapped[str | None] = mapped_column(Text, comment="批准文号")
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    geometry_source: Mapped[str] = mapped_column(Text, default="surveyed")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class PlaceNameHistory(Base):
    """An earlier name (曾用名) of a place, with the dates it was valid."""

    __tablename__ = "place_name_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    place_name_id: Mapped[int] = mapped_column(ForeignKey("place_names.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    pinyin: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)


class ProtectedName(Base):
    """An entry of the city's protected place-names list (地名保护名录)."""

    __tablename__ = "protected_names"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    reason: Mapped[str | None] = mapped_column(Text)
    listed_on: Mapped[dt.date | None] = mapped_column(Date)


class ForbiddenTerm(Base):
    """A term no place name may contain: a person, a foreign place, a company or trademark."""

    __tablename__ = "forbidden_terms"
    __table_args__ = (CheckConstraint("kind IN ('person', 'foreign_place', 'company')", name="kind"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    term: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))


class PlaceNameReading(Base):
    """A place-name reading pypinyin gets wrong (花都 → hua du), extendable by an admin."""

    __tablename__ = "place_name_readings"
    __table_args__ = (
        CheckConstraint(
            "array_length(regexp_split_to_array(reading, ' '), 1) = char_length(phrase)",
            name="one_syllable_per_character",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    phrase: Mapped[str] = mapped_column(Text, primary_key=True)
    reading: Mapped[str] = mapped_column(Text)


class LocalCharacter(Base):
    """A character outside GB2312 the region's standard place names use (滘, 塱 in Guangdong), kept by an admin."""

    __tablename__ = "local_characters"
    __table_args__ = (CheckConstraint("char_length(character) = 1", name="one_character"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    character: Mapped[str] = mapped_column(Text, primary_key=True)
    note: Mapped[str | None] = mapped_column(Text)


class PlaceNameSign(Base):
    """A place-name sign (地名标志) showing an approved name at a position."""

    __tablename__ = "place_name_signs"
    __table_args__ = (
        CheckConstraint(_in("status", MARKER_STATUSES), name="status"),
        CheckConstraint(_valid("geom"), name="geom_valid"),
        CheckConstraint(_in("retired_reason", SIGN_RETIRE_REASONS), name="retired_reason"),
        CheckConstraint("(retired_on IS NULL) = (retired_reason IS NULL)", name="retired_with_reason"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    place_name_id: Mapped[int] = mapped_column(ForeignKey("place_names.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    pinyin: Mapped[str] = mapped_column(Text)
    installed_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="intact")
    # Where the sign stands (work orders go by district); a sign off every district has none.
    district_code: Mapped[str | None] = mapped_column(String(6), index=True)
    retired_on: Mapped[dt.date | None] = mapped_column(Date)
    retired_reason: Mapped[str | None] = mapped_column(String(16))
    last_inspected_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    created_at: Mapped[dt.datetime] = _created()


class SignInspection(Base):
    """One inspection of a place-name sign; never overwritten."""

    __tablename__ = "sign_inspections"
    __table_args__ = (CheckConstraint(_in("status", MARKER_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    sign_id: Mapped[int] = mapped_column(ForeignKey("place_name_signs.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    inspector: Mapped[str | None] = mapped_column(Text)
    position: Mapped[Any | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    created_at: Mapped[dt.datetime] = _created()


class Attachment(Base):
    """A photo or document, stored once by content (its SHA-256) in the attachment store; staff read it."""

    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint("bytes > 0", name="bytes"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    uploaded_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created()


class AttachmentLink(Base):
    """An attachment referenced by exactly one proposal (place name), sign, or inspection."""

    __tablename__ = "attachment_links"
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(place_name_id, sign_id, marker_inspection_id, sign_inspection_id) = 1",
            name="one_target",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="RESTRICT"), index=True)
    place_name_id: Mapped[int | None] = mapped_column(
        ForeignKey("place_names.id", ondelete="CASCADE"), index=True
    )
    sign_id: Mapped[int | None] = mapped_column(
        ForeignKey("place_name_signs.id", ondelete="CASCADE"), index=True
    )
    marker_inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("marker_inspections.id", ondelete="CASCADE"), index=True
    )
    sign_inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("sign_inspections.id", ondelete="CASCADE"), index=True
    )


class Submission(Base):
    """A bulk upload of place-name features by a surveyor."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submitted_by: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32))
    crs: Mapped[str] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted: Mapped[bool] = mapped_column(Boolean)
    feature_count: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[dt.datetime] = _created()


class SitingCandidates(Base):
    """Candidate sites uploaded for siting (points in WGS84 with a label each); kept for a while, then dropped."""

    __tablename__ = "siting_candidates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_by: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(Text)
    point_count: Mapped[int] = mapped_column(Integer)
    points: Mapped[list[Any]] = mapped_column(JSONB, comment="[[lon, lat, label], …] in WGS84")
    created_at: Mapped[dt.datetime] = _created()


class ApiKey(Base):
    """An API key: only its SHA-256 hash is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    district_code: Mapped[str | None] = mapped_column(String(6))  # a key limited to one district
    created_at: Mapped[dt.datetime] = _created()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person who signs in with a name and password (Argon2 hash); keys are for programs."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str | None] = mapped_column(String(6))
    password_hash: Mapped[str] = mapped_column(Text)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, server_default="0")
    last_failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _created()
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """A signed-in session: the SHA-256 of its cookie's token, its CSRF token, when it lapses."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = _created()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditLog(Base):
    """Who changed what, when, with the row before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_entity_at", "entity", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = _created()
    actor: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))


class DataVersion(Base):
    """A counter per data set, bumped by every write: the basis of caches and ETags."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
