"""`gateway healthcheck`: ask a running `gateway serve` whether it is alive (or ready), over the same
mutual TLS as every caller; what the container's HEALTHCHECK runs."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli import current_settings, failure, main
from gateway.errors import Code

_FILE = click.Path(dir_okay=False, path_type=Path)


@main.command()
@click.option(
    "--url", default=None, help="Default: https://127.0.0.1:GATEWAY_PORT/healthz (/readyz with --ready)."
)
@click.option("--ready", is_flag=True, help="Readiness (store and archive reachable) instead of liveness.")
@click.option(
    "--cert",
    type=_FILE,
    envvar="GATEWAY_HEALTHCHECK_CERT",
    default=None,
    help="Client certificate (env GATEWAY_HEALTHCHECK_CERT; default: the certs dir's backoffice.pem).",
)
@click.option(
    "--key",
    type=_FILE,
    envvar="GATEWAY_HEALTHCHECK_KEY",
    default=None,
    help="Its key (env GATEWAY_HEALTHCHECK_KEY).",
)
@click.option(
    "--ca", type=_FILE, default=None, help="CA of the server's certificate (default: GATEWAY_CLIENT_CA)."
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
def healthcheck(
    *, url: str | None, ready: bool, cert: Path | None, key: Path | None, ca: Path | None, timeout: float
) -> None:
    """Exit 0 when the gateway answers 200, 1 otherwise (one line saying what failed)."""
    import ssl

    import httpx

    from gateway.errors import ConfigurationError
    from gateway.infra.webhook_sender import transport_failure

    settings = current_settings()
    target = url or f"https://127.0.0.1:{settings.port}/{'readyz' if ready else 'healthz'}"
    cert = cert or settings.certs_dir / "backoffice.pem"
    key = key or cert.with_name(cert.stem + "-key.pem")
    try:
        context = ssl.create_default_context(cafile=str(ca or settings.effective_client_ca))
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"cannot load the health check's certificate {cert}, key {key} or CA: {exc.strerror or exc}",
            field="--cert",
        ) from None
    try:
        with httpx.Client(verify=context, timeout=timeout) as client:
            answer = client.get(target)
    except httpx.HTTPError as exc:
        failure.fail("gateway healthcheck", Code.UNHEALTHY, transport_failure(exc, target))
    if answer.status_code != 200:
        failure.fail("gateway healthcheck", Code.UNHEALTHY, f"{target} answered {answer.status_code}")
    click.echo(f"healthy: {target} answered 200")
