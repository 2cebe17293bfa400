"""A back-office webhook receiver on loopback, for the demo: records each POST it gets and checks its
Standard Webhooks signature with gateway.signing.webhooks, as a real back-office would."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from gateway.signing.webhooks import WebhookVerificationError, verify


@dataclass(frozen=True, slots=True)
class Received:
    webhook_id: str
    event_type: str
    dossier_id: str | None
    signature_valid: bool


@dataclass
class WebhookReceiver:
    """`with WebhookReceiver() as hooks:` listens on 127.0.0.1 (a free port) until the block ends."""

    secret: str = field(default_factory=lambda: "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def _record(self, headers: dict[str, str], body: bytes) -> None:
        try:
            webhook_id, valid = verify(self.secret, headers, body), True
        except WebhookVerificationError:
            webhook_id, valid = headers.get("webhook-id", ""), False
        event: dict[str, Any] = json.loads(body) if valid else {}
        with self._lock:
            self.received.append(Received(webhook_id, event.get("type", "?"), event.get("dossier_id"), valid))

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """The first `count` deliveries, waiting for them at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        with self._lock:
            return list(self.received)

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver._record({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
