"""The place-name register under concurrency: one name, one place; one open rename per place; protection that
follows the place; no reviewer approves his own proposal; a revoked key loses its rate-limit exemption at once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.db.engine import create_engine
from geo_service.services import keys as key_service
from tests.conftest import LiveServer, run, settings_for
from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, line_in, make_keys

ROUNDS = 4  # each round a fresh name, all requests sent at once
AT_ONCE = 8


def _feature(name: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"name": name, "category": "road"}}


async def _all_at_once(
    base: str, requests: list[tuple[str, str, dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    """Send every (method, path, json, headers) request at the same moment, each on its own connection."""
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in requests]
    try:
        return list(
            await asyncio.gather(
                *(
                    c.request(m, p, json=j, headers=h)
                    for c, (m, p, j, h) in zip(clients, requests, strict=True)
                )
            )
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


@pytest.fixture
def live(fresh_url: str) -> Any:
    with LiveServer(fresh_url) as server:
        yield server


def _statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def test_identical_proposals_sent_at_once_one_is_accepted(fresh_url: str, live: LiveServer) -> None:
    keys = make_keys(fresh_url)
    line = line_in(fresh_url, big_village(fresh_url))
    for name in ["禾雀一路", "禾雀二路", "禾雀三路", "禾雀四路"][:ROUNDS]:
        sent = [("POST", "/v1/place-names", _feature(name, line), auth(keys["surveyor"]))] * AT_ONCE
        answers = asyncio.run(_all_at_once(live.base, sent))
        assert _statuses(answers) == [201] + [409] * (AT_ONCE - 1), [r.text for r in answers]
        winner = next(r.json()["id"] for r in answers if r.status_code == 201)
        assert all(r.json()["conflicting_ids"] == [winner] for r in answers if r.status_code == 409)
        assert query(fresh_url, "SELECT count(*) FROM place_names WHERE name = :n", n=name)[0][0] == 1


def test_same_romanisation_sent_at_once_one_is_accepted(fresh_url: str, live: LiveServer) -> None:
    keys = make_keys(fresh_url)
    line = line_in(fresh_url, big_village(fresh_url))
    # 河/和/荷/合 are all "he": every name of a round romanises to the same "Heque …lu"
    for generic in ["东路", "西路", "南路", "北路"][:ROUNDS]:
        names = [c + "雀" + generic for c in "河和荷合"] * (AT_ONCE // 4)
        sent = [("POST", "/v1/place-names", _feature(n, line), auth(keys["surveyor"])) for n in names]
        answers = asyncio.run(_all_at_once(live.base, sent))
        assert _statuses(answers) == [201] + [409] * (AT_ONCE - 1), [r.text for r in answers]
        pinyin = {r.json()["properties"]["pinyin"] for r in answers if r.status_code == 201}
        assert (
            query(fresh_url, "SELECT count(*) FROM place_names WHERE pinyin = :p", p=pinyin.pop())[0][0] == 1
        )


def test_a_bulk_submission_and_single_proposals_at_once(fresh_url: str, live: LiveServer) -> None:
    keys = make_keys(fresh_url)
    line = line_in(fresh_url, big_village(fresh_url))
    coords = ", ".join(f"{x} {y}" for x, y in line["coordinates"])
    csv = "name,wkt\n" + "".join(f'禾雀{n}路,"LINESTRING ({coords})"\n' for n in "甲乙丙丁戊")

    async def race() -> list[int]:
        async with httpx.AsyncClient(base_url=live.base, timeout=60) as bulk_client:
            bulk = bulk_client.post(
                "/v1/submissions",
                headers=auth(keys["surveyor"]),
                files={"file": ("names.csv", csv.encode(), "text/csv")},
                data={"crs": "wgs84", "category": "road"},
            )
            singles = _all_at_once(
                live.base,
                [("POST", "/v1/place-names", _feature("禾雀丙路", line), auth(keys["surveyor"]))] * 4,
            )
            answer, single_answers = await asyncio.gather(bulk, singles)
        return sorted([answer.status_code] + [r.status_code for r in single_answers])

    for _ in range(3):
        statuses = asyncio.run(race())
        # Either the file (5 names, 禾雀丙路 among them) or one single proposal wins 禾雀丙路, never both.
        assert statuses in ([201, 409, 409, 409, 409], [201, 409, 409, 409, 422]), statuses
        assert query(fresh_url, "SELECT count(*) FROM place_names WHERE name = '禾雀丙路'")[0][0] == 1
        query(fresh_url, "DELETE FROM place_names WHERE name LIKE '禾雀_路' AND status = 'proposed'")


def _approved_road(url: str) -> tuple[int, str]:
    pid, name = query(
        url,
        "SELECT id, name FROM place_names WHERE status = 'approved' AND category = 'road' "
        "AND rename_of IS NULL ORDER BY id LIMIT 1",
    )[0]
    return int(pid), str(name)


def test_one_open_rename_per_place(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    pid, _ = _approved_road(fresh_url)
    first = fresh_client.post(
        f"/v1/place-names/{pid}/rename", json={"name": "禾雀甲路"}, headers=auth(keys["surveyor"])
    )
    assert first.status_code == 201, first.text
    second = fresh_client.post(
        f"/v1/place-names/{pid}/rename", json={"name": "禾雀乙路"}, headers=auth(keys["surveyor"])
    )
    assert second.status_code == 409
    assert second.json()["conflicting_ids"] == [first.json()["id"]]
    assert str(first.json()["id"]) in second.json()["detail"]


def test_renames_of_one_place_sent_at_once(fresh_url: str, live: LiveServer) -> None:
    keys = make_keys(fresh_url)
    for round_ in range(ROUNDS):
        pid = query(
            fresh_url,
            "SELECT id FROM place_names WHERE status = 'approved' AND category = 'road' "
            "AND rename_of IS NULL ORDER BY id OFFSET :o LIMIT 1",
            o=round_,
        )[0][0]
        names = [f"禾雀{'甲乙丙丁'[round_]}{'一二三四五六七八'[i]}路" for i in range(AT_ONCE)]
        sent = [("POST", f"/v1/place-names/{pid}/rename", {"name": n}, auth(keys["surveyor"])) for n in names]
        answers = asyncio.run(_all_at_once(live.base, sent))
        assert _statuses(answers) == [201] + [409] * (AT_ONCE - 1), [r.text for r in answers]
        assert query(fresh_url, "SELECT count(*) FROM place_names WHERE rename_of = :p", p=pid)[0][0] == 1


def _approve(client: TestClient, key: str, pid: int) -> httpx.Response:
    version = query_version(client, key, pid)
    return client.post(
        f"/v1/place-names/{pid}/review",
        json={"decision": "approve", "comment": "同意"},
        headers={**auth(key), "If-Match": str(version)},
    )


def query_version(client: TestClient, key: str, pid: int) -> int:
    return int(client.get(f"/v1/place-names/{pid}", headers=auth(key)).json()["properties"]["version"])


def _copy_as_proposal(url: str, source: int, name: str, pinyin: str) -> int:
    """A second open proposal written straight into the table, as data from before this rule could hold."""
    return int(
        query(
            url,
            "INSERT INTO place_names (name, specific, generic, category, pinyin, pinyin_key, near_key, "
            "status, division_code, district_code, rename_of, proposed_by, geometry_source, geom) "
            "SELECT :n, left(:n, 3), right(:n, 1), category, :p, lower(replace(:p, ' ', '')), "
            "lower(replace(:p, ' ', '')), 'proposed', division_code, district_code, rename_of, "
            "'legacy', geometry_source, geom FROM place_names WHERE id = :s RETURNING id",
            n=name,
            p=pinyin,
            s=source,
        )[0][0]
    )


def test_approving_a_rename_supersedes_the_other_open_proposals(
    fresh_client: TestClient, fresh_url: str
) -> None:
    keys = make_keys(fresh_url)
    pid, old = _approved_road(fresh_url)
    first = fresh_client.post(
        f"/v1/place-names/{pid}/rename", json={"name": "禾雀甲路"}, headers=auth(keys["surveyor"])
    )
    assert first.status_code == 201, first.text
    legacy = _copy_as_proposal(fresh_url, first.json()["id"], "禾雀乙路", "Hequeyi Lu")
    approved = _approve(fresh_client, keys["reviewer"], first.json()["id"])
    assert approved.status_code == 200, approved.text
    assert query(fresh_url, "SELECT status FROM place_names WHERE id = :i", i=legacy)[0][0] == "superseded"
    late = _approve(fresh_client, keys["reviewer"], legacy)
    assert late.status_code == 409 and "superseded" in late.json()["detail"]
    assert fresh_client.get(f"/v1/place-names/{pid}").json()["properties"]["name"] == "禾雀甲路"
    # the place may be renamed again, and the names it no longer carries are free
    again = fresh_client.post(
        f"/v1/place-names/{pid}/rename", json={"name": "禾雀丙路"}, headers=auth(keys["surveyor"])
    )
    assert again.status_code == 201, again.text
    assert _approve(fresh_client, keys["reviewer"], again.json()["id"]).status_code == 200
    line = line_in(fresh_url, big_village(fresh_url))
    reuse = fresh_client.post(
        "/v1/place-names", json=_feature("禾雀甲路", line), headers=auth(keys["surveyor"])
    )
    assert reuse.status_code == 201, reuse.text
    history = [h["name"] for h in fresh_client.get(f"/v1/place-names/{pid}").json()["properties"]["history"]]
    assert history == [old, "禾雀甲路"]


def test_approval_rechecks_uniqueness(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    line = line_in(fresh_url, big_village(fresh_url))
    proposed = fresh_client.post(
        "/v1/place-names", json=_feature("禾雀戊路", line), headers=auth(keys["surveyor"])
    )
    assert proposed.status_code == 201
    # an approved name that appeared meanwhile (imported data), same romanisation
    other = _copy_as_proposal(
        fresh_url, proposed.json()["id"], "禾鹊戊路", proposed.json()["properties"]["pinyin"]
    )
    query(fresh_url, "UPDATE place_names SET status = 'approved' WHERE id = :i", i=other)
    refused = _approve(fresh_client, keys["reviewer"], proposed.json()["id"])
    assert refused.status_code == 409, refused.text
    assert refused.json()["conflicting_ids"] == [other] and str(other) in refused.json()["detail"]
    assert query(fresh_url, "SELECT status, version FROM place_names WHERE id = :i", i=proposed.json()["id"])[
        0
    ] == ("proposed", 1)


def test_approvals_of_one_name_sent_at_once(fresh_url: str, live: LiveServer) -> None:
    keys = make_keys(fresh_url)
    line = line_in(fresh_url, big_village(fresh_url))
    with httpx.Client(base_url=live.base) as http:
        for round_, name in enumerate(["禾雀己路", "禾雀庚路", "禾雀辛路"]):
            made = http.post(
                "/v1/place-names", json=_feature(name, line), headers=auth(keys["surveyor"])
            ).json()
            first, pinyin = made["id"], made["properties"]["pinyin"]
            twins = [first] + [_copy_as_proposal(fresh_url, first, name, pinyin) for _ in range(AT_ONCE - 1)]
            sent = [
                (
                    "POST",
                    f"/v1/place-names/{i}/review",
                    {"decision": "approve"},
                    {**auth(keys["reviewer"]), "If-Match": "1"},
                )
                for i in twins
            ]
            answers = asyncio.run(_all_at_once(live.base, sent))
            assert _statuses(answers) == [200] + [409] * (AT_ONCE - 1), [r.text for r in answers]
            assert (
                query(
                    fresh_url,
                    "SELECT count(*) FROM place_names WHERE name = :n AND status = 'approved'",
                    n=name,
                )[0][0]
                == 1
            ), round_


def test_protection_belongs_to_the_place(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    pid, old = _approved_road(fresh_url)
    listed = fresh_client.post(
        "/v1/admin/protected-names", json={"name": old, "reason": "历史地名"}, headers=auth(keys["admin"])
    )
    assert listed.status_code == 201
    assert fresh_client.get(f"/v1/place-names/{pid}").json()["properties"]["protected"] is True
    rename = fresh_client.post(
        f"/v1/place-names/{pid}/rename",
        headers=auth(keys["surveyor"]),
        json={"name": "禾雀壬路", "justification": "道路改线"},
    )
    assert rename.status_code == 201, rename.text
    assert _approve(fresh_client, keys["reviewer"], rename.json()["id"]).status_code == 200
    renamed = fresh_client.get(f"/v1/place-names/{pid}").json()["properties"]
    assert renamed["name"] == "禾雀壬路" and renamed["protected"] is True
    bare = fresh_client.post(
        f"/v1/place-names/{pid}/rename", json={"name": "禾雀癸路"}, headers=auth(keys["surveyor"])
    )
    assert bare.status_code == 422 and [e["rule"] for e in bare.json()["errors"]] == ["protected"]
    justified = fresh_client.post(
        f"/v1/place-names/{pid}/rename",
        headers=auth(keys["surveyor"]),
        json={"name": "禾雀癸路", "justification": "再次改线"},
    )
    assert justified.status_code == 201


def test_the_reviewer_is_never_the_proposer(fresh_client: TestClient, fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    line = line_in(fresh_url, big_village(fresh_url))
    own = fresh_client.post(
        "/v1/place-names", json=_feature("禾雀子路", line), headers=auth(keys["reviewer"])
    )
    assert own.status_code == 201
    pid = own.json()["id"]
    refused = fresh_client.post(
        f"/v1/place-names/{pid}/review",
        json={"decision": "approve"},
        headers={**auth(keys["reviewer"]), "If-Match": "1"},
    )
    assert refused.status_code == 403
    assert "proposed" in refused.json()["detail"] and "another reviewer" in refused.json()["detail"]
    rejected_too = fresh_client.post(
        f"/v1/place-names/{pid}/review",
        json={"decision": "reject"},
        headers={**auth(keys["reviewer"]), "If-Match": "1"},
    )
    assert rejected_too.status_code == 403
    assert query(fresh_url, "SELECT status, reviewed_by FROM place_names WHERE id = :i", i=pid)[0] == (
        "proposed",
        None,
    )
    other = fresh_client.post(
        f"/v1/place-names/{pid}/review",
        json={"decision": "approve"},
        headers={**auth(keys["admin"]), "If-Match": "1"},
    )
    assert other.status_code == 200 and other.json()["properties"]["reviewed_by"] == "test-admin"


def test_a_revoked_key_is_rate_limited_at_once(fresh_url: str) -> None:
    keys = make_keys(fresh_url)
    with TestClient(create_app(settings_for(fresh_url, rate_limit_per_minute=6, rate_limit_burst=3))) as c:
        staff = [c.get("/conformance", headers=auth(keys["editor"])).status_code for _ in range(6)]
        assert staff == [200] * 6  # beyond the burst: exempt while the key is valid

        async def revoke() -> None:
            engine = create_engine(fresh_url, pool_size=1)
            try:
                async with engine.begin() as conn:
                    await key_service.revoke(conn, "test-editor")
            finally:
                await engine.dispose()

        run(revoke())  # as `geo-service keys revoke` does, from another process
        limited = c.get("/conformance", headers=auth(keys["editor"]))
        assert limited.status_code == 429, limited.text
        assert c.post("/v1/facilities", json={}, headers=auth(keys["editor"])).status_code == 429
    with TestClient(create_app(settings_for(fresh_url))) as c:
        refused = c.post("/v1/facilities", json={}, headers=auth(keys["editor"]))
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_an_approval_and_proposals_of_its_name_at_once(fresh_url: str, live: LiveServer) -> None:
    """Both take the name's locks before their first write: no deadlock, and the name stays single."""
    keys = make_keys(fresh_url)
    line = line_in(fresh_url, big_village(fresh_url))
    with httpx.Client(base_url=live.base) as http:
        for name in ["禾雀丑路", "禾雀寅路", "禾雀卯路", "禾雀辰路"][:ROUNDS]:
            pid = http.post(
                "/v1/place-names", json=_feature(name, line), headers=auth(keys["surveyor"])
            ).json()["id"]
            approve = (
                "POST",
                f"/v1/place-names/{pid}/review",
                {"decision": "approve"},
                {**auth(keys["reviewer"]), "If-Match": "1"},
            )
            again = ("POST", "/v1/place-names", _feature(name, line), auth(keys["surveyor"]))
            answers = asyncio.run(_all_at_once(live.base, [again] * (AT_ONCE // 2) + [approve] + [again] * 3))
            assert _statuses(answers) == [200] + [409] * (AT_ONCE // 2 + 3), [r.text for r in answers]
            assert query(fresh_url, "SELECT count(*) FROM place_names WHERE name = :n", n=name)[0][0] == 1
