"""The feed over real mutual TLS: a greffe posts a title, the back-office reads its event from
`GET /v1/feed` and receives the same document by signed webhook; other roles are refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gateway.archive.store import Archive
from gateway.signing.cms import verify_detached
from gateway.signing.webhooks import verify
from tests.e2e.harness import Clients, served_gateway
from tests.unit.delivery.support import SECRET, endpoint, make_worker

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "greffe-1.xml"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the example's dates are recent then


@pytest.fixture
def served(tmp_path: Path, dev_pki: Path) -> Iterator[tuple[Clients, Any, Archive]]:
    with served_gateway(tmp_path, dev_pki, now=NOW) as found:
        yield found


@pytest.fixture
def back_office() -> Iterator[tuple[list[tuple[dict[str, str], bytes]], str]]:
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((dict(self.headers.items()), self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got, f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_an_accepted_title_reaches_the_back_office_by_feed_and_by_webhook(
    served: tuple[Clients, Any, Archive],
    back_office: tuple[list[tuple[dict[str, str], bytes]], str],
    dev_pki: Path,
) -> None:
    clients, store, archive = served
    posted = clients.as_("greffe").post(
        "/v1/greffe/transmissions", content=EXAMPLE.read_bytes(), headers={"content-type": "application/xml"}
    )
    assert posted.status_code == 201, posted.text
    dossier_id = posted.json()["receipt"]["dossier_id"]

    answer = clients.get("backoffice", "/v1/feed", params={"after": "0", "limit": "10"})
    assert answer.status_code == 200
    page = answer.json()
    (event,) = page["events"]
    assert (event["id"], event["type"], event["dossier_id"]) == ("1", "dossier.accepted", dossier_id)
    assert event["created_at"] == "2026-11-23T10:00:00Z"
    assert event["data"]["dossier"]["dossier_id"] == dossier_id
    assert (page["next"], page["has_more"]) == ("1", False)
    assert clients.get("backoffice", "/v1/feed", params={"after": page["next"]}).json()["events"] == []

    # The same event pushed to a webhook subscription, signed, with the same document.
    got, url = back_office
    worker = make_worker(
        store,
        clock=lambda: datetime.now(UTC),
        endpoints=[endpoint(url=url)],
        archive=archive,
        signer=archive.signer,
    )
    try:
        assert worker.drain().delivered == 1
    finally:
        worker.sender.close()
    ((headers, body),) = got
    assert verify(SECRET, headers, body) == "evt_1"
    pushed = json.loads(body)
    assert {k: v for k, v in pushed.items() if k != "timestamp"} == event
    # The attempt is archived with the gateway's CMS signature over the exact bytes sent.
    entry = archive.entry(archive.size - 1)
    assert (entry.kind, entry.metadata["event_id"], entry.metadata["status_code"]) == (
        "webhook-delivery",
        "1",
        "204",
    )
    assert archive.blob(entry.blob_sha256) == body
    assert entry.signature_sha256 is not None
    verify_detached(archive.blob(entry.signature_sha256), body, ca_file=dev_pki / "ca.pem")


@pytest.mark.parametrize("identity", ["greffe", "notaire", "avocat"])
def test_other_roles_may_not_read_the_feed(served: tuple[Clients, Any, Archive], identity: str) -> None:
    clients, _, _ = served
    answer = clients.get(identity, "/v1/feed")
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["code"] == "forbidden-role"
