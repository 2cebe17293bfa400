"""An answer's writes of one event-loop turn reach the transport as one write, in order, and
nothing held is lost when the connection closes (gateway.transport.http.corked)."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.transport.http.corked import CorkedTransport


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 4433)}.get(name, default)


async def _one_turn() -> None:
    await asyncio.sleep(0)


def test_the_writes_of_one_turn_are_one_write() -> None:
    async def scenario() -> RecordingTransport:
        inner = RecordingTransport()
        corked = CorkedTransport(inner, asyncio.get_running_loop())
        corked.write(b"HTTP/1.1 201 Created\r\n\r\n")
        corked.write(b"")
        corked.write(memoryview(b'{"receipt": {}}'))
        assert inner.writes == []  # held until the next turn of the loop
        await _one_turn()
        corked.write(b"next")
        await _one_turn()
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == [b'HTTP/1.1 201 Created\r\n\r\n{"receipt": {}}', b"next"]


def test_close_writes_what_is_held_first_and_abort_drops_it() -> None:
    async def scenario() -> tuple[RecordingTransport, RecordingTransport]:
        loop = asyncio.get_running_loop()
        closed, aborted = RecordingTransport(), RecordingTransport()
        one, two = CorkedTransport(closed, loop), CorkedTransport(aborted, loop)
        one.write(b"head")
        one.write(b"body")
        one.close()
        two.write(b"head")
        assert two.get_write_buffer_size() == 4
        two.abort()
        await _one_turn()
        return closed, aborted

    closed, aborted = asyncio.run(scenario())
    assert closed.writes == [b"headbody"]
    assert closed.closed
    assert aborted.writes == []
    assert aborted.aborted


def test_everything_else_is_the_transports() -> None:
    async def scenario() -> None:
        corked = CorkedTransport(RecordingTransport(), asyncio.get_running_loop())
        assert corked.get_extra_info("peername") == ("127.0.0.1", 4433)
        assert not corked.is_closing()

    asyncio.run(scenario())
