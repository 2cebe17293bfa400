"""Connection limits uvicorn lacks: a cap below the open-files limit, idle eviction, handshake,
header and body deadlines, and aggregated accept errors (issue 12, docs/robustness.md).

uvicorn gives a keep-alive timeout (`timeout_keep_alive`), a header size limit
(`h11_max_incomplete_event_size`) and `limit_concurrency`, which answers 503 only *after*
accepting (so it still spends a file descriptor per connection). It has no handshake, header or body
deadline: a connection that never sends anything, or sends one byte a second, is kept for ever.
And asyncio (3.11), out of file descriptors, logs a traceback for each of up to `backlog` failed
accepts per wake-up and re-arms the listener once per failure: 437,325 tracebacks in 30 s.

Here:

- `GuardedEventLoop` (the event loop `gateway serve` runs) accepts at most `max_connections` at
  once, computed below `RLIMIT_NOFILE` so that accept never meets EMFILE in the first place. When
  full, it closes the *oldest idle* connection (still in its TLS handshake, or between requests) to
  take the new one; when every connection is busy with a request, it stops accepting for a moment
  (the kernel's backlog holds the rest). Accept failures are counted and logged once per interval.
- TLS handshakes must finish within `header_timeout` (asyncio's `ssl_handshake_timeout`).
- `GuardedProtocol` (mixed into the HTTP protocol) closes a connection whose request head has not
  arrived within `header_timeout` of the handshake or of the previous answer, and one whose body
  has not arrived whole within `body_timeout` of its head.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import resource
import socket
import time
from asyncio import constants
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

ACCEPT_ERRNOS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
RESERVED_FILES = 64  # database, archive, logs, validation pipes, certificates...
BUSY_RETRY_SECONDS = 0.05  # every connection busy: look again this soon
RESOURCE_RETRY_SECONDS = 0.5  # out of descriptors: accept again after this
LOG_EVERY_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The server limits, from GATEWAY_* settings (gateway.config)."""

    max_connections: int = 1000
    keep_alive_seconds: float = 5.0
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 60.0
    max_header_bytes: int = 16 * 1024


def open_files_limit() -> int:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one (the usual 1,024 is a default, not a need)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return open_files_limit()


def connection_cap(max_connections: int, files: int) -> int:
    """`max_connections`, lowered so that connections leave room for every other open file."""
    reserve = max(RESERVED_FILES, files // 8)
    return max(1, min(max_connections, files - reserve))


@dataclass(slots=True)
class _Connection:
    sock: socket.socket
    accepted_at: float
    protocol: Any = None  # the HTTP protocol, once the TLS handshake is done
    evicted: bool = False

    def idle(self) -> bool:
        if self.protocol is None:  # handshake under way (or never started)
            return True
        cycle = getattr(self.protocol, "cycle", None)
        return cycle is None or bool(cycle.response_complete)


@dataclass
class ConnectionGuard:
    """The live connections of one event loop, and what was refused (for the aggregated log)."""

    limits: ServerLimits
    cap: int
    live: dict[int, _Connection] = field(default_factory=dict)
    failures: int = 0
    evictions: int = 0
    last_logged: float = 0.0

    def sweep(self) -> None:
        for fd in [fd for fd, c in self.live.items() if c.sock.fileno() != fd]:
            del self.live[fd]

    def count(self) -> int:
        return sum(1 for c in self.live.values() if not c.evicted)

    def full(self) -> bool:
        if len(self.live) < self.cap:
            return False
        self.sweep()
        return self.count() >= self.cap

    def add(self, sock: socket.socket) -> None:
        self.live[sock.fileno()] = _Connection(sock, time.monotonic())

    def attach(self, fd: int, protocol: Any) -> None:
        found = self.live.get(fd)
        if found is not None:
            found.protocol = protocol

    def evict_idle(self) -> bool:
        """Close the oldest idle connection; False when every connection is busy."""
        candidates = [c for c in self.live.values() if not c.evicted and c.idle()]
        if not candidates:
            return False
        oldest = min(candidates, key=lambda c: c.accepted_at)
        oldest.evicted = True
        self.evictions += 1
        # the transport sees the end of the stream and closes itself (and its descriptor)
        with contextlib.suppress(OSError):
            oldest.sock.shutdown(socket.SHUT_RDWR)
        if oldest.protocol is not None:
            oldest.protocol.transport.close()
        self.report()
        return True

    def failed(self, exc: OSError) -> None:
        self.failures += 1
        self.report(errno.errorcode.get(exc.errno or 0, "error"))

    def report(self, reason: str = "") -> None:
        """One line per interval, however many connections were refused or evicted meanwhile."""
        now = time.monotonic()
        if now - self.last_logged < LOG_EVERY_SECONDS:
            return
        self.last_logged = now
        if self.failures:
            log.warning(
                "accept failed %d times (%s) in the last %.0f s; %d connections open",
                self.failures, reason or "resources", LOG_EVERY_SECONDS, len(self.live),
            )  # fmt: skip
        if self.evictions:
            log.warning(
                "%d idle connections closed to make room (at most %d at once)", self.evictions, self.cap
            )
        self.failures = self.evictions = 0


class GuardedEventLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop with the connection cap and a quiet, single accept retry."""

    def __init__(self, guard: ConnectionGuard) -> None:
        super().__init__()
        self.guard = guard
        self._paused: set[int] = set()

    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.Server:
        if kwargs.get("ssl") is not None and kwargs.get("ssl_handshake_timeout") is None:
            kwargs["ssl_handshake_timeout"] = self.guard.limits.header_timeout_seconds
        return await super().create_server(*args, **kwargs)

    def _accept_connection(  # noqa: PLR0917 - asyncio's own signature, which the loop calls
        self,
        protocol_factory: Any,
        sock: socket.socket,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        ssl_handshake_timeout: float | None = constants.SSL_HANDSHAKE_TIMEOUT,
        ssl_shutdown_timeout: float | None = constants.SSL_SHUTDOWN_TIMEOUT,
    ) -> None:
        serving = (
            protocol_factory,
            sock,
            sslcontext,
            server,
            backlog,
            ssl_handshake_timeout,
            ssl_shutdown_timeout,
        )
        guard = self.guard
        for _ in range(backlog):
            if guard.full() and not guard.evict_idle():
                self._pause(serving, BUSY_RETRY_SECONDS)  # every connection busy: let them finish
                return
            try:
                conn, addr = sock.accept()
                conn.setblocking(False)
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in ACCEPT_ERRNOS:
                    raise
                guard.failed(exc)
                guard.evict_idle()
                self._pause(serving, RESOURCE_RETRY_SECONDS)
                return
            guard.add(conn)
            accept = self._accept_connection2(  # type: ignore[attr-defined]
                protocol_factory, conn, {"peername": addr}, sslcontext, server,
                ssl_handshake_timeout, ssl_shutdown_timeout,
            )  # fmt: skip
            self.create_task(accept)

    def _pause(self, serving: tuple[Any, ...], delay: float) -> None:
        """Stop watching the listener for `delay`: one timer, whatever the number of failures."""
        sock = serving[1]
        fd = sock.fileno()
        if fd in self._paused:
            return
        self._paused.add(fd)
        self._remove_reader(fd)  # type: ignore[attr-defined]

        def resume() -> None:
            self._paused.discard(fd)
            if sock.fileno() == fd and not self.is_closed():  # the server may have closed meanwhile
                self._start_serving(*serving)  # type: ignore[attr-defined]

        self.call_later(delay, resume)


class GuardedProtocol:
    """Header and body deadlines for uvicorn's h11 protocol (mixed in before it)."""

    guard: ConnectionGuard | None = None
    _deadline: asyncio.TimerHandle | None = None
    _timed_cycle: Any = None

    def guard_connection(self, transport: asyncio.BaseTransport) -> None:
        """Register with the loop's guard and start the head deadline (call in connection_made)."""
        loop = asyncio.get_running_loop()
        guard = loop.guard if isinstance(loop, GuardedEventLoop) else None
        self.guard = guard
        if guard is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            guard.attach(sock.fileno(), self)
        self._arm(guard.limits.header_timeout_seconds)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = asyncio.get_running_loop().call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        transport: asyncio.Transport | None = getattr(self, "transport", None)
        cycle = getattr(self, "cycle", None)
        if transport is None or transport.is_closing():
            return
        if cycle is not None and not cycle.response_complete and not cycle.more_body:
            return  # the request is whole: the answer is ours to give, not a client's delay
        slow = "body" if cycle is not None and cycle is self._timed_cycle else "head"
        log.info("connection closed: request %s too slow", slow)
        transport.close()

    def watch_request(self) -> None:
        """After data arrived: head complete -> body deadline; body complete -> no deadline."""
        if self.guard is None:
            return
        cycle = getattr(self, "cycle", None)
        if cycle is None or cycle.response_complete:
            return  # still waiting for a head: its deadline runs
        if cycle is not self._timed_cycle:
            self._timed_cycle = cycle
            if cycle.more_body:
                self._arm(self.guard.limits.body_timeout_seconds)
            else:
                self._disarm()
        elif not cycle.more_body:
            self._disarm()

    def response_done(self) -> None:
        """After an answer: the next head has `header_timeout` to arrive."""
        transport: asyncio.Transport | None = getattr(self, "transport", None)
        if self.guard is not None and transport is not None and not transport.is_closing():
            self._timed_cycle = None
            self._arm(self.guard.limits.header_timeout_seconds)

    def unguard(self) -> None:
        self._disarm()
