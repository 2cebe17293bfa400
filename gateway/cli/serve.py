"""`gateway serve` (HTTPS with mutual TLS) and `gateway openapi` (the API document on stdout)."""

from __future__ import annotations

import signal
from types import FrameType

import click

from gateway.cli import main


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8443).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the HTTPS API; callers must present a client certificate from the configured CA."""
    import uvicorn
    from pydantic import ValidationError

    from gateway.config import Settings
    from gateway.errors import GatewayError
    from gateway.transport.http.wiring import build_service

    try:
        settings = Settings()
    except ValidationError as exc:
        fields = ", ".join("GATEWAY_" + "__".join(map(str, e["loc"])).upper() for e in exc.errors())
        raise click.ClickException(f"configuration-error: invalid setting(s) {fields}") from exc
    try:
        service = build_service(settings, host=host, port=port)
    except GatewayError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc
    if service.delivery is not None:
        service.delivery.start()  # webhook pushes beside the HTTP server (GATEWAY_DELIVER_IN_SERVE)
    # uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler it found:
    # with the default one the process would die before the `finally` below (worker stopped,
    # archive checkpointed); with this one the process ends through the `finally`, exit status 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        uvicorn.Server(service.config).run()
    finally:
        if service.delivery is not None:
            service.delivery.stop()
        service.gateway.close()


@main.command()
def openapi() -> None:
    """Print the OpenAPI document of the HTTP API (JSON), as `make openapi` stores it."""
    from gateway.transport.http.openapi import openapi_json

    click.echo(openapi_json(), nl=False)
