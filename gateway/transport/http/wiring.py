"""Builds the HTTP app and its mutual-TLS server from Settings (called by `gateway serve`)."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from gateway.archive.store import Archive
from gateway.bootstrap import Gateway, build, build_console
from gateway.config import Settings
from gateway.console import ConsoleServices
from gateway.errors import Code, ConfigurationError, GatewayError
from gateway.infra.delivery import BackgroundDelivery
from gateway.infra.intake_pool import ValidationPool, validation_pool
from gateway.infra.intake_queue import IntakeQueue
from gateway.services.feed import EventFeed
from gateway.services.intake import IntakeServices
from gateway.services.ledger import Ledgers
from gateway.services.mandates import Mandates
from gateway.services.schedule import Schedules
from gateway.transport.http.app import create_app
from gateway.transport.http.guard import ServerLimits
from gateway.transport.http.identity import Authenticator, RoleMap, load_ca_certificates
from gateway.transport.http.metrics import Metrics
from gateway.transport.http.tls import server_config


def authenticator_from_settings(settings: Settings) -> Authenticator:
    try:
        role_map = RoleMap(settings.role_rules, dev_roles=settings.dev_roles)
    except ValueError as exc:
        raise ConfigurationError(
            f"GATEWAY_ROLE_RULES: {exc}", code=Code.CONFIGURATION, field="role_rules"
        ) from exc
    ca_file = settings.effective_client_ca
    proxy_ca = load_ca_certificates(ca_file.read_bytes()) if settings.trusted_proxies else []
    try:
        return Authenticator(role_map, trusted_proxies=settings.trusted_proxies, proxy_ca=proxy_ca)
    except ValueError as exc:
        raise ConfigurationError(
            f"GATEWAY_TRUSTED_PROXIES: {exc}", code=Code.CONFIGURATION, field="trusted_proxies"
        ) from exc


def directory_check(path: Path) -> Callable[[], None]:
    """Readiness of a folder the gateway writes to (the archive): it exists and is writable."""

    def check() -> None:
        if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
            raise OSError("archive folder missing or not writable")

    return check


def server_limits(settings: Settings) -> ServerLimits:
    return ServerLimits(
        max_connections=settings.max_connections,
        keep_alive_seconds=settings.keep_alive_seconds,
        header_timeout_seconds=settings.header_timeout_seconds,
        body_timeout_seconds=settings.body_timeout_seconds,
        max_header_bytes=settings.max_header_bytes,
    )


def require_tls_files(settings: Settings) -> None:
    for path in (settings.effective_tls_cert, settings.effective_tls_key, settings.effective_client_ca):
        if not path.is_file():
            raise ConfigurationError(
                f"{path} not found; run `gateway certs init` for development certificates",
                code=Code.CONFIGURATION,
                field=str(path),
            )


@dataclass
class Service:
    """The app, the composed gateway it serves and the uvicorn settings; `close()` when done."""

    app: FastAPI
    gateway: Gateway
    config: uvicorn.Config
    intake: IntakeQueue
    delivery: BackgroundDelivery | None = None  # the webhook worker; `gateway serve` starts it
    validation: ValidationPool | None = None

    def close(self) -> None:
        """Answer the titles already queued, stop the validation processes, close the gateway."""
        try:
            self.intake.close()
            if self.validation is not None:
                self.validation.shutdown(cancel_futures=True)
        finally:
            self.gateway.close()


def warm_up() -> None:
    """Import the source adapters and compile their schemas before the first request, not in it.

    Lazily, the first requests all wait on the import lock and the schema compilation (tens of
    milliseconds under load), which shows in the latency tail of a freshly started server.
    """
    from datetime import UTC, datetime

    from gateway.adapters.xmlcheck import SCHEMA_DIR
    from gateway.domain.transmission import SourceKind
    from gateway.services.validation import validate

    for kind in SourceKind:
        examples = sorted((SCHEMA_DIR / "examples").glob(f"{kind.value}-*"))
        for example in examples[:1]:
            # an example too old for today's rules has still loaded everything
            with contextlib.suppress(GatewayError):
                validate(kind, example.read_bytes(), received_at=datetime.now(UTC))


def tune_garbage_collector(young_threshold: int) -> None:
    """Collect the young generation less often, and never rescan what exists at start-up.

    With CPython's defaults a busy server ran a collection every few requests, and the full ones
    walk every object alive, the archive's index included: they made the p99 latency (139 ms vs
    50 ms at 16 clients in bench/README.md "Intake"). `gc.freeze()` moves the objects built at
    start-up (modules, schemas, the app) out of every later collection.
    """
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
    gc.collect()
    gc.freeze()


def build_service(settings: Settings, *, host: str | None = None, port: int | None = None) -> Service:
    require_tls_files(settings)
    warm_up()
    authenticator = authenticator_from_settings(settings)
    gateway = build(settings)
    try:
        delivery = gateway.background_delivery()
    except GatewayError:
        gateway.close()
        raise
    archive_dir = settings.effective_archive_dir
    # forked now, before uvicorn and the delivery worker start their threads
    validation = (
        validation_pool(gateway.intake, settings.intake_processes) if settings.intake_processes else None
    )
    # started after the fork above: the validation processes need no thread of it
    gateway.start_wal_checkpoints()
    metrics = Metrics()
    intake = IntakeQueue(
        gateway.intake,
        executor=validation,
        max_batch=settings.intake_max_batch,
        max_batch_bytes=settings.intake_max_batch_bytes,
        on_batch=metrics.intake_batch,
    )
    app = create_app(
        authenticator=authenticator,
        metrics=metrics,
        readiness={"store": gateway.store.ping, "archive": directory_check(archive_dir)},
        services={
            IntakeServices: gateway.intake,
            Ledgers: gateway.ledgers,
            Mandates: gateway.mandates,
            IntakeQueue: intake,
            EventFeed: gateway.feed,
            Schedules: gateway.schedules,
            Archive: gateway.archive,
            ConsoleServices: build_console(settings, gateway),
        },
        max_payload_bytes=settings.max_payload_bytes,
    )
    config = server_config(
        app,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        certfile=settings.effective_tls_cert,
        keyfile=settings.effective_tls_key,
        client_ca=settings.effective_client_ca,
        limits=server_limits(settings),
        log_level=settings.log_level.lower(),
    )
    return Service(app, gateway, config, intake, delivery, validation)
