"""`gateway bank import FILE`: a pain.002 or camt.054 from the bank, signed, archived and reconciled
(gateway.services.bank_import); prints a summary table or JSON; exit 1 when a file is refused."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from gateway.cli import composed, main
from gateway.services.bank_import import ImportResult, import_report


def _table(result: ImportResult) -> Iterator[str]:
    from gateway.domain.money import format_euros

    state = "DUPLICATE (already imported, nothing changed)" if result.duplicate else "imported"
    yield f"{result.file}: {result.message} {result.report_id} — {state}; archive entry {result.archive_seq}"
    yield f"  {'outcome':<20} {'count':>9} {'amount EUR':>16}"
    for kind, count in sorted(result.summary.counts.items()):
        amount = format_euros(result.summary.amounts.get(kind, 0))
        yield f"  {kind:<20} {count:>9} {amount:>16}"
    for anomaly in result.anomalies[:50]:
        yield f"  ! {anomaly['code']}: {anomaly['reference']} {anomaly['note']}".rstrip()
    if len(result.anomalies) > 50:
        yield f"  ! ... {len(result.anomalies) - 50} more anomalies (see --json)"


@main.group()
def bank() -> None:
    """Bank reports in: pain.002 status reports and camt.054 notifications."""


@bank.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON line per file instead of the table.")
def import_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Detect, validate, sign, archive and reconcile each FILE; print what it changed.

    Exit 0 when every file was imported (a report seen before is a no-op), 1 when any was refused
    (not a supported report, not valid against its official XSD, hostile XML)."""
    from gateway.errors import GatewayError

    gateway = composed(batch=True)  # a camt.054 of a whole month reconciles in one transaction
    refused = False
    with gateway:
        for path in files:
            try:
                result = import_report(gateway, path)
            except GatewayError as exc:
                refused = True
                problem = {"file": path.name, "code": exc.code, "field": exc.field, "message": exc.message}
                click.echo(
                    json.dumps(problem, ensure_ascii=False)
                    if as_json
                    else f"{path.name}: refused: {exc.code}: {exc.message}"
                )
                continue
            if as_json:
                click.echo(json.dumps(result.to_json(), ensure_ascii=False))
            else:
                for line in _table(result):
                    click.echo(line)
    sys.exit(1 if refused else 0)


@bank.command("simulate")
@click.argument("pain008", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/bank"))
@click.option(
    "--reject", "rejects", multiple=True, metavar="END_TO_END_ID=CODE", help="Reject one debit (e.g. AM04)."
)
def simulate_command(pain008: Path, out_dir: Path, rejects: tuple[str, ...]) -> None:
    """Answer PAIN008 as a bank would (for demonstrations and tests, never production): a pain.002
    rejecting the debits named with --reject, and a camt.054 crediting all the others."""
    from datetime import UTC, datetime

    from gateway.devtools.bank_simulator import answer_collection

    wanted: dict[str, str] = {}
    for item in rejects:
        e2e, _, code = item.partition("=")
        if not e2e or not code:
            raise click.BadParameter(f"{item!r}: expected END_TO_END_ID=CODE", param_hint="--reject")
        wanted[e2e] = code
    for path in answer_collection(pain008, out_dir, rejects=wanted, at=datetime.now(UTC)):
        click.echo(str(path))
