"""`gateway amounts`: the amounts in force on a day (BMAF, ASF gross and net, penalty, RSA, source),
the whole table, and an operator adding next year's row (kept in the store for every replica)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import click

from gateway.cli import current_settings, main
from gateway.domain.money import format_euros
from gateway.errors import GatewayError

if TYPE_CHECKING:
    from gateway.payments.amounts import AmountsRow, AmountsTable
    from gateway.store.sql import SqlStore


def _fail(exc: GatewayError) -> click.ClickException:
    return click.ClickException(f"{exc.code}: {exc.message} (field {exc.field})")


def _lines(row: AmountsRow) -> Iterator[str]:
    rsa = "unknown (no source we hold publishes it)"
    if row.rsa_single_cents is not None:
        rsa = f"{format_euros(row.rsa_single_cents)} EUR"
    yield f"row in force from {row.since.isoformat()} to {row.until.isoformat()}"
    yield f"  BMAF                                  {format_euros(row.bmaf_cents):>8} EUR"
    kinds = (("one parent failing   (R. 523-7 2°)", False), ("both parents failing (R. 523-7 1°)", True))
    for label, both in kinds:
        gross, net = format_euros(row.asf_gross_cents(both)), format_euros(row.asf_net_cents(both))
        yield f"  ASF {label} {gross:>8} EUR gross, {net:>8} EUR net of CRDS (rate {row.asf_rate(both)})"
    yield f"  penalty (25 % of the BMAF, rounded up) {format_euros(row.penalty_cents):>7} EUR"
    yield f"  RSA, one person                       {rsa}"
    yield f"  source: {row.source}"


def open_store() -> SqlStore:
    """The configured store (migrated), without the signer or archive a read does not need."""
    from gateway.bootstrap import open_store as opened

    return opened(current_settings())


def _table() -> AmountsTable:
    from gateway.store.amounts import amounts_table

    store = open_store()
    try:
        with store.read() as uow:
            return amounts_table(uow.connection)
    finally:
        store.close()


@main.group("amounts", invoke_without_command=True)
@click.option("--on", "day", default=None, metavar="YYYY-MM-DD", help="The day (default: today, Paris).")
@click.option("--json", "as_json", is_flag=True, help="The row as JSON.")
@click.pass_context
def amounts(ctx: click.Context, day: str | None, as_json: bool) -> None:
    """The amounts in force on a day: BMAF, ASF gross and net of CRDS (one and both parents failing),
    penalty, RSA, with the row's source. Exit 1 with `amounts-not-published` past the table's last
    year, `amounts-unknown` before its first."""
    if ctx.invoked_subcommand is not None:
        return
    from gateway.payments.follow_up import legal_day

    try:
        when = legal_day(datetime.now(UTC)) if day is None else date.fromisoformat(day)
    except ValueError:
        raise click.ClickException("invalid-date: --on must be a date YYYY-MM-DD (field on)") from None
    table = _table()
    try:
        row = table.on(when)
    except GatewayError as exc:
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps({"on": when.isoformat(), **row.to_json()}, ensure_ascii=False))
        return
    click.echo(f"amounts in force on {when.isoformat()}")
    for line in _lines(row):
        click.echo(line)


@amounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per row.")
def list_command(as_json: bool) -> None:
    """Every row of the table, oldest first (shipped rows, then the rows operators added)."""
    table = _table()
    for row in table.rows:
        if as_json:
            click.echo(json.dumps(row.to_json(), ensure_ascii=False))
        else:
            for line in _lines(row):
                click.echo(line)


@amounts.command("add")
@click.option("--since", required=True, metavar="YYYY-04-01", help="1 April of the new year.")
@click.option("--bmaf", required=True, metavar="EUROS", help="The BMAF from that day, e.g. 483.00.")
@click.option(
    "--published-asf-net",
    required=True,
    metavar="EUROS",
    help="The ASF (one parent failing) net of CRDS the fund published for that year: must match.",
)
@click.option("--source", required=True, help="The text that publishes these amounts (circular, decree).")
@click.option("--rsa-single", default=None, metavar="EUROS", help="The RSA for one person, if published.")
@click.option("--asf-rate-one-parent", default=None, help="Share of the BMAF (default: the last row's).")
@click.option("--asf-rate-both-parents", default=None, help="Share of the BMAF (default: the last row's).")
def add_command(
    *,
    since: str,
    bmaf: str,
    published_asf_net: str,
    source: str,
    rsa_single: str | None,
    asf_rate_one_parent: str | None,
    asf_rate_both_parents: str | None,
) -> None:
    """Add the next year's row to the table in the store (every replica reads it). The amounts are
    computed from the BMAF; the published ASF net must come out of that computation. Refused with
    a code: `amounts-row-out-of-sequence` (not the year after the last row), `amounts-row-exists`,
    `amounts-mismatch`, `invalid-amount`, `invalid-date`, `missing-field`."""
    from gateway.payments.amounts_entry import new_row
    from gateway.store.amounts import add_row, amounts_table

    store = open_store()
    try:
        with store.transaction() as uow:
            row = new_row(
                amounts_table(uow.connection),
                since=since,
                bmaf=bmaf,
                published_asf_net=published_asf_net,
                source=source,
                rsa_single=rsa_single,
                asf_rate_one_parent=asf_rate_one_parent,
                asf_rate_both_parents=asf_rate_both_parents,
            )
            add_row(uow.connection, row, at=datetime.now(UTC))
    except GatewayError as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    click.echo("added:")
    for line in _lines(row):
        click.echo(line)
