"""`gateway ingest`: the full intake of one title on the configured store, as the HTTP endpoint does it."""

from __future__ import annotations

import json
import sys

import click

from gateway.cli import main
from gateway.cli.validate import SOURCES, read_input


@main.command("ingest")
@click.option("--source", type=click.Choice(SOURCES), required=True, help="Who sends the title.")
@click.option("--sender", default=None, help="Sender identity recorded in the receipt (default: cli:SOURCE).")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
def ingest_command(source: str, sender: str | None, files: tuple[str, ...]) -> None:
    """Validate, store, sign, archive and publish each FILE; print one signed receipt JSON per file.

    Exit 0 when every file is accepted (or a duplicate), 1 when any is rejected (its problem JSON,
    with the signed rejection receipt, is printed instead)."""
    from gateway.bootstrap import build
    from gateway.config import Settings
    from gateway.errors import GatewayError
    from gateway.intake import receive

    try:
        gateway = build(Settings())
    except GatewayError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc
    rejected = False
    with gateway:
        for file in files:
            try:
                data = read_input(file)
            except OSError as exc:
                raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
            result = receive(gateway.intake, source, data, sender=sender or f"cli:{source}")
            if result.outcome == "rejected":
                rejected = True
                click.echo(json.dumps(result.problem, ensure_ascii=False))
            else:
                click.echo(
                    json.dumps({"outcome": result.outcome, **result.signed_receipt()}, ensure_ascii=False)
                )
    sys.exit(1 if rejected else 0)
