"""Conditional requests on versioned records (RFC 9110): strong `"<version>"` ETags on GET and on every write
answer, If-Match with that tag, a list of tags or `*` (a bare number too), 412 / 428 / 400 / 409 as the contract
says, on place-name review, facility PATCH and facility DELETE."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from geo_service.api.conditional import IfMatch, parse_if_match
from geo_service.domain.errors import InvalidInput
from tests.conftest import sql as query
from tests.writes_helpers import auth, big_village, line_in, make_keys, point_in

#: If-Match values a write must refuse, with the status: nothing may change.
REFUSED: list[tuple[str | bytes | None, int]] = [
    (None, 428),
    ("", 400),
    ("garbage", 400),
    ("3 apples", 400),
    ('"1', 400),
    ("W/1", 400),
    ('*, "1"', 400),
    ("١".encode(), 400),  # an Arabic-Indic one (sent as UTF-8): not a version number
    ("9" * 5000, 400),  # longer than any If-Match read (and than Python's int() digit limit)
    ("9" * 4000, 412),  # a version number, just not this one
    ('"' + "9" * 4000 + '"', 412),
    ('W/"1"', 412),  # the right version, but weak: If-Match compares strongly
    ('"2"', 412),
    ('"1-gzip"', 412),
    ('"01"', 412),  # strong comparison is character by character
]


def _accepted(etag: str, current: int) -> list[str]:
    """If-Match values that name the version ``current`` (``etag`` as a GET gave it)."""
    return [etag, "*", f'"{current + 7}", {etag}, W/"{current}"', str(current)]


def _if_match(value: str | bytes | None) -> dict[str, Any]:
    return {} if value is None else {"If-Match": value}


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def _facility(client: TestClient, url: str, keys: dict[str, str]) -> int:
    body = {
        "type": "Feature",
        "geometry": point_in(url, "440106010001"),
        "properties": {"type": "elderly_canteen", "name": "版本测试饭堂"},
    }
    created = client.post("/v1/facilities", json=body, headers=auth(keys["editor"]))
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'  # a write answer carries the new version
    return int(created.json()["id"])


def _refusals(send: Any, version_of: Any, expected: int) -> None:
    for value, status in REFUSED:
        resp: httpx.Response = send(_if_match(value))
        assert resp.status_code == status, (value[:20] if value else value, resp.status_code, resp.text[:200])
        assert resp.json()["detail"]
        assert version_of() == expected, value  # nothing changed


def test_place_name_review(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    pids = [
        r[0]
        for r in query(
            fresh_url,
            "SELECT id FROM place_names WHERE status = 'proposed' AND version = 1 ORDER BY id LIMIT 4",
        )
    ]
    assert len(pids) == 4

    def review(pid: int, headers: dict[str, Any]) -> httpx.Response:
        return fresh_client.post(
            f"/v1/place-names/{pid}/review",
            json={"decision": "reject"},
            headers={**auth(keys["reviewer"]), **headers},
        )

    def version(pid: int) -> int:
        return int(query(fresh_url, "SELECT version FROM place_names WHERE id = :i", i=pid)[0][0])

    got = fresh_client.get(f"/v1/place-names/{pids[0]}", headers=auth(keys["reviewer"]))
    assert got.headers["etag"] == '"1"' == f'"{got.json()["properties"]["version"]}"'
    _refusals(lambda headers: review(pids[0], headers), lambda: version(pids[0]), 1)
    for pid, value in zip(pids, _accepted(got.headers["etag"], 1), strict=True):
        decided = review(pid, {"If-Match": value})
        assert decided.status_code == 200, (value, decided.text)
        assert decided.headers["etag"] == '"2"' and decided.json()["properties"]["status"] == "rejected"
        assert (
            fresh_client.get(f"/v1/place-names/{pid}", headers=auth(keys["reviewer"])).headers["etag"]
            == '"2"'
        )
    # Decided: a matching tag hears "already decided" (409); a stale one hears 412 first.
    again = review(pids[0], {"If-Match": '"2"'})
    assert again.status_code == 409 and "already decided" in again.json()["detail"]
    stale = review(pids[0], {"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2


def test_facility_patch(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    fid = _facility(fresh_client, fresh_url, keys)

    def patch(headers: dict[str, Any], phone: str = "020-1") -> httpx.Response:
        return fresh_client.patch(
            f"/v1/facilities/{fid}", json={"phone": phone}, headers={**auth(keys["editor"]), **headers}
        )

    def version() -> int:
        return int(query(fresh_url, "SELECT version FROM facilities WHERE id = :i", i=fid)[0][0])

    got = fresh_client.get(f"/v1/facilities/{fid}")
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert got.json()["properties"]["version"] == 1 and got.json()["properties"]["name"] == "版本测试饭堂"
    _refusals(patch, version, 1)
    current = 1
    for _ in range(4):  # each accepted form in turn, each on the version the last answer named
        etag = fresh_client.get(f"/v1/facilities/{fid}").headers["etag"]
        value = _accepted(etag, current)[current - 1]
        changed = patch({"If-Match": value}, phone=f"020-{current}")
        assert changed.status_code == 200, (value, changed.text)
        current += 1
        assert changed.headers["etag"] == f'"{current}"' == f'"{changed.json()["properties"]["version"]}"'
    assert version() == 5 and fresh_client.get(f"/v1/facilities/{fid}").headers["etag"] == '"5"'


def test_facility_delete(fresh_client: TestClient, fresh_url: str, keys: dict[str, str]) -> None:
    fid = _facility(fresh_client, fresh_url, keys)

    def close(headers: dict[str, Any]) -> httpx.Response:
        return fresh_client.delete(f"/v1/facilities/{fid}", headers={**auth(keys["editor"]), **headers})

    def version() -> int:
        return int(query(fresh_url, "SELECT version FROM facilities WHERE id = :i", i=fid)[0][0])

    _refusals(close, version, 1)
    assert query(fresh_url, "SELECT status FROM facilities WHERE id = :i", i=fid)[0][0] == "active"
    current = 1
    today = dt.date.today().isoformat()
    for i in range(4):  # every form once; a closed facility is reopened for the next (closing twice is a 409)
        etag = fresh_client.get(f"/v1/facilities/{fid}").headers["etag"]
        closed = close({"If-Match": _accepted(etag, current)[i]})
        assert closed.status_code == 200, closed.text
        current += 1
        assert closed.json() == {
            "id": fid,
            "status": "closed",
            "closed_on": today,
            "closed_reason": None,
            "version": current,
        }
        assert closed.headers["etag"] == f'"{current}"'
        assert close({"If-Match": closed.headers["etag"]}).status_code == 409
        reopened = fresh_client.patch(
            f"/v1/facilities/{fid}",
            json={"status": "active"},
            headers={**auth(keys["editor"]), "If-Match": closed.headers["etag"]},
        )
        assert reopened.status_code == 200
        current += 1
    assert fresh_client.get(f"/v1/facilities/{fid}").json()["properties"]["status"] == "active"


def test_markers_and_signs_answer_with_their_version(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    marker, version = query(fresh_url, "SELECT id, version FROM boundary_markers ORDER BY id LIMIT 1")[0]
    got = fresh_client.get(f"/v1/boundary-markers/{marker}")
    assert got.status_code == 200 and got.headers["etag"] == f'"{version}"'
    assert got.json()["properties"]["version"] == version
    unchanged = fresh_client.get(
        f"/v1/boundary-markers/{marker}", headers={"If-None-Match": got.headers["etag"]}
    )
    assert unchanged.status_code == 304
    inspected = fresh_client.post(
        f"/v1/boundary-markers/{marker}/inspections",
        headers=auth(keys["surveyor"]),
        json={"status": "damaged", "inspected_on": "2026-01-05"},
    )
    assert inspected.status_code == 201
    assert fresh_client.get(f"/v1/boundary-markers/{marker}").headers["etag"] == f'"{version + 1}"'

    pid, name, pinyin, x, y = query(
        fresh_url,
        "SELECT id, name, pinyin, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
        "FROM place_names WHERE status = 'approved' ORDER BY id LIMIT 1",
    )[0]
    sign = fresh_client.post(
        "/v1/place-name-signs",
        headers=auth(keys["surveyor"]),
        json={
            "place_name_id": pid,
            "position": {"type": "Point", "coordinates": [x, y]},  # on the place: signs stand by it
            "installed_on": "2025-10-01",
            "text": name,
            "pinyin": pinyin,
        },
    )
    assert sign.status_code == 201 and sign.headers["etag"] == '"1"'
    sid = sign.json()["id"]
    got = fresh_client.get(f"/v1/place-name-signs/{sid}")
    assert (
        got.status_code == 200 and got.headers["etag"] == '"1"' and got.json()["properties"]["text"] == name
    )
    fresh_client.post(
        f"/v1/place-name-signs/{sid}/inspections",
        headers=auth(keys["surveyor"]),
        json={"status": "intact", "inspected_on": "2026-01-05"},
    )
    assert fresh_client.get(f"/v1/place-name-signs/{sid}").headers["etag"] == '"2"'
    for path, says in [
        ("/v1/boundary-markers/99999999", "no boundary marker"),
        ("/v1/place-name-signs/99999999", "no place-name sign"),
        ("/v1/facilities/99999999", "no facility"),
    ]:
        missing = fresh_client.get(path)
        assert missing.status_code == 404 and says in missing.json()["detail"]


def test_a_version_etag_never_names_an_encoding(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    """Even an answer large enough to be compressed keeps `"<version>"`: it is sent as it is."""
    (x0, y), (x1, _) = line_in(fresh_url, big_village(fresh_url))["coordinates"]
    winding = [[x0 + (x1 - x0) * i / 300, y + (0.00005 if i % 2 else 0)] for i in range(301)]
    body = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": winding},
        "properties": {"name": "翠鸟路", "category": "road"},
    }
    proposed = fresh_client.post("/v1/place-names", json=body, headers=auth(keys["surveyor"]))
    assert proposed.status_code == 201, proposed.text
    pid = proposed.json()["id"]
    approved = fresh_client.post(
        f"/v1/place-names/{pid}/review",
        json={"decision": "approve"},
        headers={**auth(keys["reviewer"]), "If-Match": '"1"'},
    )
    assert approved.status_code == 200, approved.text  # public from now on
    got = fresh_client.get(f"/v1/place-names/{pid}", headers={"Accept-Encoding": "gzip"})
    assert len(got.content) >= 4096  # over the size at which other answers go gzipped
    assert got.headers["etag"] == '"2"' and "content-encoding" not in got.headers
    again = fresh_client.get(f"/v1/place-names/{pid}", headers={"If-None-Match": '"2"'})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("*", IfMatch(any=True)),
        ('"3"', IfMatch(tags=frozenset({'"3"'}))),
        (' "3" ', IfMatch(tags=frozenset({'"3"'}))),
        ("3", IfMatch(tags=frozenset({'"3"'}))),
        ("007", IfMatch(tags=frozenset({'"7"'}))),
        ("0", IfMatch(tags=frozenset({'"0"'}))),
        ('W/"3"', IfMatch()),
        ('"1", W/"2",,"3" ,', IfMatch(tags=frozenset({'"1"', '"3"'}))),
        ('"a,b", "c"', IfMatch(tags=frozenset({'"a,b"', '"c"'}))),  # a comma may sit inside a tag
        ('"\xe4"', IfMatch(tags=frozenset({'"\xe4"'}))),  # obs-text (header values are latin-1)
        ('""', IfMatch(tags=frozenset({'""'}))),
    ],
)
def test_if_match_grammar(value: str, expected: IfMatch) -> None:
    assert parse_if_match(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        ",",
        "**",
        '*, "1"',
        '"1" "2"',
        '"1";"2"',
        'w/"1"',
        'W/ "1"',
        '"a"b"',
        '"\x7f"',
        '"\x00"',
        "1.0",
        "-1",
        "+1",
        "²",
        "１",
        "٣",
        "0x1",
        '"1" ,, W/',
        "9" * 4097,
    ],
)
def test_if_match_that_is_not_a_list_of_tags(value: str) -> None:
    with pytest.raises(InvalidInput):
        parse_if_match(value)
