"""The Guangzhou sample: counts, topology, populations, facilities in their divisions, reproducibility."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from geo_service.db.engine import create_engine
from geo_service.services.sample_build import SAMPLE_FILES, build_sample
from geo_service.services.sample_load import load_sample
from tests.conftest import SAMPLE_DIR, run
from tests.conftest import sql as query


def test_sample_counts(sample_url: str) -> None:
    levels = dict(query(sample_url, "SELECT level, count(*) FROM divisions GROUP BY level"))
    assert levels == {"district": 11, "township": 178, "village": 2851}
    types = dict(
        query(sample_url, "SELECT type, count(*) FROM facilities WHERE status = 'active' GROUP BY type")
    )
    assert types == {
        "elderly_canteen": 1386,
        "social_work_station": 176,
        "social_work_point": 2807,
        "wedding_cert_point": 43,
        # the bureau's other networks (2024 report), migration 0012
        "community_station": 49,
        "assistance_platform": 40,
        "charity_supermarket": 14,
        "dementia_care_center": 7,
        "policy_observation_point": 23,
        "marriage_reform_village": 5,
    }
    assert query(sample_url, "SELECT count(*) FROM boundary_lines")[0][0] == 21
    assert query(sample_url, "SELECT count(*) FROM place_names WHERE status = 'approved'")[0][0] >= 300


def test_real_codes_and_names(sample_url: str) -> None:
    rows = dict(
        query(
            sample_url,
            "SELECT code, name FROM divisions WHERE code IN ('440106', '440103001', '440103001101')",
        )
    )
    assert rows == {"440106": "天河区", "440103001": "沙面街道", "440103001101": "翠洲社区居民委员会"}


# Coordinates are stored to 1e-7 degrees (about 1 cm), so where a generated border meets its parent's
# edge the two can disagree by a centimetre: "within" means within 1e-6 degrees (about 10 cm).
def test_children_lie_within_parents(sample_url: str) -> None:
    outside = query(
        sample_url,
        "SELECT c.code FROM divisions c JOIN divisions p ON p.code = c.parent_code "
        "WHERE NOT ST_CoveredBy(c.geom, ST_Buffer(p.geom, 1e-6))",
    )
    assert outside == []
    worst = query(
        sample_url,
        "SELECT max(ST_Area(ST_Difference(c.geom, p.geom)::geography) / ST_Area(c.geom::geography)) "
        "FROM divisions c JOIN divisions p ON p.code = c.parent_code",
    )[0][0]
    assert worst < 1e-4


def test_siblings_do_not_overlap(sample_url: str) -> None:
    overlap = query(
        sample_url,
        "SELECT coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom)::geography) "
        "/ least(ST_Area(a.geom::geography), ST_Area(b.geom::geography))), 0) FROM divisions a "
        "JOIN divisions b ON a.parent_code IS NOT DISTINCT FROM b.parent_code AND a.level = b.level "
        "AND a.code < b.code AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)",
    )[0][0]
    assert overlap < 1e-5, f"two siblings overlap by {overlap:.2e} of the smaller one"


def test_child_areas_sum_to_parent(sample_url: str) -> None:
    rows = query(
        sample_url,
        "SELECT p.code, ST_Area(p.geom::geography), sum(ST_Area(c.geom::geography)) FROM divisions p "
        "JOIN divisions c ON c.parent_code = p.code GROUP BY p.code, p.geom",
    )
    assert len(rows) == 11 + 178
    for code, parent_area, child_sum in rows:
        assert abs(child_sum - parent_area) / parent_area < 0.001, code


def test_district_areas_match_provenance(sample_url: str) -> None:
    areas = dict(
        query(
            sample_url, "SELECT name, ST_Area(geom::geography) / 1e6 FROM divisions WHERE level = 'district'"
        )
    )
    assert areas["越秀区"] == pytest.approx(33.6, rel=0.01)
    assert areas["从化区"] == pytest.approx(1984.0, rel=0.01)


def test_populations_sum_to_census(sample_url: str) -> None:
    rows = query(
        sample_url,
        "SELECT d.code, d.population, sum(v.population) FROM divisions d "
        "JOIN divisions v ON v.level = 'village' AND left(v.code, 6) = d.code "
        "WHERE d.level = 'district' GROUP BY d.code, d.population",
    )
    assert sum(r[1] for r in rows) == 18_676_605
    for code, census, villages in rows:
        assert census == villages, code
    towns = query(
        sample_url,
        "SELECT count(*) FROM divisions t WHERE t.level = 'township' AND t.population <> "
        "(SELECT sum(population) FROM divisions v WHERE v.parent_code = t.code)",
    )
    assert towns[0][0] == 0


def test_generated_data_says_so(sample_url: str) -> None:
    sources = dict(
        query(
            sample_url,
            "SELECT level, string_agg(DISTINCT geometry_source, ',') FROM divisions GROUP BY level",
        )
    )
    assert sources == {"district": "official", "township": "generated", "village": "generated"}
    assert (
        query(sample_url, "SELECT count(*) FROM facilities WHERE geometry_source <> 'generated'")[0][0] == 0
    )


def test_facilities_lie_in_their_divisions(sample_url: str) -> None:
    bad = query(
        sample_url,
        "SELECT count(*) FROM facilities f LEFT JOIN divisions v ON v.code = f.village_code "
        "WHERE v.code IS NULL OR NOT ST_Covers(v.geom, f.geom) OR left(f.village_code, 9) <> f.township_code "
        "OR left(f.township_code, 6) <> f.district_code",
    )
    assert bad[0][0] == 0


def test_one_station_per_township_and_44_villages_without_a_point(sample_url: str) -> None:
    per_town = query(
        sample_url,
        "SELECT t.kind, count(f.id) FROM divisions t LEFT JOIN facilities f ON f.township_code = t.code "
        "AND f.type = 'social_work_station' WHERE t.level = 'township' GROUP BY t.code, t.kind",
    )
    assert all(n == (0 if kind == "其他" else 1) for kind, n in per_town)
    lacking = query(
        sample_url,
        "SELECT count(*) FROM divisions v WHERE v.level = 'village' AND NOT EXISTS "
        "(SELECT 1 FROM facilities f WHERE f.village_code = v.code AND f.type = 'social_work_point')",
    )
    assert lacking[0][0] == 44


def test_boundary_lines_and_markers(sample_url: str) -> None:
    names = [r[0] for r in query(sample_url, "SELECT name FROM boundary_lines ORDER BY code")]
    assert "天河区—白云区" in names
    numbering = query(
        sample_url,
        "SELECT line_code, array_agg(number ORDER BY number) FROM boundary_markers GROUP BY line_code",
    )
    for _, numbers in numbering:
        assert numbers == [f"{i:03d}" for i in range(1, len(numbers) + 1)]
    # A marker's status is its latest inspection's.
    mismatched = query(
        sample_url,
        "SELECT count(*) FROM boundary_markers m JOIN LATERAL (SELECT status FROM marker_inspections i "
        "WHERE i.marker_id = m.id ORDER BY inspected_on DESC, id DESC LIMIT 1) last ON true "
        "WHERE last.status <> m.status",
    )
    assert mismatched[0][0] == 0
    statuses = {r[0] for r in query(sample_url, "SELECT DISTINCT status FROM boundary_markers")}
    assert "intact" in statuses and statuses & {"damaged", "missing"}


def test_load_is_idempotent(fresh_url: str) -> None:
    before = query(
        fresh_url,
        "SELECT (SELECT count(*) FROM divisions), (SELECT count(*) FROM facilities), "
        "(SELECT count(*) FROM marker_inspections), (SELECT count(*) FROM place_names)",
    )

    async def again() -> None:
        engine = create_engine(fresh_url, pool_size=1)
        try:
            await load_sample(engine, SAMPLE_DIR)
        finally:
            await engine.dispose()

    run(again())
    after = query(
        fresh_url,
        "SELECT (SELECT count(*) FROM divisions), (SELECT count(*) FROM facilities), "
        "(SELECT count(*) FROM marker_inspections), (SELECT count(*) FROM place_names)",
    )
    assert before == after


def test_build_reproduces_the_committed_files(tmp_path: Path) -> None:
    counts = build_sample(SAMPLE_DIR / "source", tmp_path)
    assert counts["divisions"] == 3040
    for name in SAMPLE_FILES:
        built = gpd.read_file(tmp_path / f"{name}.geojson")
        shipped = gpd.read_file(SAMPLE_DIR / f"{name}.geojson")
        assert len(built) == len(shipped), name
        assert built.drop(columns="geometry").equals(shipped.drop(columns="geometry")), name
        assert built.geometry.geom_equals_exact(shipped.geometry, tolerance=1e-7).all(), name
