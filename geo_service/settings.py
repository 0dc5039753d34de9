"""Service settings: one pydantic-settings class, env prefix GEO_, `.env` support."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the service, the CLI and the tests can configure."""

    model_config = SettingsConfigDict(
        env_prefix="GEO_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GEO_DATABASE_URL", "DATABASE_URL"),
        description="PostgreSQL URL; unset means the embedded PostGIS cluster in data_dir.",
    )
    data_dir: Path = Field(default=PROJECT_ROOT / ".geo_service", description="Embedded cluster home.")
    embedded_port: int = Field(default=54329, description="Loopback port of the embedded cluster.")
    embedded_database: str = "geo_service"
    sample_dir: Path = PROJECT_ROOT / "data" / "boundaries"
    host: str = "127.0.0.1"
    port: int = 8000
    tiles_osm_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png", description="OpenStreetMap-style tile URL."
    )
    tiles_amap_url: str = Field(
        default="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        description="AMap (GCJ-02) tile URL; point it at a tile server of your own where needed.",
    )
    tiles_amap_subdomains: str = "1234"
    basemap: str = Field(
        default="none",
        description="The workbench's basemap: none (the service's own division outlines only: works offline), "
        "osm, amap (GCJ-02 tiles; the pages convert) or a tile URL with {z}/{x}/{y}.",
    )
    max_json_kb: int = Field(default=1024, description="Largest JSON request body (413 beyond).")
    max_upload_mb: int = Field(default=50, description="Largest upload accepted (413 beyond).")
    max_upload_features: int = Field(default=200_000, description="Most features in one upload (413 beyond).")
    session_hours: int = Field(default=12, ge=1, description="How long a sign-in lasts.")
    sign_in_failure_pause_s: float = Field(default=1.0, ge=0, description="Pause after each failed sign-in.")
    upload_slots: int = Field(
        default=2, ge=1, description="Uploads read and checked at once, each in a process (503 busy beyond)."
    )
    rate_limit_per_minute: int = Field(
        default=600, description="Public requests a minute per client; 0: no limit."
    )
    rate_limit_burst: int = Field(default=120, description="Requests a client may send at once.")
    trust_forwarded_for: bool = Field(default=False, description="Take the client from X-Forwarded-For.")
    cors_origins: list[str] = Field(
        default_factory=list, description='Origins allowed by CORS, e.g. ["https://x.gov.cn"].'
    )
    replica_urls: list[str] = Field(
        default_factory=list,
        description='Streaming replicas for reads, e.g. ["postgresql://…@replica1/geo"].',
    )
    replica_max_lag_s: float = Field(default=10.0, description="A replica further behind is skipped.")
    public_url: str | None = Field(
        default=None,
        description="The service's public base URL for links, e.g. https://gis.example.gov.cn/geo "
        "(unset: taken from each request's Host header, which a client chooses).",
    )
    pool_size: int = 10
    statement_timeout_ms: int = 15000
    warm_up: bool = Field(
        default=True,
        description="Load the divisions coverage needs in the background at start-up (not on the first request).",
    )
    siting_time_limit_s: float = Field(
        default=10.0, gt=0, le=600, description="Time the exact siting (MILP) may take before greedy is used."
    )
    map_default_type: str = Field(
        default="elderly_canteen", description="Facility type of /maps/coverage when none is asked for."
    )
    fast_lane: bool = Field(
        default=True,
        description="Answer well-formed nearest/locate/OGC items requests without FastAPI's routing.",
    )
    # Field work: attachments (photos, approval documents) and inspection rounds.
    attachment_max_mb: int = Field(default=10, ge=1, description="Largest attachment accepted (413 beyond).")
    attachments_dir: Path | None = Field(
        default=None, description="Where attachments are stored (default: data_dir/attachments)."
    )
    attachments_s3_bucket: str | None = Field(
        default=None, description="Store attachments in this S3-compatible bucket instead of on disk."
    )
    attachments_s3_endpoint: str | None = Field(
        default=None, description="The S3-compatible server's URL (e.g. MinIO's); unset: AWS."
    )
    attachments_s3_region: str = "us-east-1"
    attachments_s3_access_key: str | None = Field(default=None, description="Else the usual AWS variables.")
    attachments_s3_secret_key: SecretStr | None = None
    attachments_s3_prefix: str = Field(default="attachments/", description="Key prefix inside the bucket.")
    inspection_due_months: int = Field(
        default=12, ge=1, le=240, description="A marker or sign is due once its last inspection is this old."
    )

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")) or any(c in value for c in "?# "):
            raise ValueError("public_url must be an http(s) URL without query or fragment")
        return value.rstrip("/")

    @field_validator("replica_urls")
    @classmethod
    def _normalise_replicas(cls, value: list[str]) -> list[str]:
        return [cls._normalise_url(v) or v for v in value]

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        """Accept postgres:// and postgresql:// URLs as given and point them at the asyncpg driver."""
        if not value:
            return None
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix) :]
        return value
