"""`gateway serve` (HTTPS with mutual TLS) and `gateway openapi` (the API document on stdout)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

import click

from gateway.cli import current_settings, main

if TYPE_CHECKING:
    from gateway.config import Settings


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM blocked (held, not lost) from here on: the caller unblocks them once it
    is ready for them. If the block fails, the mask found is given back (a process that goes on,
    as a test's, or the programs it starts, must not inherit blocked stop signals)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8443).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes sharing the port, the database and the archive (one per core).",
)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the HTTPS API; callers must present a client certificate from the configured CA."""

    settings = current_settings()  # an invalid setting: one line naming it (gateway.cli.failure)
    if workers == 1:
        _serve_one(settings, host, port, sockets=None, deliver=True)
        return
    _serve_forked(settings, host, port, workers)


def _serve_one(
    settings: Settings,
    host: str | None,
    port: int | None,
    *,
    sockets: list[socket.socket] | None,
    deliver: bool,
) -> None:
    import uvicorn

    from gateway.transport.http.wiring import build_service, tune_garbage_collector

    # A Ctrl-C or SIGTERM that comes while the service is being built waits until it is built: it
    # could otherwise land in a validation process between its fork and the moment it starts
    # ignoring Ctrl-C, break the pool and end the server with a traceback. The processes forked
    # meanwhile inherit the blocked signals (gateway.infra.intake_pool unblocks them).
    with _stop_signals_held():
        service = build_service(settings, host=host, port=port)
    tune_garbage_collector(settings.gc_young_threshold)
    delivery = service.delivery if deliver else None
    server = uvicorn.Server(service.config)

    def stop(signum: int, frame: FrameType | None) -> None:
        # Only a flag, never an exception: uvicorn shuts down gracefully on SIGTERM and SIGINT
        # (Ctrl-C), then raises the signal again with the handler it found, this one. An exception
        # raised there, inside the event loop, would end the loop while its lifespan task is still
        # being cancelled (a traceback in the log); a flag lets `run` return and the `finally`
        # below stop the worker and close the archive, exit status 0. A stop taken before uvicorn
        # installs its own handlers sets the same flag: it starts, sees it and shuts down.
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if delivery is not None:
            delivery.start()  # webhook pushes beside the HTTP server (GATEWAY_DELIVER_IN_SERVE)
        # a stop held meanwhile ends here (unblocked, not the mask found: a forked worker found
        # them blocked by its parent)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        server.run(sockets=sockets)
    finally:
        if delivery is not None:
            delivery.stop()
        service.close()


def _serve_forked(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    """Pre-fork: one listening socket, `workers` processes accepting on it, each with its own
    store connections and archive handle (the archive's log is in the database: its sequencing row
    and SQLite's locks serialise their writes). Only the first delivers webhooks.
    """
    from gateway.bootstrap import open_store

    # migrate once here: workers migrating the same database at once would collide
    open_store(settings).close()
    listener = socket.create_server(
        (host or settings.host, port if port is not None else settings.port), backlog=2048
    )
    listener.set_inheritable(True)
    # Ctrl-C or SIGTERM while the workers are forked waits until `stop` below is in place: a
    # worker inherits the blocked signals and takes them once its service is built (_serve_one)
    try:
        with _stop_signals_held():
            children = _fork_workers(settings, host, port, workers, listener)
    finally:
        listener.close()

    def stop(signum: int, frame: FrameType | None) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # a stop held meanwhile runs here
    failed = False
    for child in children:
        while True:
            try:
                _pid, status = os.waitpid(child, 0)
                break
            except ChildProcessError:
                status = 0
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries waitpid itself
                continue
        if os.waitstatus_to_exitcode(status) != 0:
            failed = True
            stop(signal.SIGTERM, None)  # one worker down: take the others down, do not limp on
    if failed:
        sys.exit(1)


def _fork_workers(
    settings: Settings, host: str | None, port: int | None, workers: int, listener: socket.socket
) -> list[int]:
    """Fork `workers` server processes accepting on `listener`; their pids."""
    children: list[int] = []
    for number in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, measured by the e2e test
            code = 0
            try:
                # the stop signals stay blocked, as inherited, until _serve_one is ready for them
                _serve_one(settings, host, port, sockets=[listener], deliver=number == 0)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    return children


@main.command()
def openapi() -> None:
    """Print the OpenAPI document of the HTTP API (JSON), as `make openapi` stores it."""
    from gateway.transport.http.openapi import openapi_json

    click.echo(openapi_json(), nl=False)
