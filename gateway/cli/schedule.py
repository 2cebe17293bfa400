"""`gateway schedule DOSSIER --from --to`: what a dossier owes per month and per child."""

from __future__ import annotations

import json

import click

from gateway.cli import composed, main


@main.command("schedule")
@click.argument("dossier_id")
@click.option("--from", "start", required=True, help="First month, YYYY-MM.")
@click.option("--to", "end", required=True, help="Last month, YYYY-MM (included).")
def schedule_command(dossier_id: str, start: str, end: str) -> None:
    """Print DOSSIER's schedule as JSON, the document of `GET /v1/dossiers/{id}/schedule`: per
    month and per child the amount due after revaluation, with the index values used, or the
    month held (`index-missing`) when one is not known. Exit 1 with one line on a bad month or an
    unknown dossier."""
    from gateway.errors import GatewayError
    from gateway.payments.schedule_view import period_range

    try:
        period_range(start, end)  # a bad month is said before the gateway is opened
        with composed() as gw:
            document = gw.schedules.of(dossier_id, start, end)
    except GatewayError as exc:
        param = {"from": "--from", "to": "--to"}.get(exc.field, exc.field)
        raise click.ClickException(f"{exc.code} ({param}): {exc.message}") from None
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))
