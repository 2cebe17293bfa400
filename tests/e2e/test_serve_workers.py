"""`gateway serve --workers 2`: processes share the port, the SQLite file and the archive correctly."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from gateway.archive import Archive, verify_archive
from gateway.signing.cms import load_trust_anchors
from tests.e2e.harness import free_port, tls_context, wait_until_ready

pytestmark = pytest.mark.slow  # subprocesses, servers or kill -9: -m "not slow" leaves them out

EXAMPLE = (Path(__file__).resolve().parents[2] / "schemas" / "examples" / "greffe-1.xml").read_bytes()


def title(number: int) -> bytes:
    return EXAMPLE.replace(b"26/01842", f"26/W{number:05d}".encode())


def test_two_workers_accept_concurrent_titles_once_each_and_stop_cleanly(
    e2e_pki: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "GATEWAY_CERTS_DIR": str(e2e_pki), "GATEWAY_DATA_DIR": str(tmp_path / "var")}
    entry = "from gateway.cli import main; main()"
    command = [sys.executable, "-c", entry, "serve", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"https://localhost:{port}"
    try:
        with httpx.Client(base_url=url, verify=tls_context(e2e_pki, "greffe"), timeout=30) as client:
            wait_until_ready(client, proc)

        def post(number: int) -> tuple[int, dict[str, object]]:
            # a client per thread: several connections, so both workers take some
            with httpx.Client(base_url=url, verify=tls_context(e2e_pki, "greffe"), timeout=30) as http:
                answer = http.post(
                    "/v1/greffe/transmissions",
                    content=title(number % 20),
                    headers={"content-type": "application/xml"},
                )
                return answer.status_code, answer.json()

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(post, range(60)))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == 0, stderr
    statuses = [status for status, _body in answers]
    assert statuses.count(201) == 20, statuses  # each distinct title accepted exactly once
    assert statuses.count(200) == 40
    by_title: dict[int, set[str]] = {}
    for number, (_status, body) in enumerate(answers):
        receipt = body["receipt"]
        assert isinstance(receipt, dict)
        by_title.setdefault(number % 20, set()).add(json.dumps(receipt, sort_keys=True))
    assert all(len(receipts) == 1 for receipts in by_title.values())  # duplicates get the first receipt
    with sqlite3.connect(tmp_path / "var" / "gateway.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM dossiers").fetchone() == (20,)
        assert db.execute("SELECT count(*) FROM events").fetchone() == (20,)
    var = tmp_path / "var"
    anchors = load_trust_anchors(e2e_pki / "ca.pem")
    url = f"sqlite:///{var / 'gateway.sqlite3'}"
    with Archive.open(url, var / "archive" / "blobs") as archive, archive.store.read() as uow:
        report = verify_archive(uow.connection, archive.blobs, trust_anchors=anchors)
    assert report.ok, report.problems
    assert report.entries == 60 + 20 * 2  # every payload, each new dossier and its receipt
    assert report.checkpoints >= 1  # each worker signs one at exit
