"""Backups: a dump and a restore bring back every row and every geometry."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from geo_service.cli.main import app as cli
from tests.conftest import sql as query

CHECKSUMS = {
    "divisions": "SELECT count(*), md5(string_agg(code || ST_AsEWKB(geom)::text || coalesce(population, 0), ',' "
    "ORDER BY code)) FROM divisions",
    "facilities": "SELECT count(*), md5(string_agg(id || name || status || ST_AsEWKB(geom)::text, ',' ORDER BY id)) "
    "FROM facilities",
    "place_names": "SELECT count(*), md5(string_agg(id || name || ST_AsEWKB(geom)::text, ',' ORDER BY id)) "
    "FROM place_names",
    "marker_inspections": "SELECT count(*), md5(string_agg(id || status || inspected_on, ',' ORDER BY id)) "
    "FROM marker_inspections",
    "boundary_lines": "SELECT count(*), md5(string_agg(code || ST_AsEWKB(geom)::text, ',' ORDER BY code)) "
    "FROM boundary_lines",
}


def snapshot(url: str) -> dict[str, tuple]:
    return {table: query(url, sql)[0] for table, sql in CHECKSUMS.items()}


def test_dump_and_restore_round_trip(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEO_DATABASE_URL", fresh_url)
    runner = CliRunner()
    before = snapshot(fresh_url)
    dump = tmp_path / "backup.dump"
    result = runner.invoke(cli, ["db", "dump", str(dump)])
    assert result.exit_code == 0, result.output
    query(fresh_url, "UPDATE facilities SET status = 'closed' WHERE id < 100")
    query(fresh_url, "DELETE FROM marker_inspections WHERE id < 50")
    assert snapshot(fresh_url) != before
    refused = runner.invoke(cli, ["db", "restore", str(dump)])
    assert refused.exit_code == 1 and "--yes" in refused.output
    result = runner.invoke(cli, ["db", "restore", str(dump), "--yes"])
    assert result.exit_code == 0, result.output
    assert snapshot(fresh_url) == before
