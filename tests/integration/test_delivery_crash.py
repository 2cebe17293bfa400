"""`gateway deliver` killed with SIGKILL while a webhook is in flight: after a restart every event
reaches a real receiver on loopback, none is lost (one is posted twice: at least once), in order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gateway.archive.store import Archive
from gateway.signing.webhooks import WebhookVerificationError, verify
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import open_sql_store
from tests.unit.delivery.support import SECRET, add_events

pytestmark = pytest.mark.slow  # subprocesses, servers or kill -9: -m "not slow" leaves them out

EVENTS = 12
DOSSIERS = ["DOS-A", "DOS-B", "DOS-C", "DOS-D"]
HANG_ON_REQUEST = 5  # the worker is killed while this request waits for its answer


@dataclass
class Receiver:
    """A back-office on 127.0.0.1: verifies every request; holds one without answering."""

    received: list[int] = field(default_factory=list)  # event ids, as bodies arrived
    answered: list[tuple[int, str | None]] = field(default_factory=list)  # (event id, dossier)
    refused: list[str] = field(default_factory=list)
    hanging: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int | None:
        try:
            verify(SECRET, headers, body)
        except WebhookVerificationError as exc:
            self.refused.append(str(exc))
            return 400
        event = json.loads(body)
        with self.lock:
            self.received.append(int(event["id"]))
            hang = len(self.received) == HANG_ON_REQUEST
        if hang:
            self.hanging.set()
            self.release.wait(30)
            return None  # the worker is dead by now: nobody to answer
        with self.lock:
            self.answered.append((int(event["id"]), event["dossier_id"]))
        return 200


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            status = state.handle(dict(self.headers.items()), body)
            if status is None:
                return
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hooks/back-office"
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "deliver"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_kill_9_mid_delivery_then_restart_delivers_every_event(
    tmp_path: Path, dev_pki: Path, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    data = tmp_path / "var"
    database = f"sqlite:///{data / 'gateway.sqlite3'}"
    store = open_sql_store(database)
    add_events(store, [DOSSIERS[n % len(DOSSIERS)] for n in range(EVENTS)])
    env = {
        **os.environ,
        "GATEWAY_DATA_DIR": str(data),
        "GATEWAY_CERTS_DIR": str(dev_pki),
        "GATEWAY_DATABASE_URL": database,
        "GATEWAY_WEBHOOKS": json.dumps([{"url": url, "secret": SECRET, "id": "bo"}]),
        "GATEWAY_WEBHOOK_TIMEOUT_SECONDS": "2",
        "GATEWAY_DELIVERY_LEASE_SECONDS": "4",
        "GATEWAY_DELIVERY_POLL_SECONDS": "0.05",
        "GATEWAY_WEBHOOK_BACKOFF_BASE_SECONDS": "0.1",
    }
    log = tmp_path / "worker.log"

    first = start_worker(env, log)
    try:
        assert state.hanging.wait(30), log.read_text()
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    state.release.set()

    in_flight = state.received[HANG_ON_REQUEST - 1]
    deliveries = SqlDeliveries(store)
    stuck = next(r for r in deliveries.list_rows() if r.event_id == in_flight)
    # The dead worker's claim is still there: only its lease will let another worker take it.
    assert (stuck.status, stuck.attempts) == ("pending", 1)
    assert stuck.locked_until is not None
    assert deliveries.counts()["delivered"] == HANG_ON_REQUEST - 1

    second = start_worker(env, log)
    try:
        wait_for(lambda: len({e for e, _ in state.answered}) == EVENTS, 30)
        second.send_signal(signal.SIGTERM)  # a clean stop after the current attempt
        assert second.wait(15) == 0, log.read_text()
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()

    assert state.refused == []
    assert sorted({e for e, _ in state.answered}) == list(range(1, EVENTS + 1))
    assert state.received.count(in_flight) == 2  # posted again after the crash: at least once
    for dossier in DOSSIERS:
        answered = [e for e, d in state.answered if d == dossier]
        assert answered == sorted(answered), dossier  # one dossier's events arrive in order
    assert deliveries.counts() == {"pending": 0, "delivered": EVENTS, "dead": 0}
    with Archive.open(database, data / "archive" / "blobs") as archive:
        kinds = [archive.entry(i).kind for i in range(archive.size)]
    # Every completed attempt is archived; the one cut by SIGKILL never completed.
    assert kinds == ["webhook-delivery"] * EVENTS
    store.close()
