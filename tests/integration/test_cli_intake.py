"""`gateway validate` and `gateway ingest` as a user runs them (docs/contract.md), in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "schemas" / "examples"


def gateway(
    *args: str, cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.mark.parametrize(
    ("source", "name"),
    [("greffe", "greffe-1.xml"), ("notaire", "notaire-1.xml"), ("avocat", "avocat-1.json")],
)
def test_validate_prints_canonical_dossier(tmp_path: Path, source: str, name: str) -> None:
    done = gateway(
        "validate", "--source", source, str(EXAMPLES / name), "--today", "2026-11-23", cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    dossier = json.loads(done.stdout)
    assert dossier["schema"] == "urn:fr:ifpa:dossier:1"
    assert dossier["source"]["kind"] == source
    assert dossier["received_at"] == "2026-11-23T00:00:00Z"
    assert not list(tmp_path.iterdir())  # no storage, nothing written


def test_validate_lists_every_error_and_exits_1(tmp_path: Path) -> None:
    data = (EXAMPLES / "greffe-1.xml").read_bytes()
    bad = data.replace(b"<TypeTitre>1</TypeTitre>", b"<TypeTitre>5</TypeTitre>").replace(
        b"<NombreEnfants>", b"<NombreEnfants>9"
    )
    done = gateway("validate", "--source", "greffe", "-", "--today", "2026-11-23", cwd=tmp_path, stdin=bad)
    assert done.returncode == 1
    problem = json.loads(done.stdout)
    assert problem["status"] == 422
    found = {(e["code"], e["field"]) for e in problem["errors"]}
    assert ("title-kind-not-allowed", "Decision/TypeTitre") in found
    assert ("totals-mismatch", "Totaux/NombreEnfants") in found


def test_validate_malformed_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    done = gateway("validate", "--source", "avocat", "-", cwd=tmp_path, stdin=b"{not json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["errors"][0]["code"] == "malformed-payload"
    assert b"Traceback" not in done.stderr


def test_ingest_accepts_then_answers_duplicate_and_archive_verifies(tmp_path: Path, dev_pki: Path) -> None:
    env = {"GATEWAY_CERTS_DIR": str(dev_pki)}
    example = str(EXAMPLES / "greffe-1.xml")
    done = gateway("ingest", "--source", "greffe", example, example, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert (first["outcome"], second["outcome"]) == ("accepted", "duplicate")
    assert first["receipt"] == second["receipt"]
    assert (tmp_path / "var" / "gateway.sqlite3").exists()
    verify = gateway("archive", "verify", cwd=tmp_path, env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_ingest_rejection_exits_1_with_signed_rejection(tmp_path: Path, dev_pki: Path) -> None:
    env = {"GATEWAY_CERTS_DIR": str(dev_pki)}
    done = gateway("ingest", "--source", "notaire", "-", cwd=tmp_path, env=env, stdin=b"<nope/>")
    assert done.returncode == 1
    problem = json.loads(done.stdout)
    assert problem["errors"][0]["code"] == "schema-violation"
    assert problem["receipt"]["status"] == "rejected"
    assert problem["signature"]
