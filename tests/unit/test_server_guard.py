"""The connection guard's rules (gateway.transport.http.guard), without a server: the cap below
the open-files limit, which connection makes room, the aggregated log, the settings."""

from __future__ import annotations

import logging
import socket
from types import SimpleNamespace

import pytest

from gateway.config import Settings
from gateway.transport.http import guard
from gateway.transport.http.guard import ConnectionGuard, ServerLimits, connection_cap
from gateway.transport.http.wiring import server_limits


def test_the_cap_leaves_room_for_every_other_open_file() -> None:
    assert connection_cap(1000, 1024) == 896  # an eighth of the descriptors kept back
    assert connection_cap(1000, 256) == 192  # at least 64
    assert connection_cap(1000, 1_048_576) == 1000
    assert connection_cap(1000, 10) == 1


def test_settings_defaults_and_their_limits() -> None:
    limits = server_limits(Settings())
    assert limits == ServerLimits(1000, 5.0, 10.0, 60.0, 16 * 1024)
    assert Settings().log_level == "INFO"
    with pytest.raises(ValueError):
        Settings(body_timeout_seconds=0)
    with pytest.raises(ValueError):
        Settings(log_level="loud")


def _pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair()


def test_when_full_the_oldest_idle_connection_makes_room(caplog: pytest.LogCaptureFixture) -> None:
    keep: list[socket.socket] = []
    gate = ConnectionGuard(ServerLimits(max_connections=3), cap=3)
    ours = []
    for _ in range(3):
        mine, theirs = _pair()
        keep.append(theirs)
        gate.add(mine)
        ours.append(mine)
    busy = SimpleNamespace(
        cycle=SimpleNamespace(response_complete=False), transport=SimpleNamespace(close=lambda: None)
    )
    idle = SimpleNamespace(
        cycle=SimpleNamespace(response_complete=True), transport=SimpleNamespace(close=lambda: None)
    )
    gate.attach(ours[0].fileno(), busy)  # oldest, but answering a request
    gate.attach(ours[1].fileno(), idle)  # between two requests
    # ours[2]: still in its TLS handshake (no protocol yet): idle too, but younger
    assert gate.full()
    with caplog.at_level(logging.WARNING, logger=guard.__name__):
        assert gate.evict_idle()
    assert keep[1].recv(1) == b""  # the peer of the evicted one sees the end of the stream
    assert not gate.full()
    assert gate.evict_idle()  # then the one in its handshake
    assert keep[2].recv(1) == b""
    assert not gate.evict_idle()  # the busy one is never taken
    assert "idle connections closed to make room (at most 3 at once)" in caplog.text
    assert caplog.text.count("idle connections closed") == 1  # once per interval, not per eviction
    for sock in [*keep, *ours]:
        sock.close()
    gate.sweep()
    assert gate.live == {}
