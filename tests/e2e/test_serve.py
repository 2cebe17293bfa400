"""`gateway serve` as an operator runs it: settings from GATEWAY_*, SQLite under the data dir."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.harness import free_port, tls_context


def test_gateway_serve_answers_over_mutual_tls(e2e_pki: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY_CERTS_DIR": str(e2e_pki),
        "GATEWAY_DATA_DIR": str(tmp_path / "var"),
    }
    entry = "from gateway.cli import main; main()"
    command = [sys.executable, "-c", entry, "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(
            base_url=f"https://localhost:{port}", verify=tls_context(e2e_pki, "greffe")
        ) as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    ready = client.get("/readyz")
                    break
                except httpx.ConnectError:
                    assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                    assert time.monotonic() < deadline, "gateway serve did not start"
                    time.sleep(0.1)
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"store": "ok", "archive": "ok"}
            assert client.get("/v1/whoami").json()["role"] == "greffe"
        assert (tmp_path / "var" / "gateway.sqlite3").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
