"""Pages of facilities in a box, through the grid index, against plain Python over every facility.

The expected answer is computed from each facility's coordinates as read with ``ST_X``/``ST_Y`` (not from
the stored ``lon``/``lat``/``grid_cell`` columns the service reads): a facility is in a box when
minx <= x <= maxx and miny <= y <= maxy (edges included), and small boxes list them by (cell, id).
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geo_service.db import point_grid
from geo_service.services.features_query import GRID_MOST_CELLS
from tests.conftest import sql as query

TYPE, COLLECTION = "social_work_point", "social-work-points"
STEP = 1 / point_grid.CELLS_PER_DEGREE


def _edge(k: int) -> float:
    """A longitude on a cell edge, as the grid computes edges."""
    return k / point_grid.CELLS_PER_DEGREE - 180


def _add_cluster(url: str) -> list[tuple[float, float]]:
    """Facilities on and beside cell edges near (113.3, 23.1), some a hair outside a cell or a box edge."""
    kx, ky = math.floor(293.3 * 400), math.floor(113.1 * 400)
    xs = [
        _edge(kx),
        _edge(kx + 1),
        math.nextafter(_edge(kx + 1), -math.inf),
        _edge(kx) + STEP / 2,
        113.3012345,
    ]
    ys = [ky / 400 - 90, (ky + 1) / 400 - 90, math.nextafter((ky + 1) / 400 - 90, math.inf), 23.1003]
    points = [(x, y) for x in xs for y in ys]
    values = ", ".join(
        f"('{TYPE}', 'edge {i}', 'active', 'generated', ST_SetSRID(ST_MakePoint({x!r}, {y!r}), 4326))"
        for i, (x, y) in enumerate(points)
    )
    query(url, f"INSERT INTO facilities (type, name, status, geometry_source, geom) VALUES {values}")
    return points


def _facilities(url: str) -> list[tuple[int, float, float, str | None]]:
    return [
        (r[0], r[1], r[2], r[3])
        for r in query(
            url,
            "SELECT id, ST_X(geom), ST_Y(geom), district_code FROM facilities WHERE type = :t",
            t=TYPE,
        )
    ]


def _expected(
    rows: list[tuple[int, float, float, str | None]], box: tuple[float, float, float, float]
) -> list[int]:
    minx, miny, maxx, maxy = box
    inside = [(i, x, y) for i, x, y, _ in rows if minx <= x <= maxx and miny <= y <= maxy]
    return [i for _, i in sorted((point_grid.cell_of(x, y), i) for i, x, y in inside)]


def _walk(client: TestClient, params: dict[str, Any]) -> tuple[list[int], list[dict[str, Any]]]:
    """Every page from the first, following next links; the ids in order and the bodies."""
    resp = client.get(f"/collections/{COLLECTION}/items", params=params)
    ids: list[int] = []
    bodies = []
    while True:
        assert resp.status_code == 200, resp.text
        body = resp.json()
        bodies.append(body)
        ids += [f["id"] for f in body["features"]]
        nxt = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        if nxt is None:
            return ids, bodies
        resp = client.get(nxt)


def _bbox(box: tuple[float, float, float, float]) -> str:
    return ",".join(repr(v) for v in box)


def test_stored_cells_are_the_cells_python_computes(fresh_url: str) -> None:
    _add_cluster(fresh_url)
    rows = query(fresh_url, "SELECT grid_cell, ST_X(geom), ST_Y(geom), lon, lat FROM facilities")
    assert len(rows) > 4000
    mismatched = [r for r in rows if r[0] != point_grid.cell_of(r[1], r[2]) or (r[3], r[4]) != (r[1], r[2])]
    assert mismatched == []
    edge = query(fresh_url, "SELECT count(DISTINCT grid_cell) FROM facilities WHERE name LIKE 'edge %'")[0][0]
    assert edge >= 4  # the cluster straddles cell edges


def test_small_boxes_page_through_the_grid_exactly(fresh_url: str, fresh_client: TestClient) -> None:
    points = _add_cluster(fresh_url)
    rows = _facilities(fresh_url)
    rng = random.Random(7)
    boxes: list[tuple[float, float, float, float]] = []
    for size in (0.0004, 0.003, 0.01, 0.03, 0.07):
        for _ in range(4):
            _, x, y, _ = rng.choice(rows)
            dx, dy = rng.uniform(0, size), rng.uniform(0, size)
            boxes.append((x - dx, y - dy, x - dx + size, y - dy + size))
    x0, y0 = points[0]
    boxes += [
        (x0, y0, x0 + STEP, y0 + STEP),  # edges on cell edges: points on all four edges are inside
        (x0 - 0.01, y0 - 0.01, math.nextafter(x0, -math.inf), y0 + 0.01),  # a hair short of a column
        (113.3012345, 23.1003, 113.3012345, 23.1003),  # a box that is a point
        (x0 - 0.02, y0 - 0.02, x0 + 0.02, y0 + 0.02),
    ]
    pages = 0
    for box in boxes:
        cells = point_grid.cells_covering(box, GRID_MOST_CELLS)
        assert cells is not None and len(cells) <= GRID_MOST_CELLS
        expected = _expected(rows, box)
        ids, bodies = _walk(fresh_client, {"bbox": _bbox(box), "limit": 4})
        assert ids == expected, box
        pages += len(bodies)
        assert all(b["numberReturned"] == len(b["features"]) for b in bodies)
    assert pages > len(boxes) * 2  # most boxes took several pages
    # The box a hair short of x0 leaves out the facilities at x0, which && (float4 boxes) let in.
    on_x0 = [i for i, x, y, _ in rows if x == x0 and y0 - 0.01 <= y <= y0 + 0.01]
    assert on_x0 and not set(on_x0) & set(_expected(rows, boxes[-3]))


def test_grid_pages_with_filters_offset_and_the_last_page(fresh_url: str, fresh_client: TestClient) -> None:
    _add_cluster(fresh_url)
    rows = _facilities(fresh_url)
    box = (113.25, 23.08, 113.32, 23.14)
    assert point_grid.cells_covering(box, GRID_MOST_CELLS) is not None
    district = "440104"
    in_district = [r for r in rows if r[3] == district]
    expected = _expected(in_district, box)
    assert len(expected) > 8
    ids, _ = _walk(fresh_client, {"bbox": _bbox(box), "district_code": district, "limit": 3})
    assert ids == expected
    page = fresh_client.get(
        f"/collections/{COLLECTION}/items",
        params={"bbox": _bbox(box), "district_code": district, "offset": 5, "limit": 10_000},
    ).json()
    assert [f["id"] for f in page["features"]] == expected[5:]
    assert page["numberMatched"] == len(expected)


def test_large_boxes_and_other_point_layers_are_exact_too(fresh_url: str, fresh_client: TestClient) -> None:
    points = _add_cluster(fresh_url)
    rows = _facilities(fresh_url)
    x0, y0 = points[0]
    box = (x0 - 0.3, y0 - 0.3, math.nextafter(x0, -math.inf), y0 + 0.3)  # too many cells: the id-ordered path
    assert point_grid.cells_covering(box, GRID_MOST_CELLS) is None
    expected = sorted(_expected(rows, box))
    ids, _ = _walk(fresh_client, {"bbox": _bbox(box), "limit": 500})
    assert ids == expected and len(ids) > 100
    markers = query(fresh_url, "SELECT id, ST_X(geom), ST_Y(geom) FROM boundary_markers ORDER BY id")
    mid, mx, my = markers[len(markers) // 2]
    for box in ((mx, my, mx + 0.1, my + 0.1), (mx - 0.1, my - 0.1, math.nextafter(mx, -math.inf), my + 0.1)):
        minx, miny, maxx, maxy = box
        want = [i for i, x, y in markers if minx <= x <= maxx and miny <= y <= maxy]
        got = fresh_client.get(
            "/collections/boundary-markers/items", params={"bbox": _bbox(box), "limit": 10_000}
        ).json()
        assert [f["id"] for f in got["features"]] == want
        assert (mid in want) == (maxx >= mx)


@pytest.mark.parametrize("after", ["123", "12-x", "1-2-3", "-5", "99999999999999999999-1"])
def test_a_cursor_that_is_not_a_grid_cursor_is_refused(fresh_client: TestClient, after: str) -> None:
    resp = fresh_client.get(
        f"/collections/{COLLECTION}/items", params={"bbox": "113.25,23.08,113.27,23.10", "after": after}
    )
    assert resp.status_code == 400
    assert "next link" in resp.json()["detail"]
