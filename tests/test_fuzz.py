"""Fuzzing with Schemathesis against the service's own OpenAPI document, over real HTTP, with a bounded number
of examples per operation: no 5xx, and every response matches its documented status codes, content types and
schemas; invalid requests are rejected. (The coverage phase is left out: Schemathesis 4.32 fails inside
it on some of these schemas with an internal error of its own.)

Left out: whether a schema-valid request is accepted (facility types and division codes are data, which a
schema cannot state: a valid-looking unknown type is rightly a 400), and the Allow header of 405 answers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import LiveServer
from tests.writes_helpers import make_keys

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    )
)


def _schemathesis(base: str, tmp_path: Path, *extra: str) -> None:
    exe = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    # A generous timeout per request: the fuzzer asks for correctness (no 5xx, conforming answers), and a cold
    # siting map on a machine busy with other tests can take several seconds.
    args = ["run", f"{base}/openapi.json", "--checks", CHECKS, "--max-examples", "50", "--seed", "2024"]
    args += [
        "--generation-deterministic",
        "--workers",
        "2",
        "--phases",
        "examples,fuzzing",
        "--request-timeout",
        "60",
    ]
    result = subprocess.run([exe, *args, *extra], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    summary = result.stdout[-4000:]
    print("\n" + summary[summary.rfind("====", 0, summary.rfind("SUMMARY")) :].strip())  # for `pytest -s`
    assert result.returncode == 0, summary
    assert "Tested: " in result.stdout


def test_schemathesis_finds_nothing(live_server: LiveServer, tmp_path: Path) -> None:
    _schemathesis(live_server.base, tmp_path)


def test_schemathesis_with_an_admin_key_finds_nothing(fresh_url: str, tmp_path: Path) -> None:
    """The writes too, past the key check, on a private database (the fuzzer's writes change it)."""
    key = make_keys(fresh_url, "fuzz")["admin"]
    with LiveServer(fresh_url, sign_in_failure_pause_s=0) as server:
        _schemathesis(server.base, tmp_path, "--header", f"Authorization: Bearer {key}")
