"""Helpers for write tests: keys per role, table counts, geometries inside known villages."""

from __future__ import annotations

from typing import Any

from geo_service.db.engine import create_engine
from geo_service.services import keys
from tests.conftest import run
from tests.conftest import sql as query

ROLES = ("surveyor", "reviewer", "editor", "admin")
TABLES = (
    "place_names",
    "place_name_history",
    "place_name_signs",
    "sign_inspections",
    "marker_inspections",
    "facilities",
    "submissions",
    "api_keys",
    "facility_types",
    "boundary_markers",
)


def make_keys(url: str, prefix: str = "test") -> dict[str, str]:
    """One key per role (named ``prefix-role``); returns role → plain key."""

    async def go() -> dict[str, str]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                return {role: await keys.create(conn, f"{prefix}-{role}", role) for role in ROLES}
        finally:
            await engine.dispose()

    return run(go())


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def counts(url: str) -> dict[str, int]:
    return {t: query(url, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


def line_in(url: str, code: str, length_deg: float = 0.002) -> dict[str, Any]:
    """A short east-west GeoJSON line through a point well inside a division."""
    x, y = query(
        url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM divisions WHERE code = :c) s",
        c=code,
    )[0]
    return {"type": "LineString", "coordinates": [[x - length_deg / 2, y], [x + length_deg / 2, y]]}


def point_in(url: str, code: str) -> dict[str, Any]:
    x, y = query(
        url,
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM divisions WHERE code = :c) s",
        c=code,
    )[0]
    return {"type": "Point", "coordinates": [x, y]}


def big_village(url: str, district: str = "440118") -> str:
    """A large rural village of a district (room for lines well inside it)."""
    return query(
        url,
        "SELECT code FROM divisions WHERE level = 'village' AND code LIKE :d ORDER BY area_m2 DESC LIMIT 1",
        d=district + "%",
    )[0][0]
