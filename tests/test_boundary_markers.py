"""/v1/boundary-markers: pages with limit/offset and next links, none cut off silently."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from geo_service.db.models import MARKER_STATUSES
from tests.conftest import sql as query


def _follow(client: TestClient, url: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every feature reached from ``url`` by its next links, and the number of pages read."""
    got = client.get(url, params=params)
    features, pages = [], 0
    while True:
        assert got.status_code == 200, got.text
        assert got.headers["content-type"].startswith("application/geo+json")
        body = got.json()
        assert body["numberReturned"] == len(body["features"])
        features += body["features"]
        pages += 1
        nexts = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nexts:
            return features, pages
        got = client.get(nexts[0])


def test_markers_come_in_pages_that_together_hold_each_marker_once(
    client: TestClient, sample_url: str
) -> None:
    ids = [r[0] for r in query(sample_url, "SELECT id FROM boundary_markers ORDER BY id")]
    assert len(ids) == 137
    features, pages = _follow(client, "/v1/boundary-markers", limit=50)
    assert [f["id"] for f in features] == ids
    assert pages == 3  # 50 + 50 + 37
    tail = client.get("/v1/boundary-markers", params={"limit": 50, "offset": 100}).json()
    assert [f["id"] for f in tail["features"]] == ids[100:]
    assert [link["rel"] for link in tail["links"]] == ["self"]


def test_next_links_keep_the_filters(client: TestClient, sample_url: str) -> None:
    line, status = query(
        sample_url,
        "SELECT line_code, status FROM boundary_markers GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1",
    )[0]
    expected = [
        r[0]
        for r in query(
            sample_url,
            "SELECT id FROM boundary_markers WHERE line_code = :l AND status = :s ORDER BY id",
            l=line,
            s=status,
        )
    ]
    assert len(expected) > 2
    features, pages = _follow(client, "/v1/boundary-markers", line=line, status=status, limit=2)
    assert [f["id"] for f in features] == expected
    assert pages == (len(expected) + 1) // 2
    assert {(f["properties"]["line_code"], f["properties"]["status"]) for f in features} == {(line, status)}


def test_more_markers_than_a_page_holds_are_not_cut_off(fresh_client: TestClient, fresh_url: str) -> None:
    query(
        fresh_url,
        "INSERT INTO boundary_markers (line_code, number, kind, status, geometry_source, geom) "
        "SELECT l.code, 'X' || n, 'single', 'intact', 'generated', ST_PointN(ST_GeometryN(l.geom, 1), 1) "
        "FROM (SELECT code, geom FROM boundary_lines ORDER BY code LIMIT 1) l, generate_series(1, 10000) n",
    )
    total = query(fresh_url, "SELECT count(*) FROM boundary_markers")[0][0]
    assert total == 10_137
    first = fresh_client.get("/v1/boundary-markers").json()
    assert first["numberReturned"] == 1000  # the default page
    features, pages = _follow(fresh_client, "/v1/boundary-markers", limit=10_000)
    assert len({f["id"] for f in features}) == len(features) == total
    assert pages == 2


def test_paging_parameters_are_checked(client: TestClient) -> None:
    for params, status, word in (
        ({"limit": 0}, 422, "limit"),
        ({"limit": 10_001}, 422, "limit"),
        ({"offset": -1}, 422, "offset"),
        ({"after": "x"}, 400, "after"),
    ):
        got = client.get("/v1/boundary-markers", params=params)
        assert got.status_code == status, (params, got.text)
        assert word in str(got.json()["detail"]), got.text


def test_the_status_parameter_takes_the_statuses_the_database_allows(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()["paths"]["/v1/boundary-markers"]["get"]["parameters"]
    status = next(p for p in spec if p["name"] == "status")["schema"]["anyOf"][0]
    assert tuple(status["enum"]) == MARKER_STATUSES
