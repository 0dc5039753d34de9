"""Input that used to be taken or ignored is refused, saying why (issue #14, the probe's second batch): a
cursor or a sort key that cannot be, a what-if body with unknown fields, a marker inspection that cannot be
true (moved without a position, before the marker was installed, in the future)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sql as query
from tests.writes_helpers import auth, make_keys


@pytest.mark.parametrize(
    ("params", "words"),
    [({"after": "zzz"}, "'after' must be a feature id of villages"), ({"sortby": "++name"}, "'+name'")],
)
def test_an_impossible_cursor_or_sort_key_is_a_400(
    client: TestClient, params: dict[str, str], words: str
) -> None:
    resp = client.get("/collections/villages/items", params={"limit": 2, **params})
    assert resp.status_code == 400, resp.text
    assert words in resp.json()["detail"]
    assert (
        client.get("/collections/villages/items", params={"sortby": "+name", "limit": 2}).status_code == 200
    )


def test_a_what_if_with_an_unknown_field_is_refused(client: TestClient) -> None:
    resp = client.post(
        "/v1/coverage/scenario", json={"type": "elderly_canteen", "within": "440106", "foo": 1}
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["loc"] == ["body", "foo"]


def test_a_marker_inspection_that_cannot_be_true_is_refused(fresh_client: TestClient, fresh_url: str) -> None:
    key = auth(make_keys(fresh_url)["surveyor"])
    marker, installed = query(
        fresh_url,
        "SELECT id, installed_on FROM boundary_markers WHERE installed_on IS NOT NULL ORDER BY id LIMIT 1",
    )[0]
    url = f"/v1/boundary-markers/{marker}/inspections"
    before = query(fresh_url, "SELECT count(*) FROM marker_inspections")[0][0]
    cases = [
        ({"status": "moved", "inspected_on": "2024-05-01"}, "position", "须填写发现界桩的位置"),
        (
            {"status": "intact", "inspected_on": (installed - dt.timedelta(days=1)).isoformat()},
            "inspected_on",
            f"早于设立日期 {installed.isoformat()}",
        ),
        (
            {"status": "intact", "inspected_on": (dt.date.today() + dt.timedelta(days=1)).isoformat()},
            "inspected_on",
            "不能晚于今天",
        ),
    ]
    for body, rule, zh_words in cases:
        en = fresh_client.post(url, json=body, headers=key)
        zh = fresh_client.post(url, json=body, headers={**key, "Accept-Language": "zh"})
        assert en.status_code == zh.status_code == 422, en.text
        assert en.json()["detail"] == f"the inspection of boundary marker {marker} was not recorded"
        assert [e["rule"] for e in zh.json()["errors"]] == [rule]
        assert zh_words in zh.json()["errors"][0]["message"]
    assert query(fresh_url, "SELECT count(*) FROM marker_inspections")[0][0] == before
    moved = {"status": "moved", "inspected_on": dt.date.today().isoformat()}
    moved["position"] = {
        "type": "Point",
        "coordinates": list(
            query(fresh_url, "SELECT ST_X(geom), ST_Y(geom) FROM boundary_markers WHERE id = :id", id=marker)[
                0
            ]
        ),
    }
    assert fresh_client.post(url, json=moved, headers=key).status_code == 201
