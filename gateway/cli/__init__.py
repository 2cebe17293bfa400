"""The `gateway` command line: thin commands that call the services (docs/contract.md, last section).

Every failure is one line with a code and what to do, and a documented exit status
(gateway.cli.failure); no traceback for anything a user can type.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from gateway.cli import failure

if TYPE_CHECKING:
    from gateway.bootstrap import Gateway
    from gateway.config import Settings


class GatewayGroup(click.Group):
    """The `gateway` group: runs a command and turns whatever it raises into one line."""

    group_class = type  # sub-groups are GatewayGroups too: each names the failing command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BaseException as exc:
            # The innermost group sees the error first: it names the command, e.g. `gateway bank simulate`.
            if ctx.invoked_subcommand and not hasattr(exc, failure.COMMAND_ATTRIBUTE):
                with contextlib.suppress(AttributeError):
                    setattr(exc, failure.COMMAND_ATTRIBUTE, f"{ctx.command_path} {ctx.invoked_subcommand}")
            raise

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        name = prog_name or "gateway"
        try:
            outcome = super().main(args, name, complete_var, standalone_mode=False, **extra)
        except SystemExit:
            raise
        except BaseException as exc:
            if failure.debugging() and not isinstance(exc, click.ClickException):
                raise
            # click turns Ctrl-C into Abort: the command is named on what it was raised from
            named = getattr(exc, failure.COMMAND_ATTRIBUTE, None) or getattr(
                exc.__cause__, failure.COMMAND_ATTRIBUTE, name
            )
            failure.report(exc, str(named))
        sys.exit(outcome if isinstance(outcome, int) else failure.EXIT_OK)


@click.group("gateway", cls=GatewayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ifpa-gateway")
def main() -> None:
    """IFPA interoperability gateway.

    Exit statuses: 0 done, 1 refused (input, identifier or check), 2 wrong usage, 3 configuration
    (settings, certificates, keys), 4 internal error (a bug), 130 interrupted. A failure is one line
    on stderr: `<command>: <code>: <what went wrong>; <what to do>`.
    """
    # every file the gateway writes may hold personal data: 0600/0700 whatever the caller's umask
    from gateway import logs
    from gateway.private import restrict_umask

    restrict_umask()
    logs.configure(logs.level_from_env())  # GATEWAY_LOG_LEVEL; never personal data, at any level


def current_settings() -> Settings:
    """The settings of this command, read from the environment once (by the first part of the
    command that needs them) and kept on the root click context: the only `Settings()` of a CLI
    process. An invalid setting is reported by its name only (gateway.cli.failure)."""
    from gateway.config import Settings

    ctx = click.get_current_context(silent=True)
    if ctx is None:  # called outside a command (a test, a script): nothing to share with
        return Settings()
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def composed(*, batch: bool = False) -> Gateway:
    """The gateway composed from this command's settings (gateway.bootstrap.build); close it.

    `batch`: a command that commits big transactions (the SEPA runs, a bank import): on SQLite its
    write-ahead log is copied into the database file by a thread, while the command goes on,
    instead of inside its commits (gateway.store.wal); closing the gateway waits for that copy."""
    from gateway.bootstrap import BATCH_CHECKPOINT_EVERY, build

    gateway = build(current_settings())
    if batch:
        try:
            gateway.start_wal_checkpoints(every=BATCH_CHECKPOINT_EVERY)
        except BaseException:
            gateway.close()
            raise
    return gateway


def _register() -> None:
    # Each command group lives in its own module; importing registers it on `main`.
    from gateway.cli import commands  # noqa: F401


_register()
