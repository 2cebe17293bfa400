"""`gateway indices ...`: the price index values revaluations use (docs/revaluation.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.cli import main


def _fail(exc: Exception) -> click.ClickException:
    from gateway.errors import GatewayError

    if isinstance(exc, GatewayError):
        return click.ClickException(f"{exc.code} ({exc.field}): {exc.message}")
    return click.ClickException(str(exc))


@main.group("indices")
def indices() -> None:
    """Price index values: the shipped ones, imports of INSEE's CSV export, held months."""


@indices.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def import_command(files: tuple[Path, ...]) -> None:
    """Import INSEE series exports (the CSV of a series page, `valeurs_mensuelles.csv`) into the
    database, shared by every replica. Each file is checked whole first: a file that is not an
    INSEE monthly series export is refused with one line naming the line at fault, and nothing of
    it is imported. A value that changed (a corrected publication) replaces the stored one."""
    from gateway.bootstrap import build
    from gateway.config import Settings
    from gateway.errors import GatewayError
    from gateway.payments.insee_csv import parse_insee_csv
    from gateway.store.indices import SqlIndices

    parsed = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise click.ClickException(
                f"index-file-invalid ({path.name}): cannot read the file: {exc.strerror}"
            ) from None
        try:
            parsed.append((path, parse_insee_csv(data, source=path.name)))
        except GatewayError as exc:
            raise click.ClickException(f"{path.name}: {exc.code} ({exc.field}): {exc.message}") from None
    now = datetime.now(UTC)
    try:
        gw = build(Settings())
    except GatewayError as exc:
        raise _fail(exc) from exc
    with gw, gw.store.transaction() as uow:
        repo = SqlIndices(uow.connection)
        for path, series_list in parsed:
            for series in series_list:
                if not series.values:
                    click.echo(f"{path.name}: {series.series}: no published value, nothing imported")
                    continue
                counts = repo.save(series.values, at=now)
                first, last = series.values[0].period, series.values[-1].period
                click.echo(
                    f"{path.name}: {series.series} {first}..{last}: {len(series.values)} values, "
                    f"{counts.added} added, {counts.changed} changed, {counts.unchanged} unchanged"
                )


@indices.command("list")
@click.option("--series", default=None, help="Only this series, e.g. INSEE-001763852 (or 001763852).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_command(series: str | None, as_json: bool) -> None:
    """Every index value the gateway knows, oldest first: shipped with it or imported (imported
    values replace shipped ones for the same month), with its source."""
    from gateway.bootstrap import build
    from gateway.config import Settings
    from gateway.errors import GatewayError
    from gateway.payments.indices import IndexTable, series_key, shipped_values
    from gateway.store.indices import SqlIndices

    try:
        gw = build(Settings())
    except GatewayError as exc:
        raise _fail(exc) from exc
    with gw, gw.store.read() as uow:
        imported = SqlIndices(uow.connection).imported(series)
    origin = {(v.series, v.period): "shipped" for v in shipped_values()}
    origin.update({(v.series, v.period): "imported" for v in imported})
    table = IndexTable(shipped_values()).over(imported)
    wanted = series_key(series) if series else None
    for value in table:
        if wanted is not None and value.series != wanted:
            continue
        where = origin[(value.series, value.period)]
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "series": value.series,
                        "period": value.period,
                        "value": str(value.value),
                        "origin": where,
                        "source": value.source,
                    }
                )
            )
        else:
            click.echo(f"{value.series} {value.period} {value.value} {where} {value.source}")


@indices.command("missing")
@click.option("--period", default=None, help="The month, YYYY-MM (default: this month).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def missing_command(period: str | None, as_json: bool) -> None:
    """The months held for a missing index value (`index-missing`): which dossier and child, which
    series and month to import. Held months are never debited at a guessed amount; once the value
    is imported, run the month's collection again (`gateway sepa debits --period`) to debit them."""
    from gateway.bootstrap import build
    from gateway.config import Settings
    from gateway.errors import GatewayError
    from gateway.payments.indices import is_period
    from gateway.services.held_months import held_months

    month = period or datetime.now(UTC).strftime("%Y-%m")
    if not is_period(month):
        raise click.ClickException("invalid-period (--period): a month is YYYY-MM (01 to 12)")
    try:
        gw = build(Settings())
    except GatewayError as exc:
        raise _fail(exc) from exc
    with gw:
        held = held_months(gw.store, month)
    for item in held:
        if as_json:
            click.echo(json.dumps(item.to_json()))
        else:
            click.echo(
                f"{item.dossier_id} {item.period} child {item.child}: {item.code}: {item.series} "
                f"{item.index_period} (revaluation of {item.revalued_on})"
            )
    if not as_json:
        click.echo(f"{len(held)} held", err=True)
