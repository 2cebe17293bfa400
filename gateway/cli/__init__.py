"""The `gateway` command line: thin commands that call the services (docs/contract.md, last section)."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ifpa-gateway")
def main() -> None:
    """IFPA interoperability gateway."""


def _register() -> None:
    # Each command group lives in its own module; importing registers it on `main`.
    from gateway.cli import commands  # noqa: F401


_register()
