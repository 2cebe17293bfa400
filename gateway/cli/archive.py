"""`gateway archive ...`: verify the tamper-evident archive, prove inclusion, export for audit."""

from __future__ import annotations

from gateway.cli import main


@main.group()
def archive() -> None:
    """The signed, append-only archive of every exchange."""
