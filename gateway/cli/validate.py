"""`gateway validate`: check one title as a source would send it, with no server and no storage."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from gateway.cli import main
from gateway.cli.failure import EXIT_REFUSED
from gateway.domain.transmission import SourceKind
from gateway.errors import GatewayError
from gateway.problem import problem
from gateway.sanitize import xml_safe
from gateway.services.validation import validate

SOURCES = [s.value for s in SourceKind]


# `gateway validate` exit codes (docs/robustness.md)


def dump(doc: Any) -> None:
    # always valid UTF-8 on stdout, whatever a sender's text held (lone surrogates become U+FFFD)
    text = xml_safe(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def received_at_for(today: date | None) -> datetime:
    """--today fixes the transmission day (midnight UTC of it) for reproducible checks."""
    if today is None:
        return datetime.now(UTC)
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def read_input(file: str) -> bytes:
    return sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()


@main.command("validate")
@click.option("--source", type=click.Choice(SOURCES), required=True, help="Who sends the title.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Transmission date YYYY-MM-DD (default: today).",
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def validate_command(source: str, today: datetime | None, file: str) -> None:
    """Validate FILE (or - for stdin) as SOURCE sends it: exit 0 and the canonical dossier JSON,
    or exit 1 and an RFC 9457 problem JSON listing every error found. An unreadable FILE, wrong
    usage or a failure of the gateway itself: one line on stderr with its code and the exit status
    of gateway.cli.failure (docs/install.md), never a traceback."""
    data = read_input(file)  # an unreadable file: one io-error line (gateway.cli.failure)
    received_at = received_at_for(today.date() if today else None)
    try:
        result = validate(source, data, received_at=received_at)
        dossier = result.dossier
    except GatewayError as exc:
        warnings = [i for i in exc.issues if i.severity == "warning"]
        dump(problem(exc, warnings=warnings))
        sys.exit(EXIT_REFUSED)
    dump(dossier)


@main.command("dossier-schemas")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"))
def dossier_schemas_command(directory: Path) -> None:
    """Write the canonical dossier's JSON Schema and XSD (generated from its shape) into DIR."""
    from gateway.canonical.schemas import json_schema_text, xsd_text

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dossier-1.schema.json").write_text(json_schema_text(), encoding="utf-8")
    (directory / "dossier-1.xsd").write_text(xsd_text(), encoding="utf-8")
    click.echo(f"wrote {directory}/dossier-1.schema.json and {directory}/dossier-1.xsd")
