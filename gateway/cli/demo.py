"""`gateway demo`: a narrated walk-through of one whole exchange in a throwaway folder."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import click

from gateway.cli import main


@main.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Work in this folder and keep it (default: a temporary folder, removed at the end).",
)
@click.option(
    "--keep", is_flag=True, help="Keep the temporary folder (certificates, database, archive, files)."
)
def demo_command(directory: Path | None, keep: bool) -> None:
    """A narrated walk-through: certificates, the HTTPS service, each source posting a title,
    receipts, the back-office's feed and webhooks, a collection, the bank's answers, a ledger, a
    payout and the archive. Exit 0 when every step behaved as expected, 1 otherwise."""
    from gateway.devtools.demo import run_demo

    folder = directory if directory is not None else Path(tempfile.mkdtemp(prefix="gateway-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    removed = directory is None and not keep
    try:
        status = run_demo(folder, click.echo)
    finally:
        if removed:
            shutil.rmtree(folder, ignore_errors=True)
    click.echo(f"the demo's folder was {'removed' if removed else 'kept'}: {folder}")
    sys.exit(status)
