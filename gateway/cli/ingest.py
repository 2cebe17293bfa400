"""`gateway ingest`: the full intake of titles on the configured store, as the HTTP endpoint does it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from gateway.cli import main
from gateway.cli.failure import CommandFailed
from gateway.cli.validate import SOURCES, read_input
from gateway.problem import rejection_problem
from gateway.sanitize import xml_safe

if TYPE_CHECKING:
    from gateway.services.intake import IntakeResult


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


def _answer_lines(results: list[IntakeResult | Exception]) -> tuple[str, bool, bool]:
    """One JSON line per title; and whether any was rejected, whether any failed to be stored."""
    lines, rejected, failed = [], False, False
    for result in results:
        if isinstance(result, Exception):  # not the sender's fault: the title was not stored
            failed = True
            detail = xml_safe(f"{type(result).__name__}: {result}")
            lines.append(json.dumps({"outcome": "failed", "detail": detail}, ensure_ascii=False))
        elif result.outcome == "rejected":
            rejected = True
            assert result.error is not None
            problem = rejection_problem(result.error, result.receipt, result.signature)
            lines.append(json.dumps(problem, ensure_ascii=False))
        else:
            lines.append(
                json.dumps({"outcome": result.outcome, **result.signed_receipt()}, ensure_ascii=False)
            )
    return "\n".join(lines), rejected, failed


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
    "--jobs",
    type=click.IntRange(min=0),
    default=None,
    help="Processes validating the next batch while this one is stored (default: CPUs, at most 8; 0: none).",
)
@click.option(
    "--paths-from",
    type=click.File("r"),
    default=None,
    help="Also ingest the files listed in this file, one path a line (- for stdin).",
)
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
def ingest_command(
    *,
    source: str,
    sender: str | None,
    batch_size: int,
    jobs: int | None,
    paths_from: TextIO | None,
    files: tuple[str, ...],
) -> None:
    """Validate, store, sign, archive and publish each FILE; print one signed receipt JSON per file.

    FILE may be a folder (its files, sorted by name) or - (one title on stdin). Titles go in batches:
    each file's answer is printed, in input order, once its whole batch is stored and archived
    durably; a title sent twice is one dossier, the second answer being the duplicate receipt.

    Exit 0 when every file is accepted (or a duplicate), 1 when any is rejected (its problem JSON,
    with the signed rejection receipt, is printed instead), 2 when any could not be stored (its
    line says `"outcome": "failed"` and why; the others of its batch are stored all the same)."""
    from gateway.bootstrap import build
    from gateway.config import Settings
    from gateway.services.intake import (
        PreparedBatch,
        Submission,
        prepare_many,
        settle,
        validation_pool,
    )

    if not files and paths_from is None:
        raise click.UsageError("give FILES, a folder or --paths-from")
    jobs = min(os.cpu_count() or 1, 8) if jobs is None else jobs
    gateway = build(Settings())
    who = sender or f"cli:{source}"
    rejected = failed = False
    paths = expand(files, paths_from)
    with gateway, ExitStack() as stack:
        pool: ProcessPoolExecutor | None = None
        prepared: PreparedBatch | None = None

        def finish() -> None:
            nonlocal rejected, failed, prepared
            if prepared is not None:
                text, any_rejected, any_failed = _answer_lines(settle(gateway.intake, prepared))
                click.echo(text)
                rejected, failed, prepared = rejected or any_rejected, failed or any_failed, None

        while chunk := list(islice(paths, batch_size)):
            payloads = []
            for file in chunk:
                try:
                    payloads.append(read_input(file))
                except OSError as exc:
                    finish()
                    raise CommandFailed("io-error", f"cannot read {file}: {exc.strerror}") from None
            if pool is None and jobs and len(payloads) >= MIN_POOLED:
                pool = stack.enter_context(validation_pool(gateway.intake, jobs))
            # validation of this batch runs in the pool while the previous one is stored
            following = prepare_many(
                gateway.intake, [Submission(source, p, who) for p in payloads], executor=pool
            )
            finish()
            prepared = following
        finish()
    sys.exit(2 if failed else 1 if rejected else 0)


MIN_POOLED = 64  # below this a batch validates faster here than it ships to workers
