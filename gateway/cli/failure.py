"""How every `gateway` command fails: one line on stderr with a stable code and what to do, and a
documented exit status (docs/install.md, "Exit statuses"); never a traceback for anything a user can
type. `GATEWAY_DEBUG=1` shows the traceback of an unexpected error (a bug) instead.

    0  done
    1  refused: the input or the identifier given was refused (the line says why), or a check failed
    2  usage: an unknown option, a missing or invalid argument (`gateway ingest`: also a title that
       could not be stored, see its --help)
    3  configuration: settings, certificates or keys missing or wrong, the database unreachable
    4  internal error: a bug, reported without its traceback
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import os
import re
import sys
from typing import NoReturn

import click

from gateway.errors import Code

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_CONFIGURATION = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130

COMMAND_ATTRIBUTE = "gateway_command"  # set on an exception by the group that ran the failing command
USAGE_ERROR = Code.USAGE_ERROR.value
IO_ERROR = Code.IO_ERROR.value
INTERNAL_ERROR = Code.INTERNAL_ERROR.value
INTERRUPTED = Code.INTERRUPTED.value

_CONFIGURATION_HINT = "check the GATEWAY_* settings and the certificates (docs/install.md)"
_HINTS = {
    Code.CONFIGURATION.value: _CONFIGURATION_HINT,
    Code.NOT_FOUND.value: "check the identifier given",
    IO_ERROR: "check that the path exists and that this user may read (or write) it",
    INTERNAL_ERROR: "this is a bug: run again with GATEWAY_DEBUG=1 to see the traceback, and report it",
}


_CODED = re.compile(r"([a-z0-9]+(?:-[a-z0-9]+)+): (.*)")
_STATUS = {Code.CONFIGURATION.value: EXIT_CONFIGURATION, Code.DATABASE_UNAVAILABLE.value: EXIT_CONFIGURATION}


class CommandFailed(click.ClickException):
    """A command's own failure: printed as one line `<code>: <message>; <what to do>`."""

    def __init__(self, code: str, message: str, *, hint: str = "", exit_code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code, self.hint, self.status = code, hint, exit_code


def one_line(text: str) -> str:
    return " ".join(text.split())


def line(command: str, code: str, message: str, hint: str = "") -> str:
    """`gateway sepa files: usage-error: No such option: --x; see 'gateway sepa files --help'`"""
    hint = hint or _HINTS.get(code, "")
    text = f"{command}: {code}: {one_line(message).rstrip('.')}"
    return f"{text}; {hint}" if hint else text


def fail(command: str, code: str, message: str, *, hint: str = "", exit_code: int = EXIT_REFUSED) -> NoReturn:
    click.echo(line(command, code, message, hint), err=True)
    sys.exit(exit_code)


def report(exc: BaseException, command: str) -> NoReturn:
    """Print `exc` as one line and exit with its documented status."""
    from pydantic import ValidationError

    from gateway.errors import ConfigurationError, GatewayError

    if isinstance(exc, click.exceptions.NoArgsIsHelpError):  # `gateway`, `gateway sepa`: the help
        exc.show()
        sys.exit(exc.exit_code)
    if isinstance(exc, click.UsageError):
        where = exc.ctx.command_path if exc.ctx is not None else command
        fail(where, USAGE_ERROR, exc.format_message(), hint=f"see '{where} --help'", exit_code=EXIT_USAGE)
    if isinstance(exc, CommandFailed):
        fail(command, exc.code, exc.format_message(), hint=exc.hint, exit_code=exc.status)
    if isinstance(exc, click.ClickException):  # `ClickException(f"{code}: {message}")`, as some commands say
        said = _CODED.fullmatch(one_line(exc.format_message()))
        code, message = (said.group(1), said.group(2)) if said else ("error", exc.format_message())
        fail(command, code, message, exit_code=_STATUS.get(code, exc.exit_code))
    if isinstance(exc, ConfigurationError):
        fail(command, exc.code, exc.message, exit_code=EXIT_CONFIGURATION)
    if isinstance(exc, GatewayError):
        field = f" (field {exc.field})" if exc.field else ""
        fail(command, exc.code, exc.message + field)
    if isinstance(exc, ValidationError):
        # Names only: the values may be secrets (GATEWAY_WEBHOOKS) or personal data.
        names = ", ".join("GATEWAY_" + "__".join(map(str, e["loc"])).upper() for e in exc.errors())
        fail(command, Code.CONFIGURATION, f"invalid setting(s) {names}", exit_code=EXIT_CONFIGURATION)
    database = _database_failure(exc)
    if database:
        fail(command, Code.DATABASE_UNAVAILABLE, database, exit_code=EXIT_CONFIGURATION)
    if isinstance(exc, (KeyboardInterrupt, click.Abort, EOFError)):
        fail(command, INTERRUPTED, "stopped before the end", exit_code=EXIT_INTERRUPTED)
    if isinstance(exc, OSError):
        what = exc.strerror or type(exc).__name__
        fail(command, IO_ERROR, f"{what}: {exc.filename}" if exc.filename else what)
    # The type only: an unexpected error's text may quote data (a database row, a payload).
    fail(command, INTERNAL_ERROR, f"unexpected {type(exc).__name__}", exit_code=EXIT_INTERNAL)


def _database_failure(exc: BaseException) -> str:
    """What went wrong reaching the database, without the URL (it may hold a password)."""
    from sqlalchemy import exc as sql

    if isinstance(exc, (sql.ArgumentError, sql.NoSuchModuleError)):
        return "GATEWAY_DATABASE_URL is not a URL the gateway can use (sqlite:///… or postgresql://…)"
    if isinstance(exc, (sql.OperationalError, sql.InterfaceError)):
        cause = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        return f"cannot use the database of GATEWAY_DATABASE_URL ({cause}): is it running and reachable?"
    return ""


def debugging() -> bool:
    return os.environ.get("GATEWAY_DEBUG", "").lower() in {"1", "true", "yes"}
