"""The staff-only vector tiles of pending proposals (issue #18): a proposal's stored warnings (words in one
language, shown in the reader's language by the other views) are left out of its tiles, and the tiles' metadata
lists only what the tiles hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyogrio
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape

from geo_service.services.tiles import POINT_DETAIL_ZOOM, tile_of
from tests.test_naming_messages import ZH, propose
from tests.writes_helpers import auth, big_village, line_in, make_keys


@pytest.fixture
def keys(fresh_url: str) -> dict[str, str]:
    return make_keys(fresh_url)


def _proposals_tile(client: TestClient, key: str, lon: float, lat: float, tmp_path: Path) -> Any:
    z = POINT_DETAIL_ZOOM
    y, x = tile_of(lon, lat, z)
    resp = client.get(
        f"/collections/place-name-proposals/tiles/WebMercatorQuad/{z}/{y}/{x}", headers={**auth(key), **ZH}
    )
    assert resp.status_code == 200, resp.text
    # No warning in any form: not its rule, not its English words.
    assert b"specific_repeats" not in resp.content and b"is used by" not in resp.content
    path = tmp_path / "proposals.mvt"
    path.write_bytes(resp.content)
    return pyogrio.read_dataframe(path, layer="place-name-proposals", X=str(x), Y=str(y), Z=str(z))


def test_a_proposals_tile_keeps_its_own_properties_and_no_stored_warning_words(
    fresh_client: TestClient,
    fresh_url: str,
    keys: dict[str, str],
    tmp_path: Path,
) -> None:
    c, surveyor, reviewer = fresh_client, keys["surveyor"], keys["reviewer"]
    village = big_village(fresh_url)
    first = propose(c, surveyor, "罗仙路", line_in(fresh_url, village))
    second = propose(c, surveyor, "罗仙大道", line_in(fresh_url, village, 0.004))
    assert second["properties"]["warnings"]  # it repeats the first one's specific part: a stored warning
    lon, lat = shape(second["geometry"]).representative_point().coords[0]
    frame = _proposals_tile(c, reviewer, lon, lat, tmp_path)
    names = set(frame["name"])
    assert {"罗仙路", "罗仙大道"} <= names and names <= {"罗仙路", "罗仙大道"}, names
    english = f"the specific part '罗仙' is used by '罗仙路' (id {first['id']})"
    for column in frame.columns:
        if column != "geometry":
            assert english not in {str(v) for v in frame[column]}, column
    assert "warnings" not in frame.columns and not {"rule", "message", "values"} & set(frame.columns)

    base = "/collections/place-name-proposals/tiles/WebMercatorQuad"
    tilejson = c.get(f"{base}/tilejson.json", headers=auth(reviewer))
    tileset = c.get(base, headers=auth(reviewer))
    assert tilejson.status_code == 200 and tileset.status_code == 200, (tilejson.text, tileset.text)
    fields = tilejson.json()["vector_layers"][0]["fields"]
    schema = tileset.json()["layers"][0]["propertiesSchema"]["properties"]
    assert "warnings" not in fields and "warnings" not in schema, fields
    assert set(fields) == set(schema)
    assert set(frame.columns) - {"mvt_id", "geometry"} <= set(fields) and "proposed_by" in fields
