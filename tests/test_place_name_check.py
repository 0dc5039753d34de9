"""POST /v1/place-names/check: the dry run of one proposal, always 200 with the contract's shape; nothing
written and no lock waited for, over HTTP against PostGIS."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from geo_service.api.app import create_app
from geo_service.services.naming_check import NAME_LOCK_BUCKETS
from tests.conftest import settings_for
from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, counts, line_in, make_keys

SHAPE = {
    "ok",
    "name",
    "specific",
    "generic",
    "category",
    "pinyin",
    "division",
    "problems",
    "conflicts",
    "warnings",
}


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def check(
    client: TestClient, key: str, name: str, category: str | None = "road", geometry: Any = None, **extra: Any
) -> dict[str, Any]:
    props = {"name": name, **({"category": category} if category is not None else {})}
    resp = client.post(
        "/v1/place-names/check",
        json={"type": "Feature", "geometry": geometry, "properties": props, **extra},
        headers=auth(key),
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert set(body) == SHAPE
    return body


def test_a_clean_proposal(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    village = big_village(fresh_url)
    before = counts(fresh_url), query(fresh_url, "SELECT count(*) FROM audit_log")
    body = check(fresh_client, keys["surveyor"], "禾雀北路", "道路", line_in(fresh_url, village))
    assert (
        body["ok"] is True and body["problems"] == [] and body["conflicts"] == [] and body["warnings"] == []
    )
    assert (body["name"], body["specific"], body["generic"], body["category"], body["pinyin"]) == (
        "禾雀北路",
        "禾雀",
        "北路",
        "road",
        "Heque Beilu",
    )
    name = query(fresh_url, "SELECT name FROM divisions WHERE code = :c", c=village)[0][0]
    assert body["division"] == {"code": village, "name": name}
    assert (
        counts(fresh_url),
        query(fresh_url, "SELECT count(*) FROM audit_log"),
    ) == before  # nothing written


def test_problems_conflicts_and_warnings(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    c, key = fresh_client, keys["surveyor"]
    line = line_in(fresh_url, big_village(fresh_url))
    forbidden = check(c, key, "纽约大道", "road", line)
    assert forbidden["ok"] is False and [p["rule"] for p in forbidden["problems"]] == ["forbidden"]
    assert forbidden["pinyin"] == "Niuyue Dadao"
    wrong_kind = check(c, key, "禾雀巷", "road", line)
    assert [p["rule"] for p in wrong_kind["problems"]] == ["structure"]
    existing_id, existing = query(
        fresh_url,
        "SELECT id, name FROM place_names WHERE status = 'approved' AND "
        "category = 'road' ORDER BY id LIMIT 1",
    )[0]
    duplicate = check(c, key, existing, "road", line)
    assert duplicate["ok"] is False and duplicate["conflicts"] == [existing_id]
    assert [p["rule"] for p in duplicate["problems"]] == ["duplicate"]
    made = c.post(
        "/v1/place-names",
        headers=auth(key),
        json={"type": "Feature", "geometry": line, "properties": {"name": "新桥大道", "category": "road"}},
    )
    assert made.status_code == 201
    near = check(c, key, "星桥大道", "road", line)  # xing / xin: a warning, not a problem
    assert near["ok"] is True and [w["rule"] for w in near["warnings"]] == ["near_homophone"]
    editing = check(c, key, "新桥大道", "road", line, id=made.json()["id"])  # its own proposal, being edited
    assert editing["ok"] is True and editing["conflicts"] == []
    assert check(c, key, "新桥大道", "road", line)["conflicts"] == [made.json()["id"]]


def test_as_far_as_it_is_filled_in(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    c, key = fresh_client, keys["surveyor"]
    existing_id, existing = query(
        fresh_url,
        "SELECT id, name FROM place_names WHERE status = 'approved' AND "
        "category = 'road' ORDER BY id LIMIT 1",
    )[0]
    undrawn = check(c, key, existing, "road", None)
    assert [p["rule"] for p in undrawn["problems"]] == ["geometry", "duplicate"] and undrawn[
        "division"
    ] is None
    assert undrawn["conflicts"] == [
        existing_id
    ]  # the live check warns of a taken name before the line is drawn
    malformed = check(c, key, "禾雀北路", "road", {"type": "LineString", "coordinates": [[1]]})
    assert [p["rule"] for p in malformed["problems"]] == ["geometry"] and "malformed" in malformed[
        "problems"
    ][0]["message"]
    uncategorised = check(c, key, "罗仙围", None, line_in(fresh_url, big_village(fresh_url)))
    assert [p["rule"] for p in uncategorised["problems"]] == ["category"]
    assert uncategorised["pinyin"] == "Luoxianwei" and uncategorised["category"] is None
    empty = check(c, key, "", "road", None)
    assert "characters" in [p["rule"] for p in empty["problems"]] and empty["ok"] is False
    outside = check(
        c, key, "禾雀北路", "road", {"type": "LineString", "coordinates": [[116.39, 39.9], [116.4, 39.9]]}
    )
    assert [p["rule"] for p in outside["problems"]] == ["geometry"] and outside["division"] is None


def test_only_surveyors_and_up(fresh_client: TestClient) -> None:
    body = {"type": "Feature", "geometry": None, "properties": {"name": "禾雀北路", "category": "road"}}
    assert fresh_client.post("/v1/place-names/check", json=body).status_code == 401


def test_a_check_waits_for_no_lock(fresh_url: str, keys: dict[str, str]) -> None:
    """Every name lock held by another transaction (an upload, say): the check still answers, at once."""
    line = line_in(fresh_url, big_village(fresh_url))
    dsn = make_url(fresh_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def holding() -> tuple[asyncpg.Connection, Any]:
        conn = await asyncpg.connect(dsn)
        tx = conn.transaction()
        await tx.start()
        await conn.execute(
            "SELECT pg_advisory_xact_lock(1, k) FROM generate_series(0, $1 - 1) k", NAME_LOCK_BUCKETS
        )
        return conn, tx

    loop = asyncio.new_event_loop()
    try:
        conn, tx = loop.run_until_complete(holding())
        with TestClient(create_app(settings_for(fresh_url, statement_timeout_ms=3000))) as c:
            body = check(c, keys["surveyor"], "禾雀北路", "road", line)  # a lock wait would be cancelled: 503
            assert body["ok"] is True
            blocked = c.post(
                "/v1/place-names",
                headers=auth(keys["surveyor"]),
                json={
                    "type": "Feature",
                    "geometry": line,
                    "properties": {"name": "禾雀北路", "category": "road"},
                },
            )
            assert blocked.status_code == 503  # a proposal does wait for the names: the locks were real
        loop.run_until_complete(tx.rollback())
        loop.run_until_complete(conn.close())
    finally:
        loop.close()


def test_one_category_and_status_type_for_every_schema() -> None:
    from typing import get_args

    from pydantic import TypeAdapter

    from geo_service.api.schemas import (
        Category,
        PlaceNameCheckProperties,
        PlaceNameProperties,
        PlaceNameStatus,
    )
    from geo_service.db.models import PLACE_NAME_CATEGORIES, PLACE_NAME_STATUSES
    from geo_service.domain.naming import CATEGORY_LABELS_ZH

    assert get_args(get_args(Category)[0]) == PLACE_NAME_CATEGORIES == tuple(CATEGORY_LABELS_ZH)
    assert get_args(PlaceNameStatus) == PLACE_NAME_STATUSES
    adapter = TypeAdapter(Category)
    assert [adapter.validate_python(zh) for zh in CATEGORY_LABELS_ZH.values()] == list(PLACE_NAME_CATEGORIES)
    for model in (PlaceNameProperties, PlaceNameCheckProperties):
        assert model.model_validate({"name": "罗仙围", "category": "自然村"}).category == "natural_village"
