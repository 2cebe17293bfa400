"""`gateway serve` (HTTPS with mutual TLS) and `gateway openapi` (the API document on stdout)."""

from __future__ import annotations

import click

from gateway.cli import main


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
