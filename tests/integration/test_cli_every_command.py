"""Every `gateway` command, walked by introspection, fails on a wrong argument with one line on stderr
(`<command>: <code>: <what>; <what to do>`), a documented exit status and no traceback (issue 14)."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from gateway.cli import main
from gateway.cli.failure import EXIT_CONFIGURATION, EXIT_REFUSED, EXIT_USAGE
from gateway.devtools.pki import init_dev_pki


def leaves(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


COMMANDS = dict(leaves(main))


def wrong_value(param: click.Parameter) -> str | None:
    """A value the parameter's type refuses, or None when any text is acceptable."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return "not-a-choice"
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return "twelve"
    if isinstance(kind, click.DateTime):
        return "2026-02-30"
    if isinstance(kind, click.Path) and kind.exists:
        return "/nonexistent/file.xml"
    if isinstance(kind, click.File):
        return "/nonexistent/list.txt"
    return None


TYPED = [
    pytest.param(name, param.name, id=f"{name}:{param.name}")
    for name, command in COMMANDS.items()
    for param in command.params
    if not (isinstance(param, click.Option) and (param.is_flag or param.count))
    and wrong_value(param) is not None
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"GATEWAY_DATA_DIR": str(tmp_path / "var"), "GATEWAY_CERTS_DIR": str(tmp_path / "certs")}


def invoke(env: dict[str, str], args: list[str]) -> Result:
    # catch_exceptions=False: an exception getting past the command line's handler fails the test
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def assert_one_line(done: Result, command: str, code: str, status: int) -> str:
    assert "Traceback" not in done.output
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"gateway {command}: {code}: "), lines[0]
    assert done.exit_code == status, done.output
    return lines[0]


def test_the_walk_finds_every_command() -> None:
    assert {"bank import", "sepa debits", "deliveries retry", "archive proof", "serve", "demo"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_refuses_an_unknown_option(env: dict[str, str], command: str) -> None:
    done = invoke(env, [*command.split(), "--no-such-option"])
    line = assert_one_line(done, command, "usage-error", EXIT_USAGE)
    assert line.endswith(f"see 'gateway {command} --help'")
    assert done.stdout == ""


@pytest.mark.parametrize(("command", "name"), TYPED)
def test_every_typed_argument_refuses_a_wrong_value(env: dict[str, str], command: str, name: str) -> None:
    param = next(p for p in COMMANDS[command].params if p.name == name)
    value = wrong_value(param)
    assert value is not None
    given = [param.opts[0], value] if isinstance(param, click.Option) else [value]
    done = invoke(env, [*command.split(), *given])
    line = assert_one_line(done, command, "usage-error", EXIT_USAGE)
    assert "Invalid value" in line


# What a user gets wrong beyond the argument types: missing files and certificates, unknown ids.
NO_CERTS = [
    ("archive checkpoint", []),
    ("bank import", ["{file}"]),
    ("deliver", ["--once"]),
    ("ingest", ["--source", "greffe", "{file}"]),
    ("sepa files", []),
    ("sepa debits", ["--period", "2026-12"]),
    ("sepa credits", ["--date", "2026-12-11"]),
    ("serve", ["--port", "0"]),
]


@pytest.mark.parametrize(("command", "args"), NO_CERTS)
def test_missing_certificates_are_a_configuration_error(
    env: dict[str, str], tmp_path: Path, command: str, args: list[str]
) -> None:
    file = tmp_path / "title.xml"
    file.write_text("<x/>")
    done = invoke(env, [*command.split(), *(a.format(file=file) for a in args)])
    line = assert_one_line(done, command, "configuration-error", EXIT_CONFIGURATION)
    assert "signer.pem" in line or "server.pem" in line


@pytest.fixture
def certified(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    init_dev_pki(tmp_path / "certs")
    return env


REFUSED = [
    ("archive proof", ["99"], "not-found"),
    ("archive export", ["{tmp}/no/such/folder/out.tar.gz"], "io-error"),
    ("archive verify", ["--ca", "{tmp}/none.pem"], "configuration-error"),
    ("bank simulate", ["{tmp}/title.xml"], "malformed-payload"),
    ("deliveries retry", ["12", "15"], "not-found"),
    ("deliveries retry", [], "usage-error"),
    ("ingest", ["--source", "greffe", "{tmp}/missing.xml"], "io-error"),
    ("ingest", ["--source", "greffe"], "usage-error"),
    ("sepa debits", ["--period", "2026-13"], "usage-error"),
    ("validate", ["--source", "greffe", "{tmp}/missing.xml"], "io-error"),
]
STATUS = {"usage-error": EXIT_USAGE, "configuration-error": EXIT_CONFIGURATION}


@pytest.mark.parametrize(("command", "args", "code"), REFUSED)
def test_refused_in_one_line(
    certified: dict[str, str], tmp_path: Path, command: str, args: list[str], code: str
) -> None:
    (tmp_path / "title.xml").write_text("<x/>")
    done = invoke(certified, [*command.split(), *(a.format(tmp=tmp_path) for a in args)])
    assert_one_line(done, command, code, STATUS.get(code, EXIT_REFUSED))


@pytest.mark.parametrize(
    ("url", "said"),
    [("bogus://db", "not a URL the gateway can use"), ("postgresql://u:s3cret@127.0.0.1:1/db", "reachable")],
)
def test_a_database_it_cannot_use_is_named_without_its_password(
    certified: dict[str, str], url: str, said: str
) -> None:
    done = invoke(certified | {"GATEWAY_DATABASE_URL": url}, ["sepa", "files"])
    line = assert_one_line(done, "sepa files", "database-unavailable", EXIT_CONFIGURATION)
    assert said in line
    assert "s3cret" not in done.output


def test_an_invalid_setting_is_named_not_quoted(certified: dict[str, str]) -> None:
    done = invoke(certified | {"GATEWAY_PORT": "https"}, ["sepa", "files"])
    line = assert_one_line(done, "sepa files", "configuration-error", EXIT_CONFIGURATION)
    assert "GATEWAY_PORT" in line


def test_a_bug_is_one_line_too_and_gateway_debug_shows_the_traceback(
    certified: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a value that could be personal")

    monkeypatch.setattr("gateway.devtools.pki.init_dev_pki", broken)
    done = invoke(certified, ["certs", "init"])
    line = assert_one_line(done, "certs init", "internal-error", 4)
    assert "ZeroDivisionError" in line
    assert "personal" not in line
    with pytest.raises(ZeroDivisionError):
        invoke(certified | {"GATEWAY_DEBUG": "1"}, ["certs", "init"])


def test_ctrl_c_is_one_line_with_status_130(
    certified: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("gateway.devtools.pki.init_dev_pki", interrupted)
    done = invoke(certified, ["certs", "init"])
    # click first ends the terminal's ^C line with a newline
    assert done.stderr == "\ngateway certs init: interrupted: stopped before the end\n"
    assert done.exit_code == 130


def test_healthcheck_of_a_server_that_is_not_there_is_unhealthy(certified: dict[str, str]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    done = invoke(certified | {"GATEWAY_PORT": str(port)}, ["healthcheck"])
    line = assert_one_line(done, "healthcheck", "unhealthy", EXIT_REFUSED)
    assert line.endswith(f"connect error: connection refused to 127.0.0.1:{port}")


def test_healthcheck_of_a_running_server_is_healthy(certified: dict[str, str], tmp_path: Path) -> None:
    from gateway.config import Settings
    from gateway.transport.http.wiring import build_service
    from tests.e2e.harness import running_server

    settings = Settings(certs_dir=tmp_path / "certs", data_dir=tmp_path / "var")
    service = build_service(settings, host="127.0.0.1", port=0)
    try:
        with running_server(service.app, tmp_path / "certs") as base:
            port = base.rsplit(":", 1)[1]
            done = invoke(certified | {"GATEWAY_PORT": port}, ["healthcheck", "--ready"])
    finally:
        service.close()
    assert done.exit_code == 0, done.output
    assert done.stdout == f"healthy: https://127.0.0.1:{port}/readyz answered 200\n"


def test_serve_that_cannot_start_leaves_the_stop_signals_as_they_were(env: dict[str, str]) -> None:
    """`serve` holds Ctrl-C and SIGTERM while it builds its service; when the build fails the
    process's signal mask is the caller's again, so that neither it nor the programs it starts
    later are left deaf to SIGTERM (the test suite's own subprocesses were, once)."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    invoke(env, ["serve", "--port", "0"])  # no certificates: a configuration error
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
    assert signal.SIGTERM not in before
