"""Migrations on an empty database, down and up again."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from geo_service.db.engine import alembic_config, prepare_database
from geo_service.db.models import Base
from geo_service.domain.naming_rules import DEFAULT_FORBIDDEN
from geo_service.domain.romanize import PLACE_READINGS
from tests.conftest import sql as query


def test_migrations_on_an_empty_database(empty_url: str) -> None:
    prepare_database(empty_url)
    tables = {r[0] for r in query(empty_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert set(Base.metadata.tables) <= tables
    head = ScriptDirectory.from_config(alembic_config(empty_url)).get_current_head()
    assert query(empty_url, "SELECT version_num FROM alembic_version")[0][0] == head
    types = {r[0] for r in query(empty_url, "SELECT code FROM facility_types")}
    assert types == {
        "elderly_canteen",
        "social_work_station",
        "social_work_point",
        "wedding_cert_point",
        "community_station",
        "assistance_platform",
        "charity_supermarket",
        "dementia_care_center",
        "policy_observation_point",
        "marriage_reform_village",
    }
    spatial = query(empty_url, "SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%USING gist%'")[0][0]
    assert spatial >= 6


def test_downgrade_and_upgrade_again(empty_url: str) -> None:
    prepare_database(empty_url)
    command.downgrade(alembic_config(empty_url), "base")
    assert query(empty_url, "SELECT to_regclass('divisions')")[0][0] is None
    prepare_database(empty_url)
    assert query(empty_url, "SELECT to_regclass('divisions')")[0][0] == "divisions"


def test_constraints_keep_bad_rows_out(empty_url: str) -> None:
    prepare_database(empty_url)
    bad_statements = [
        # self-intersecting polygon
        "INSERT INTO divisions (code, name, level, geometry_source, geom) VALUES ('440199', 'x', 'district', 'x', "
        "ST_Multi(ST_GeomFromText('POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))', 4326)))",
        # township code not under its parent
        "INSERT INTO divisions (code, name, level, parent_code, geometry_source, geom) VALUES ('440199001', 'x', "
        "'township', '440100', 'x', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)))",
        # unknown level
        "INSERT INTO divisions (code, name, level, geometry_source, geom) VALUES ('440199', 'x', 'city', 'x', "
        "ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)))",
        # wrong SRID
        "INSERT INTO facilities (type, name, status, geometry_source, geom) VALUES ('elderly_canteen', 'x', 'active', "
        "'x', ST_SetSRID(ST_MakePoint(113, 23), 3857))",
        # unknown status
        "INSERT INTO facilities (type, name, status, geometry_source, geom) VALUES ('elderly_canteen', 'x', 'gone', "
        "'x', ST_SetSRID(ST_MakePoint(113, 23), 4326))",
    ]
    for sql in bad_statements:
        try:
            query(empty_url, sql)
        except Exception as exc:  # the database refuses: that is the point
            assert "violates" in str(exc) or "constraint" in str(exc) or "SRID" in str(exc), str(exc)
        else:
            raise AssertionError(f"accepted: {sql}")
    assert query(empty_url, "SELECT count(*) FROM divisions")[0][0] == 0


def test_models_and_migrations_agree(empty_url: str) -> None:
    prepare_database(empty_url)
    command.check(alembic_config(empty_url))  # raises when the models hold something no migration made


def test_old_migrations_seed_what_they_seeded_whatever_the_code_says_now(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(DEFAULT_FORBIDDEN, "company", (*DEFAULT_FORBIDDEN["company"], "新加的公司"))
    monkeypatch.setitem(PLACE_READINGS, "新读", "xin du")
    prepare_database(empty_url)
    terms = {r[0] for r in query(empty_url, "SELECT term FROM forbidden_terms")}
    readings = {r[0] for r in query(empty_url, "SELECT phrase FROM place_name_readings")}
    assert "新加的公司" not in terms and "新读" not in readings  # 0003 seeds its frozen copies
    # The frozen copies are the lists as the code had them; a change to those lists needs a new migration.
    assert terms == {t for ts in DEFAULT_FORBIDDEN.values() for t in ts} - {"新加的公司"}
    assert len(terms) == 40 and "雷锋" in terms
    assert readings == set(PLACE_READINGS) - {"新读"}
    assert query(empty_url, "SELECT reading FROM place_name_readings WHERE phrase = '番禺'")[0][0] == "pan yu"
