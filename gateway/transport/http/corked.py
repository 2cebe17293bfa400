"""One TLS record and one `send` for an answer's head and body, instead of one each.

uvicorn writes an answer's status line and headers, then its body, as separate transport writes;
over TLS each write is a record encrypted and a `send` system call of its own, on the event loop
(and one more record for the client to decrypt). `CorkedTransport` holds what is written during
one turn of the event loop and writes it at once at the start of the next turn, or before the
connection closes: the same bytes, in the same order, one turn later at most.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CorkedTransport:
    """A transport's stand-in whose writes of one event-loop turn reach it as one write."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        """Write what is held (at the next turn of the loop, or now before a close)."""
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held.clear()
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(d) for d in self._held)

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self._transport, name)
