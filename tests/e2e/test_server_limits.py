"""Server limits under attack (issue 12, item 5), on a real `gateway serve`: 1,100 idle connections
with 1,024 open files, a head or a body sent one byte at a time, and the accept-error log."""

from __future__ import annotations

import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from gateway.transport.http.guard import connection_cap
from tests.e2e.harness import free_port, tls_context, wait_until_ready


@contextmanager
def serving(pki: Path, tmp: Path, *, files: int | None = None, **settings: str) -> Iterator[tuple[int, Path]]:
    """`gateway serve` in a subprocess (with RLIMIT_NOFILE `files`); yields its port and its log."""
    port = free_port()
    env = {**os.environ, "GATEWAY_CERTS_DIR": str(pki), "GATEWAY_DATA_DIR": str(tmp / "var")}
    env |= {f"GATEWAY_{k.upper()}": v for k, v in settings.items()}

    def limit() -> None:
        if files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=limit,  # noqa: PLW1509 - setrlimit in the child only; it calls nothing else
        )  # fmt: skip
        try:
            with httpx.Client(base_url=f"https://localhost:{port}", verify=tls_context(pki, "greffe")) as c:
                wait_until_ready(c, proc)
            yield port, log
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def healthz_seconds(pki: Path, port: int) -> float:
    started = time.monotonic()
    with httpx.Client(
        base_url=f"https://localhost:{port}", verify=tls_context(pki, "greffe"), timeout=10
    ) as client:
        assert client.get("/healthz").status_code == 200
    return time.monotonic() - started


def test_a_fresh_request_is_answered_with_1100_idle_connections_and_1024_files(
    e2e_pki: Path, tmp_path: Path
) -> None:
    idle: list[socket.socket] = []
    with serving(e2e_pki, tmp_path, files=1024) as (port, log):
        try:
            for _ in range(1100):  # plain TCP, no handshake, no certificate: nothing to identify
                sock = socket.socket()
                sock.setblocking(False)
                with suppress(BlockingIOError):
                    sock.connect(("127.0.0.1", port))
                idle.append(sock)
            time.sleep(1)
            for _ in range(3):
                assert healthz_seconds(e2e_pki, port) < 5
                time.sleep(1)
        finally:
            for sock in idle:
                sock.close()
        text = log.read_text(errors="replace")
    assert "Traceback" not in text
    assert log.stat().st_size < 20_000, text[-2000:]  # no flood (it was 178 MB in 30 s)
    assert f"at most {connection_cap(1000, 1024)} at once" in text


def raw_tls(pki: Path, port: int) -> ssl.SSLSocket:
    context = tls_context(pki, "greffe")
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    sock.settimeout(10)
    return sock


def closed_after(sock: ssl.SSLSocket, send: bytes, *, every: float, limit: float) -> float:
    """Send `send` one byte every `every` seconds; how long until the server closed the connection."""
    started = time.monotonic()
    try:
        for byte in send:
            sock.sendall(bytes([byte]))
            time.sleep(every)
            if time.monotonic() - started > limit:
                return float("inf")
        return float("inf") if sock.recv(1) else time.monotonic() - started
    except (ConnectionError, ssl.SSLError, OSError):
        return time.monotonic() - started


@pytest.mark.parametrize("part", ["head", "body"])
def test_a_request_sent_one_byte_at_a_time_is_cut(e2e_pki: Path, tmp_path: Path, part: str) -> None:
    head = b"POST /v1/greffe/transmissions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/xml\r\n"
    head += b"Content-Length: 1000\r\n\r\n"
    with serving(e2e_pki, tmp_path, header_timeout_seconds="2", body_timeout_seconds="3") as (port, log):
        with raw_tls(e2e_pki, port) as sock:
            if part == "head":
                took = closed_after(sock, head, every=0.2, limit=15)
                assert 1.5 < took < 4, took
            else:
                sock.sendall(head)
                took = closed_after(sock, b"<" * 1000, every=0.2, limit=15)
                assert 2.5 < took < 5, took
        # and the server still answers
        assert healthz_seconds(e2e_pki, port) < 2
    assert f"request {part} too slow" in log.read_text()


def test_an_idle_handshake_is_cut_and_keep_alive_is_a_setting(e2e_pki: Path, tmp_path: Path) -> None:
    with serving(e2e_pki, tmp_path, header_timeout_seconds="1", keep_alive_seconds="1") as (port, _log):
        with socket.create_connection(("127.0.0.1", port)) as sock:  # never starts TLS
            sock.settimeout(10)
            started = time.monotonic()
            assert sock.recv(1) == b""
            assert time.monotonic() - started < 3
        with raw_tls(e2e_pki, port) as tls:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            started = time.monotonic()
            answer = b""
            while chunk := tls.recv(4096):  # the answer, then the end of the stream
                answer += chunk
            assert b" 200 " in answer
            assert time.monotonic() - started < 3  # idle after the answer: closed
