"""`gateway serve` as an operator runs it: settings from GATEWAY_*, SQLite under the data dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import free_port, tls_context, wait_until_ready

pytestmark = pytest.mark.slow  # subprocesses, servers or kill -9: -m "not slow" leaves them out

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "greffe-1.xml"


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.parametrize("processes", [None, "0", "2"])
def test_gateway_serve_answers_over_mutual_tls(e2e_pki: Path, tmp_path: Path, processes: str | None) -> None:
    """Validation in the default one process beside the server, in the server itself, or in two."""
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY_CERTS_DIR": str(e2e_pki),
        "GATEWAY_DATA_DIR": str(tmp_path / "var"),
    }
    if processes is not None:
        env["GATEWAY_INTAKE_PROCESSES"] = processes
    entry = "from gateway.cli import main; main()"
    command = [sys.executable, "-c", entry, "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(
            base_url=f"https://localhost:{port}", verify=tls_context(e2e_pki, "greffe")
        ) as client:
            ready = wait_until_ready(client, proc)
            assert ready.json()["checks"] == {"store": "ok", "archive": "ok"}
            assert client.get("/v1/whoami").json()["role"] == "greffe"
            posted = client.post(
                "/v1/greffe/transmissions",
                content=EXAMPLE.read_bytes(),
                headers={"content-type": "application/xml"},
            )
            assert posted.status_code == 201, posted.text
            assert len(children(proc.pid)) == int(processes or 1)  # the validation processes
            metrics = client.get("/metrics").text
            assert "gateway_intake_batch_size_count 1.0" in metrics
        assert (tmp_path / "var" / "gateway.sqlite3").is_file()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        output = proc.stdout.read().decode() if proc.stdout else ""
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == 0, output  # queue drained, validation processes stopped, archive closed


def serve_in_own_group(e2e_pki: Path, tmp_path: Path, port: int, workers: str) -> subprocess.Popen[bytes]:
    """`gateway serve` in a process group of its own, as a terminal's Ctrl-C would reach it."""
    env = {**os.environ, "GATEWAY_CERTS_DIR": str(e2e_pki), "GATEWAY_DATA_DIR": str(tmp_path / "var")}
    entry = "from gateway.cli import main; main()"
    command = [sys.executable, "-c", entry, "serve", "--port", str(port), "--workers", workers]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )


def ctrl_c(proc: subprocess.Popen[bytes]) -> str:
    """Ctrl-C to the whole group; what the processes printed once they ended (killed after 30 s)."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        output = proc.stdout.read().decode() if proc.stdout else ""
        if proc.stdout:
            proc.stdout.close()
    return output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_every_process_cleanly(e2e_pki: Path, tmp_path: Path, workers: str) -> None:
    """Ctrl-C signals the whole process group: server(s) and validation processes alike."""
    port = free_port()
    proc = serve_in_own_group(e2e_pki, tmp_path, port, workers)
    try:
        with httpx.Client(
            base_url=f"https://localhost:{port}", verify=tls_context(e2e_pki, "greffe")
        ) as client:
            wait_until_ready(client, proc)
    finally:
        output = ctrl_c(proc)
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output


@pytest.mark.parametrize("delay", [0.0, 0.1, 0.2, 0.4, 0.7, 1.0])
def test_ctrl_c_while_starting_stops_every_process_cleanly(
    e2e_pki: Path, tmp_path: Path, delay: float
) -> None:
    """Ctrl-C that comes while the servers are still forking their validation processes (`delay`
    after `serve` forked its first server, before they answer): every process stops, exit status
    0, no traceback. A Ctrl-C landing in a validation process before it ignored Ctrl-C used to
    break its pool and end with a traceback. (A Ctrl-C while Python is still importing the command
    line, before `serve` runs, is Python's own KeyboardInterrupt: not what this tests.)"""
    proc = serve_in_own_group(e2e_pki, tmp_path, free_port(), "2")
    deadline = time.monotonic() + 30
    while not children(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(delay)
    output = ctrl_c(proc)
    assert proc.returncode == 0, output
    assert "Traceback" not in output, output
