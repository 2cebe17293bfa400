"""Hands the verified client certificate of a TLS connection to the app (uvicorn does not).

uvicorn builds the ASGI scope without the peer certificate (uvicorn issues #400, #2306). This
protocol class, passed to uvicorn as `http=`, reads it once per connection, right after the
handshake, and puts it in every request's scope as the ASGI TLS extension
(`scope["extensions"]["tls"]`), with `client_cert_der` (bytes) added for the leaf certificate.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.transport.http.corked import CorkedTransport
from gateway.transport.http.guard import (
    ConnectionGuard,
    GuardedEventLoop,
    GuardedProtocol,
    ServerLimits,
    connection_cap,
    raise_open_files_limit,
)

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> dict[str, Any] | None:
    """The ASGI TLS extension dict for a handshaken connection; None when it is not TLS."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    version = ssl_object.version()
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(version or ""),
        "cipher_suite": None,
        "client_cert_der": der or None,
    }


class PeerCertProtocol(GuardedProtocol, H11Protocol):
    """uvicorn's h11 protocol, plus the client certificate in `scope["extensions"]["tls"]`, and the
    head and body deadlines of `gateway.transport.http.guard` when the server runs its event loop."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard_connection(transport)
        # an answer's head and body in one TLS record and one send (gateway.transport.http.corked)
        self.transport = CorkedTransport(transport, asyncio.get_running_loop())  # type: ignore[assignment]
        tls = tls_extension(transport.get_extra_info("ssl_object"))
        if tls is None:
            return
        inner: ASGIApp = self.app

        async def app_with_tls(scope: Scope, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                # A fresh dict per request: the app must not see another connection's identity.
                scope["extensions"] = {**(scope.get("extensions") or {}), "tls": dict(tls)}
            await inner(scope, receive, send)

        self.app = app_with_tls

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self.watch_request()

    def on_response_complete(self) -> None:
        self.response_done()
        super().on_response_complete()
        self.watch_request()  # a pipelined request may have started

    def connection_lost(self, exc: Exception | None) -> None:
        self.unguard()
        super().connection_lost(exc)


class GuardedConfig(uvicorn.Config):
    """uvicorn settings whose event loop enforces `ServerLimits` (gateway.transport.http.guard)."""

    def __init__(self, app: Any, *, limits: ServerLimits, **kwargs: Any) -> None:
        super().__init__(
            app,
            timeout_keep_alive=max(1, round(limits.keep_alive_seconds)),
            h11_max_incomplete_event_size=limits.max_header_bytes,
            **kwargs,
        )
        self.limits = limits

    def get_loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        limits = self.limits
        cap = connection_cap(limits.max_connections, raise_open_files_limit())

        def new_loop() -> asyncio.AbstractEventLoop:
            return GuardedEventLoop(ConnectionGuard(limits, cap))

        return new_loop


def server_config(
    app: Any,
    *,
    host: str,
    port: int,
    certfile: Path,
    keyfile: Path,
    client_ca: Path,
    log_level: str = "info",
    access_log: bool = True,
    limits: ServerLimits | None = None,
) -> uvicorn.Config:
    """uvicorn settings for mutual TLS: a client certificate signed by `client_ca` is required.

    With `limits`, the server runs the guarded event loop (connection cap, deadlines)."""
    extra: dict[str, Any] = {"limits": limits} if limits is not None else {}
    return (GuardedConfig if limits is not None else uvicorn.Config)(
        app,
        host=host,
        port=port,
        http=PeerCertProtocol,
        ssl_certfile=str(certfile),
        ssl_keyfile=str(keyfile),
        ssl_ca_certs=str(client_ca),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        # scope["client"] must be the TCP peer: it decides who may send Client-Cert.
        proxy_headers=False,
        server_header=False,
        log_level=log_level,
        access_log=access_log,
        **extra,
    )
