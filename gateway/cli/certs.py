"""`gateway certs ...`: the development PKI (docs/operations.md "Keys and certificates")."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli import main


@main.group()
def certs() -> None:
    """Development certificates (never for production)."""


@certs.command("init")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Target folder (default: the configured certs dir, certs/dev).",
)
@click.option("--force", is_flag=True, help="Renew every key and certificate.")
def init(directory: Path | None, force: bool) -> None:
    """Create the dev CA, server, signer and per-role client certificates; idempotent."""
    from gateway.config import Settings
    from gateway.devtools.pki import init_dev_pki

    target = directory if directory is not None else Settings().certs_dir
    init_dev_pki(target, force=force)
    click.echo(f"development PKI ready in {target}")
