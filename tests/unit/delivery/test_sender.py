"""The HTTP sender against real sockets on loopback: status codes, and a total deadline per attempt."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from gateway.devtools.pki import init_dev_pki
from gateway.infra.webhook_sender import HttpSender, retry_after
from gateway.services.ports import SendResult


def serve_once(handler: Callable[[socket.socket], None]) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            handler(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        listener.close()
        thread.join(timeout=5)


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return body


@pytest.fixture
def trickling() -> Iterator[str]:
    """A receiver that answers one header byte every 0.1 s: each read is quick, the whole is not."""
    done = threading.Event()

    def handler(conn: socket.socket) -> None:
        read_request(conn)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 100:
            if done.is_set():
                return
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return  # the sender gave up and closed: what we want
            time.sleep(0.1)

    yield from serve_once(handler)
    done.set()


@pytest.fixture
def untrusted_tls(tmp_path: Path) -> Iterator[str]:
    """A TLS receiver whose certificate comes from the dev CA, which the sender does not trust."""
    init_dev_pki(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server-key.pem")

    def handler(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the client gives up during the handshake
            context.wrap_socket(conn, server_side=True).close()

    yield from (url.replace("http://", "https://") for url in serve_once(handler))


@pytest.fixture
def accepting() -> Iterator[str]:
    def handler(conn: socket.socket) -> None:
        body = read_request(conn)
        answer = b"accepted " + str(len(body)).encode()
        conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))

    yield from serve_once(handler)


def test_a_trickling_receiver_is_cut_at_the_total_deadline(trickling: str) -> None:
    # Per-operation timeouts alone (1 s per read) would let this attempt run ~4 s; the lease
    # of a claimed delivery relies on the whole attempt ending at the deadline.
    with HttpSender(1.0) as sender:
        started = time.monotonic()
        result = sender.send(trickling, b"{}", {"content-type": "application/json"})
        elapsed = time.monotonic() - started
    assert result.error == "timeout"
    assert not result.ok
    assert elapsed < 1.8


def test_a_2xx_answer_is_success_and_the_body_is_sent_whole(accepting: str) -> None:
    with HttpSender(5.0) as sender:
        result = sender.send(accepting, b'{"x": "' + b"y" * 100_000 + b'"}', {})
    assert (result.ok, result.status_code, result.describe()) == (True, 202, "HTTP 202")


def test_nobody_listening_is_a_connect_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        with HttpSender(2.0) as sender:
            result = sender.send(f"http://127.0.0.1:{port}/hook", b"{}", {})
    # what failed and where, never the path (issue 14: it was just "ConnectError")
    assert (result.ok, result.status_code) == (False, None)
    assert result.error == f"connect error: connection refused to 127.0.0.1:{port}"


def test_an_unknown_host_is_named_by_host_and_port_only() -> None:
    with HttpSender(5.0) as sender:
        result = sender.send("http://no-such-host.invalid:8080/hooks/s3cr3t?token=x", b"{}", {})
    assert result.error == "connect error: host name not resolved to no-such-host.invalid:8080"


def test_a_receiver_with_an_untrusted_certificate_is_named(untrusted_tls: str) -> None:
    with HttpSender(5.0) as sender:
        result = sender.send(untrusted_tls, b"{}", {})
    assert result.error is not None
    assert result.error.startswith("connect error: certificate verify failed ("), result.error


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        ("Mon, 23 Nov 2026 10:05:00 GMT", timedelta(minutes=5)),
        ("Mon, 23 Nov 2026 09:00:00 GMT", timedelta(0)),  # in the past: at once
        ("999999999", timedelta(days=1)),  # capped
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_header(value: str, expected: timedelta | None) -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    headers = {"retry-after": value} if value else {}
    assert retry_after(headers, now=now) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.Response(204), SendResult(204)),
        (
            httpx.Response(503, headers={"Retry-After": "120"}),
            SendResult(503, retry_after=timedelta(seconds=120)),
        ),
        (httpx.Response(302, headers={"Location": "https://elsewhere.example/"}), SendResult(302)),
        (httpx.ReadTimeout("slow"), SendResult(None, "timeout")),
        (httpx.ConnectTimeout("slow"), SendResult(None, "timeout")),
        (httpx.ConnectError("refused"), SendResult(None, "connect error to bo.example:443")),
    ],
)
@respx.mock
def test_what_the_worker_is_told_of_each_answer(
    answer: httpx.Response | Exception, expected: SendResult
) -> None:
    # The worker's own behaviour on these outcomes: tests/unit/services/test_delivery_worker.py.
    route = respx.post("https://bo.example/hooks")
    route.mock(side_effect=[answer]) if isinstance(answer, Exception) else route.mock(return_value=answer)
    with HttpSender(2.0) as sender:
        result = sender.send("https://bo.example/hooks", b"{}", {"webhook-id": "evt_1"})
    assert result == expected
    assert result.ok == (expected.status_code == 204)
