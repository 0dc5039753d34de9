"""Every row rule of a facility file (issue #18: the row checks split into small functions, behaviour kept):
over HTTP through the bulk import, each bad row named with its rule, in the reader's language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.writes_helpers import auth, make_keys, point_in


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def test_each_bad_row_is_named_with_its_rule(
    fresh_client: TestClient, fresh_url: str, keys: dict[str, str]
) -> None:
    x, y = point_in(fresh_url, "440106")["coordinates"]
    rows = [
        f'禾雀好饭堂,"POINT ({x} {y})",active,80',  # row 2: fine
        f'禾雀线饭堂,"LINESTRING ({x} {y}, {x + 0.01} {y})",active,80',  # row 3: not a point
        f'禾雀怪饭堂,"POINT ({x + 0.01} {y})",nonsense,80',  # row 4: no such status
        f'禾雀多饭堂,"POINT ({x + 0.02} {y})",active,many',  # row 5: capacity not a number
        f',"POINT ({x + 0.03} {y})",active,80',  # row 6: no name
    ]
    content = ("name,wkt,status,capacity\r\n" + "\r\n".join(rows) + "\r\n").encode()

    def send(lang: dict[str, str]) -> list[tuple[int, str, str]]:
        resp = fresh_client.post(
            "/v1/facilities/import",
            headers={**auth(keys["editor"]), **lang},
            data={"type": "elderly_canteen", "crs": "wgs84"},
            files={"file": ("rows.csv", content, "text/csv")},
        )
        assert resp.status_code == 422, resp.text
        return [(e["row"], e["rule"], e["message"]) for e in resp.json()["errors"]]

    en = send({})
    assert [(row, rule) for row, rule, _ in en] == [
        (3, "geometry"),
        (4, "status"),
        (5, "capacity"),
        (6, "name"),
    ]
    assert en[0][2] == "row 3 (禾雀线饭堂): a facility is a point, not a LineString"
    assert en[2][2] == "row 5 (禾雀多饭堂): capacity is not a number"
    zh = send({"Accept-Language": "zh"})
    assert [(row, rule) for row, rule, _ in zh] == [(row, rule) for row, rule, _ in en]
    assert "容量" in zh[2][2] and "禾雀多饭堂" in zh[2][2]
