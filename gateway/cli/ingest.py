"""`gateway ingest`: the full intake of titles on the configured store, as the HTTP endpoint does it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TextIO

import click

from gateway.cli import main
from gateway.cli.validate import SOURCES, read_input


def expand(files: tuple[str, ...], paths_from: TextIO | None) -> Iterator[str]:
    """Each FILE; a folder's regular files (sorted, not recursive); then the paths listed in a file."""
    for file in files:
        folder = Path(file)
        if file != "-" and folder.is_dir():
            yield from (
                str(p) for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield file
    if paths_from is not None:
        for line in paths_from:
            if line.strip():
                yield line.rstrip("\r\n")


@main.command("ingest")
@click.option("--source", type=click.Choice(SOURCES), required=True, help="Who sends the titles.")
@click.option("--sender", default=None, help="Sender identity recorded in the receipt (default: cli:SOURCE).")
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Titles per batch: one archive sync and one database transaction each; 1 = one title at a time.",
)
@click.option(
    "--paths-from",
    type=click.File("r"),
    default=None,
    help="Also ingest the files listed in this file, one path a line (- for stdin).",
)
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
def ingest_command(
    source: str, sender: str | None, batch_size: int, paths_from: TextIO | None, files: tuple[str, ...]
) -> None:
    """Validate, store, sign, archive and publish each FILE; print one signed receipt JSON per file.

    FILE may be a folder (its files, sorted by name) or - (one title on stdin). Titles go in batches:
    each file's answer is printed, in input order, once its whole batch is stored and archived
    durably; a title sent twice is one dossier, the second answer being the duplicate receipt.

    Exit 0 when every file is accepted (or a duplicate), 1 when any is rejected (its problem JSON,
    with the signed rejection receipt, is printed instead)."""
    from gateway.bootstrap import build
    from gateway.config import Settings
    from gateway.errors import GatewayError
    from gateway.intake import IntakeResult, Submission, receive, receive_many

    if not files and paths_from is None:
        raise click.UsageError("give FILES, a folder or --paths-from")
    try:
        gateway = build(Settings())
    except GatewayError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc
    who = sender or f"cli:{source}"
    rejected = False
    paths = expand(files, paths_from)
    with gateway:
        while chunk := list(islice(paths, batch_size)):
            payloads = []
            for file in chunk:
                try:
                    payloads.append(read_input(file))
                except OSError as exc:
                    raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
            results: list[IntakeResult]
            if len(payloads) == 1:
                results = [receive(gateway.intake, source, payloads[0], sender=who)]
            else:
                batch = [Submission(source, payload, who) for payload in payloads]
                results = receive_many(gateway.intake, batch)
            lines = []
            for result in results:
                if result.outcome == "rejected":
                    rejected = True
                    lines.append(json.dumps(result.problem, ensure_ascii=False))
                else:
                    document = {"outcome": result.outcome, **result.signed_receipt()}
                    lines.append(json.dumps(document, ensure_ascii=False))
            click.echo("\n".join(lines))
    sys.exit(1 if rejected else 0)
