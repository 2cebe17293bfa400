"""`gateway serve` runs the delivery worker beside HTTPS: an event committed to the outbox is both
in the mTLS feed and pushed, signed, to the configured webhook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from gateway.signing.webhooks import verify
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import open_sql_store
from tests.e2e.harness import free_port, tls_context, wait_until_ready
from tests.unit.delivery.support import SECRET, add_events

pytestmark = pytest.mark.slow  # subprocesses, servers or kill -9: -m "not slow" leaves them out


def test_serve_pushes_outbox_events_and_serves_the_feed(e2e_pki: Path, tmp_path: Path) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(
                (dict(self.headers.items()), self.rfile.read(int(self.headers["content-length"])))
            )
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    hooks = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    port = free_port()
    database = f"sqlite:///{tmp_path / 'var' / 'gateway.sqlite3'}"
    env = {
        **os.environ,
        "GATEWAY_CERTS_DIR": str(e2e_pki),
        "GATEWAY_DATA_DIR": str(tmp_path / "var"),
        "GATEWAY_DATABASE_URL": database,
        "GATEWAY_WEBHOOKS": json.dumps(
            [{"url": f"http://127.0.0.1:{hooks.server_address[1]}/in", "secret": SECRET, "id": "bo"}]
        ),
        "GATEWAY_DELIVERY_POLL_SECONDS": "0.05",
    }
    command = [sys.executable, "-m", "gateway", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    store = None
    try:
        with httpx.Client(
            base_url=f"https://localhost:{port}", verify=tls_context(e2e_pki, "backoffice")
        ) as client:
            wait_until_ready(client, proc)
            store = open_sql_store(database, migrate=False)
            add_events(store, ["DOS-1"])  # as any service committing a change would

            deadline = time.monotonic() + 20
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
            ((headers, body),) = received
            assert verify(SECRET, headers, body) == "evt_1"
            (event,) = client.get("/v1/feed").json()["events"]
            assert {k: v for k, v in json.loads(body).items() if k != "timestamp"} == event
        # The receiver answered before the worker recorded it: wait for the row.
        deadline = time.monotonic() + 10
        while SqlDeliveries(store).counts()["delivered"] != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert SqlDeliveries(store).counts() == {"pending": 0, "delivered": 1, "dead": 0}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout:
            proc.stdout.close()
        if store is not None:
            store.close()
        hooks.shutdown()
        hooks.server_close()
    assert proc.returncode == 0
