"""`gateway sepa ...`: the monthly collection (pain.008), the payouts (pain.001), mandates, files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click

from gateway.cli import composed, main
from gateway.cli.progress import Progress
from gateway.domain.money import format_euros


@main.group("sepa")
def sepa() -> None:
    """SEPA files: collect from debtor parents, pay creditor parents."""


def _report(report: Any) -> None:
    total = format_euros(report.total_cents)
    click.echo(
        json.dumps(
            {
                "message_id": report.message_id,
                "file": str(report.file) if report.file else None,
                "transactions": report.count,
                "total": total,
                "sent_to": report.channel_ref,
                "skipped": report.skipped,
                "refused": [i.as_dict() for i in report.refused],
                # dossiers left waiting, by reason (all of them: `gateway mandates pending`)
                "waiting": {reason: found.to_json() for reason, found in report.waiting.items()},
                "held": [i.as_dict() for i in getattr(report, "held", [])],  # index-missing months
                "revalued": getattr(report, "revalued", 0),  # pension.revalued events published
                # dossiers read from their canonical JSON: no collection profile (docs/collection-run.md)
                "exact_path": getattr(report, "exact_path", 0),
                # debits issued in SQL from the dossiers' steady spans (docs/collection-run.md)
                "from_spans": getattr(report, "from_spans", 0),
            },
            indent=2,
        )
    )


def _now() -> datetime:
    return datetime.now(UTC)


@sepa.command("debits")
@click.option("--period", required=True, help="The month to collect, YYYY-MM.")
@click.option(
    "--version",
    type=click.Choice(["pain.008.001.08", "pain.008.001.02"]),
    default="pain.008.001.08",
    show_default=True,
)
def debits_command(period: str, version: str) -> None:
    """Collect PERIOD: one SDD Core debit per dossier due that month, in one pain.008 file,
    validated against the official XSD, signed, archived and dropped on the bank channel.
    Running the same period again never makes a second debit for a dossier."""
    from gateway.sepa.ids import period_key
    from gateway.sepa.model import Pain008Version

    try:
        period_key(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    with composed(batch=True) as gw:
        with gw.store.read() as uow:
            total = uow.payments.count_dossiers()
        with Progress(f"dossiers for {period}", total=total) as bar:
            report = gw.sepa.debits(period, version=Pain008Version(version), progress=bar.update)
    _report(report)


@sepa.command("credits")
@click.option(
    "--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Execution date."
)
@click.option(
    "--version",
    type=click.Choice(["pain.001.001.09", "pain.001.001.03"]),
    default="pain.001.001.09",
    show_default=True,
)
def credits_command(day: datetime, version: str) -> None:
    """Pay creditor parents on DATE what was actually collected (settled debits not yet paid out),
    in one pain.001 file (purpose ALMY), validated, signed, archived and sent."""
    from gateway.sepa.model import Pain001Version

    with composed(batch=True) as gw, Progress(f"settled debits read for {day.date()}") as bar:
        report = gw.sepa.credits(day.date(), version=Pain001Version(version), progress=bar.update)
    _report(report)


@sepa.command("mandate-account")
@click.argument("dossier_id")
@click.option("--iban", required=True)
@click.option("--bic", default=None)
@click.option("--holder", default=None, help="Account holder (default: unchanged).")
def mandate_account_command(dossier_id: str, iban: str, bic: str | None, holder: str | None) -> None:
    """The debtor parent moved DOSSIER_ID's collections to another account (signed today): the
    mandate stays, and the next debit carries the amendment (EPC130-08 AT-24: original IBAN, or
    SMNDA for a new bank). The mandate must be signed first (`gateway mandates sign`)."""
    from gateway.cli.mandates import with_gateway
    from gateway.services.mandates import change_debtor_account

    amendment = with_gateway(
        lambda gw: change_debtor_account(gw.store, dossier_id, iban=iban, bic=bic, holder=holder, now=_now())
    )
    click.echo(json.dumps({"dossier_id": dossier_id, "pending_amendment": amendment}))


@sepa.command("files")
def files_command() -> None:
    """The SEPA files emitted so far (message id, kind, label, count, total, where sent)."""
    with composed() as gw, gw.store.read() as uow:
        rows = [
            (r.message_id, r.kind, r.label, str(r.count), format_euros(r.total_cents), r.channel_ref or "")
            for r in uow.payments.files()
        ]
    if not rows:
        click.echo("no SEPA file emitted yet ('gateway sepa debits --period YYYY-MM' makes one)", err=True)
        return
    for line in table(_FILES_HEADER, rows, right=_FILES_RIGHT):
        click.echo(line)


_FILES_HEADER = ("message id", "kind", "label", "transactions", "total EUR", "sent to")
_FILES_RIGHT = frozenset({3, 4})  # numbers are right-aligned


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], *, right: frozenset[int]) -> list[str]:
    """Aligned columns under a header.

    >>> table(("a", "count"), [("x", "12"), ("yyy", "3")], right=frozenset({1}))
    ['a    count', 'x       12', 'yyy      3']
    """
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def fit(cells: tuple[str, ...]) -> str:
        placed = (
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(placed).rstrip()

    return [fit(header), *(fit(row) for row in rows)]
