"""Backups with PostgreSQL's own tools: pg_dump (custom format) and pg_restore."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from geo_service.db.embedded import EmbeddedError, find_pg_bin


def _tool(name: str) -> str:
    try:
        return str(find_pg_bin() / name)
    except EmbeddedError:
        found = shutil.which(name)
        if not found:
            raise EmbeddedError(
                f"{name} not found: install it with `apt-get install postgresql-client`"
            ) from None
        return found


def _connection(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = make_url(url)
    args = [
        "--host",
        parsed.host or "127.0.0.1",
        "--port",
        str(parsed.port or 5432),
        "--username",
        parsed.username or "postgres",
        "--dbname",
        parsed.database or "postgres",
    ]
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    return args, env


def dump(url: str, target: Path) -> int:
    """Write the whole database to ``target`` (pg_dump custom format); returns its size in bytes."""
    args, env = _connection(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [_tool("pg_dump"), *args, "--format", "custom", "--file", str(target)],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise EmbeddedError(f"pg_dump failed: {result.stderr.strip()}")
    return target.stat().st_size


def restore(url: str, source: Path) -> None:
    """Replace the database's contents by those of a dump (objects dropped and recreated, in one transaction)."""
    if not source.is_file():
        raise EmbeddedError(f"no dump at {source}")
    args, env = _connection(url)
    result = subprocess.run(
        [
            _tool("pg_restore"),
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            str(source),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise EmbeddedError(f"pg_restore failed: {result.stderr.strip()[:2000]}")
