"""Coordinate conversion: every test vector of DOMAIN.md, round trips, and CRS names."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo_service.domain import crs

GEOD = Geod(ellps="WGS84")

VECTORS = [
    (crs.wgs84_to_gcj02, (121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    (crs.wgs84_to_gcj02, (113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    (crs.wgs84_to_gcj02, (116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    (crs.wgs84_to_gcj02, (123, 45), (123.00607541, 45.00197815)),
    (crs.gcj02_to_wgs84, (123, 45), (122.99395597, 44.99804071)),
    (crs.gcj02_to_bd09, (123, 45), (123.00636499, 45.00636899)),
    (crs.bd09_to_gcj02, (123, 45), (122.99363304, 44.99365430)),
    (crs.bd09_to_wgs84, (123, 45), (122.98762210, 44.99171540)),
    (crs.wgs84_to_bd09, (123, 45), (123.0124491, 45.0083293)),
    (crs.wgs84_to_gcj02, (183, 45), (183, 45)),
]


@pytest.mark.parametrize(("fn", "given_xy", "expected"), VECTORS)
def test_published_vectors(fn, given_xy, expected) -> None:
    lon, lat = fn(*given_xy)
    # The published inverse vectors come from iterations stopped at ~1e-7 degrees; ours goes further.
    _, _, dist = GEOD.inv(float(lon), float(lat), *expected)
    assert dist < 0.05, f"{fn.__name__}{given_xy} is {dist:.3f} m from the published vector"


def test_forward_vectors_to_the_published_digits() -> None:
    lon, lat = crs.wgs84_to_gcj02(121.5272106, 31.1774276)
    assert float(lon) == pytest.approx(121.531541859215, abs=1e-9)
    assert float(lat) == pytest.approx(31.17530398364597, abs=1e-9)


def test_offset_in_guangzhou_is_hundreds_of_metres() -> None:
    lon, lat = crs.wgs84_to_gcj02(113.3245, 23.1064)
    _, _, dist = GEOD.inv(113.3245, 23.1064, float(lon), float(lat))
    assert 400 < dist < 800


@settings(max_examples=300, deadline=None)
@given(st.floats(73.0, 135.0), st.floats(3.0, 53.0))
def test_gcj02_inverse_round_trips_below_half_a_metre(lon: float, lat: float) -> None:
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    _, _, dist = GEOD.inv(lon, lat, float(back[0]), float(back[1]))
    assert dist < 0.5


@settings(max_examples=200, deadline=None)
@given(st.floats(73.0, 135.0), st.floats(3.0, 53.0))
def test_bd09_round_trips(lon: float, lat: float) -> None:
    back = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
    _, _, dist = GEOD.inv(lon, lat, float(back[0]), float(back[1]))
    assert dist < 0.5


def test_vectorised_arrays() -> None:
    # The DOMAIN.md vectors converted in one call, with a point outside China among them.
    vectors = [(src, out) for fn, src, out in VECTORS if fn is crs.wgs84_to_gcj02]
    assert len(vectors) >= 3
    lons = np.array([src[0] for src, _ in vectors] + [183.0])
    lats = np.array([src[1] for src, _ in vectors] + [45.0])
    glon, glat = crs.wgs84_to_gcj02(lons, lats)
    assert glon.shape == glat.shape == (len(vectors) + 1,)
    assert glon[-1] == 183.0 and glat[-1] == 45.0
    for i, (_, out) in enumerate(vectors):
        _, _, dist = GEOD.inv(out[0], out[1], float(glon[i]), float(glat[i]))
        assert dist < 0.05, (i, dist)


def test_geometry_conversion_both_ways() -> None:
    poly = shapely.box(113.2, 23.0, 113.4, 23.2)
    there = crs.geometry_from_wgs84(poly, "gcj02")
    back = crs.geometry_to_wgs84(there, "gcj02")
    assert not there.equals_exact(poly, 1e-4)
    assert back.equals_exact(poly, 1e-8)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WGS84", "wgs84"),
        ("gcj-02", "gcj02"),
        ("BD09", "bd09"),
        ("cgcs2000", "cgcs2000"),
        ("EPSG:4326", "wgs84"),
        ("epsg:4490", "cgcs2000"),
        ("EPSG:4547", "EPSG:4547"),
    ],
)
def test_normalize_crs(name: str, expected: str) -> None:
    assert crs.normalize_crs(name) == expected


@pytest.mark.parametrize("name", ["mars", "EPSG:", "EPSG:abc", ""])
def test_unknown_crs_names_say_what_is_accepted(name: str) -> None:
    with pytest.raises(crs.UnknownCRS, match="wgs84, cgcs2000, gcj02, bd09"):
        crs.normalize_crs(name)
