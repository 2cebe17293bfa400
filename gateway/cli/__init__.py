"""The `gateway` command line: thin commands that call the services (CONTRACT.md §7)."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ifpa-gateway")
def main() -> None:
    """IFPA interoperability gateway."""
    # every file the gateway writes may hold personal data: 0600/0700 whatever the caller's umask
    from gateway import logs
    from gateway.private import restrict_umask

    restrict_umask()
    logs.configure(logs.level_from_env())  # GATEWAY_LOG_LEVEL; never personal data, at any level


def _register() -> None:
    # Each command group lives in its own module; importing registers it on `main`.
    from gateway.cli import commands  # noqa: F401


_register()
