"""`gateway demo`: a narrated walk-through of one whole exchange in a throwaway folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gateway.cli import main


@main.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to work (default: a new folder under var/demo/).",
)
def demo_command(directory: Path | None) -> None:
    """A narrated walk-through: certificates, the HTTPS service, each source posting a title,
    receipts, the back-office and the archive."""
    from gateway.demo import demo_folder, run_demo

    folder = directory or demo_folder()
    folder.mkdir(parents=True, exist_ok=True)
    click.echo(f"demo folder: {folder}")
    sys.exit(run_demo(folder, click.echo))
