"""`gateway ledger DOSSIER`: the dossier's ledger per month and per child, as the back-office reads it
over HTTP (`GET /v1/dossiers/{id}/ledger`): due, paid, unpaid, ASF complement (gross and net),
recoverable part, prescription date, follow-up deadlines, and the totals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

import click

from gateway.cli import main
from gateway.domain.money import format_euros

if TYPE_CHECKING:
    from gateway.payments.ledger import Ledger


def _cell(cents: int | None) -> str:
    return "-" if cents is None else format_euros(cents)


def ledger_lines(ledger: Ledger) -> Iterator[str]:
    """The ledger as a table: one line per month, one per child under it, then the totals."""
    yield f"ledger of {ledger.dossier_id} as of {ledger.as_of}"
    head = ("", "due", "paid", "unpaid", "ASF compl.", "net", "recoverable")
    yield f"  {head[0]:<24}" + "".join(f"{h:>12}" for h in head[1:]) + "  prescribed after / follow-up"
    for month in ledger.months:
        reason = f" {month.reason_code}" if month.reason_code else ""
        label = f"{month.period} {month.status}{reason}"
        follow = ""
        if month.follow_up is not None:
            deadlines = month.follow_up
            follow = f", notice by {deadlines.notice_due_by}, recovery from {deadlines.recovery_from}"
        prescribed = " PRESCRIBED" if month.prescribed else ""
        figures = (
            month.due_cents, month.paid_cents, month.unpaid_cents,
            month.complement_cents, month.complement_net_cents, month.recoverable_cents,
        )  # fmt: skip
        yield (
            f"  {label:<24}"
            + "".join(f"{_cell(c):>12}" for c in figures)
            + f"  {month.prescription_date}{prescribed}{follow}"
        )
        if month.asf_unavailable is not None:
            yield f"    ASF not computed: {month.asf_unavailable[0]}: {month.asf_unavailable[1]}"
        for child in month.children:
            asf = child.asf
            below = " (under 15 EUR: not paid)" if asf is not None and asf.below_threshold else ""
            cells = (
                child.due_cents, child.paid_cents, child.unpaid_cents,
                None if asf is None else asf.complement_cents,
                None if asf is None else asf.complement_net_cents,
                None if asf is None else asf.recoverable_cents,
            )  # fmt: skip
            yield f"    child {child.child + 1:<18}" + "".join(f"{_cell(c):>12}" for c in cells) + below
    totals = (
        ledger.due_cents, ledger.paid_cents, ledger.arrears_cents,
        ledger.complement_cents, ledger.complement_net_cents, ledger.recoverable_cents,
    )  # fmt: skip
    yield f"  {'total (arrears)':<24}" + "".join(f"{_cell(c):>12}" for c in totals)
    if ledger.prescribed_cents:
        yield f"  prescribed (art. 2224 C. civ.): {format_euros(ledger.prescribed_cents)} EUR no longer owed"


@main.command("ledger")
@click.argument("dossier_id")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="Default: today, Paris.")
@click.option("--json", "as_json", is_flag=True, help="The JSON document of GET /v1/dossiers/{id}/ledger.")
def ledger_command(dossier_id: str, as_of: str | None, as_json: bool) -> None:
    """DOSSIER_ID's ledger per month and per child: due, paid, unpaid, ASF complement (gross, and net
    of CRDS), recoverable part, prescription date, follow-up deadlines; totals. Exit 1 with
    `not-found` for an unknown dossier."""
    from gateway.cli.amounts import open_store
    from gateway.errors import NotFound
    from gateway.services.ledger import Ledgers

    try:
        day = None if as_of is None else date.fromisoformat(as_of)
    except ValueError:
        raise click.ClickException("invalid-date: --as-of must be a date YYYY-MM-DD (field as_of)") from None
    store = open_store()
    try:
        ledger = Ledgers(store).of(dossier_id, as_of=day)
    except NotFound:
        raise click.ClickException(f"not-found: no dossier {dossier_id} (field dossier_id)") from None
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(ledger.to_json(), ensure_ascii=False))
        return
    for line in ledger_lines(ledger):
        click.echo(line)
