"""Standard GIS clients with their defaults under the default rate limit: GDAL's OAPIF driver copies every layer.

GDAL 3.6 (Debian's gdal-bin; scripts/system-deps.sh --with-browser installs it) pages by 10 and follows next
links; ``ogrinfo -so`` reads the feature count from ``numberMatched``. The counts are checked against the
database's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyogrio
import pytest
from fastapi.testclient import TestClient

from geo_service.api.app import create_app
from geo_service.settings import Settings
from tests.conftest import IN_CI, LiveServer, settings_for
from tests.conftest import sql as query

#: The SQL counting each public layer that is not a facility type (facility layers: one per type, below).
STATIC_LAYERS = {
    "districts": "SELECT count(*) FROM divisions WHERE level = 'district'",
    "townships": "SELECT count(*) FROM divisions WHERE level = 'township'",
    "villages": "SELECT count(*) FROM divisions WHERE level = 'village'",
    "boundary-lines": "SELECT count(*) FROM boundary_lines",
    "boundary-markers": "SELECT count(*) FROM boundary_markers",
    "place-names": "SELECT count(*) FROM place_names WHERE status = 'approved' AND rename_of IS NULL",
    "place-name-signs": "SELECT count(*) FROM place_name_signs",
}


def _layers(base: str, url: str) -> dict[str, int]:
    """Every collection the service lists to the public, with the database's count of its features."""
    listed = [c["id"] for c in httpx.get(f"{base}/collections").json()["collections"]]
    types = dict(query(url, "SELECT collection, code FROM facility_types"))
    counts = {}
    for layer in listed:
        if layer in STATIC_LAYERS:
            counts[layer] = query(url, STATIC_LAYERS[layer])[0][0]
        else:
            counts[layer] = query(url, "SELECT count(*) FROM facilities WHERE type = :t", t=types[layer])[0][
                0
            ]
    assert len(counts) >= 11 and set(STATIC_LAYERS) <= set(counts)
    return counts


needs_gdal = pytest.mark.skipif(
    shutil.which("ogr2ogr") is None and not IN_CI, reason="GDAL (gdal-bin) is not installed"
)


@pytest.fixture(scope="module")
def limited_server(sample_url: str) -> Iterator[LiveServer]:
    """The service with the default rate limit (the test settings switch it off elsewhere)."""
    defaults = Settings.model_fields
    with LiveServer(
        sample_url,
        rate_limit_per_minute=defaults["rate_limit_per_minute"].default,
        rate_limit_burst=defaults["rate_limit_burst"].default,
    ) as server:
        yield server


def _gdal(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "OFF"}
    return subprocess.run(args, capture_output=True, text=True, timeout=600, env=env, check=False)


@needs_gdal
def test_ogrinfo_reads_every_count_from_the_first_page(limited_server: LiveServer, sample_url: str) -> None:
    for layer, expected in _layers(limited_server.base, sample_url).items():
        done = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{limited_server.base}/", layer)
        assert done.returncode == 0, done.stderr
        assert f"Feature Count: {expected}\n" in done.stdout, (layer, done.stdout[-500:])


@needs_gdal
def test_ogr2ogr_copies_every_layer_with_its_defaults(
    limited_server: LiveServer, sample_url: str, tmp_path: Path
) -> None:
    for layer, expected in _layers(limited_server.base, sample_url).items():
        out = tmp_path / f"{layer}.gpkg"
        done = _gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{limited_server.base}/", layer)
        assert done.returncode == 0, (layer, done.stderr[-2000:])
        info = pyogrio.read_info(out)
        assert info["features"] == expected, layer


def test_next_pages_cost_a_fraction_by_their_size(sample_url: str) -> None:
    settings = settings_for(sample_url, rate_limit_per_minute=6, rate_limit_burst=5)
    with TestClient(create_app(settings)) as c:
        url: str | None = "/collections/villages/items?limit=10"
        pages = 0
        while url and pages < 60:  # 60 pages of 10: 3 requests' worth
            resp = c.get(url)
            assert resp.status_code == 200, resp.text
            url = next((link["href"] for link in resp.json()["links"] if link["rel"] == "next"), None)
            pages += 1
        assert pages == 60
        # a large page costs a whole request, and first pages always do: the limit still holds
        big = [c.get("/collections/villages/items?limit=1000&after=440").status_code for _ in range(5)]
        assert 429 in big
        assert c.get("/collections/villages/items?limit=10").status_code == 429
