"""A real mutual-TLS server on loopback for end-to-end tests: uvicorn in a thread, httpx clients."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from gateway.archive.store import Archive
from gateway.delivery.feed import EventFeed
from gateway.infra.intake_queue import IntakeQueue
from gateway.services.intake import IntakeServices
from gateway.signing.cms import Signer
from gateway.store import SqlStore, open_sql_store
from gateway.transport.http import Authenticator, RoleMap, create_app
from gateway.transport.http.tls import server_config


def wait_until_ready(
    client: httpx.Client, proc: subprocess.Popen[bytes], *, seconds: float = 30
) -> httpx.Response:
    """Poll GET /readyz of a `gateway serve` subprocess until it answers 200; fail at once if the
    process died (with what it printed), or after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            answer = client.get("/readyz")
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            stream = proc.stdout or proc.stderr
            printed = stream.read().decode(errors="replace") if stream else ""
            raise AssertionError(f"gateway serve exited with {proc.returncode}: {printed}")
        assert time.monotonic() < deadline, "gateway serve did not become ready"
        time.sleep(0.1)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(app: FastAPI, pki: Path, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` over mutual TLS with the PKI in `pki`; yields the base URL."""
    port = free_port(host)
    config = server_config(
        app,
        host=host,
        port=port,
        certfile=pki / "server.pem",
        keyfile=pki / "server-key.pem",
        client_ca=pki / "ca.pem",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"https://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def tls_context(pki: Path, identity: str | None) -> ssl.SSLContext:
    """Trusts the dev CA; presents `<identity>.pem` + `<identity>-key.pem` when given."""
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if identity is not None:
        context.load_cert_chain(pki / f"{identity}.pem", pki / f"{identity}-key.pem")
    return context


@dataclass
class Clients:
    """httpx clients of the test server, one per certificate, opened lazily and closed at the end."""

    base_url: str
    pki: Path

    def __post_init__(self) -> None:
        self._open: dict[tuple[str | None, str | None], httpx.Client] = {}

    def as_(self, identity: str | None, *, local_address: str | None = None) -> httpx.Client:
        key = (identity, local_address)
        if key not in self._open:
            transport = httpx.HTTPTransport(
                verify=tls_context(self.pki, identity), local_address=local_address
            )
            self._open[key] = httpx.Client(base_url=self.base_url, transport=transport, timeout=10)
        return self._open[key]

    def close(self) -> None:
        for client in self._open.values():
            client.close()

    def get(self, identity: str | None, path: str, **kwargs: Any) -> httpx.Response:
        return self.as_(identity).get(path, **kwargs)


@contextmanager
def served_gateway(folder: Path, pki: Path, *, now: datetime) -> Iterator[tuple[Clients, SqlStore, Archive]]:
    """The gateway's own app (intake, feed, dossiers, mandates) on a SQLite store and an archive
    in `folder`, served over mutual TLS with `pki`, its clock stopped at `now`."""
    store = open_sql_store(f"sqlite:///{folder / 'gw.sqlite3'}")
    signer = Signer.from_files(pki / "signer.pem", pki / "signer-key.pem")
    archive = Archive(store, folder / "archive", signer=signer)
    intake = IntakeServices(store=store, signer=signer, archive=archive, clock=lambda: now)
    queue = IntakeQueue(intake)
    app = create_app(
        authenticator=Authenticator(RoleMap()),
        services={IntakeServices: intake, IntakeQueue: queue, EventFeed: EventFeed(store), Archive: archive},
    )
    try:
        with running_server(app, pki) as base_url:
            clients = Clients(base_url, pki)
            try:
                yield clients, store, archive
            finally:
                clients.close()
    finally:
        queue.close()
        archive.close()
        store.close()
