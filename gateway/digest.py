"""The SHA-256 of bytes as they go by, computed by a second thread.

A SEPA file of 1,000,000 debits is about 540 MB: hashing it takes a core a third of a second
here (OpenSSL with the CPU's SHA extensions), several times that without them. Whoever writes or
copies such a file hands each chunk to `BackgroundSha256` and goes on; hashlib releases the GIL on
large chunks, so the digest is computed on the other core while the bytes are written, instead of
after them (gateway.sepa.xsd.ValidatingSink as a file is rendered, gateway.infra.bank_channel as
it is copied to the bank's folder).
"""

from __future__ import annotations

import hashlib
import queue
import threading

# chunks waiting for the hasher: a copy reads faster than SHA-256 hashes, so it waits here
# instead of queueing the whole file in memory. Each queued chunk is memory the process keeps
# (16 chunks of 1 MiB added 10-17 MB to the first month's peak RSS); 4 keep the hasher busy
_DEPTH = 4


class BackgroundSha256:
    """`update` queues a chunk (the caller must not change it afterwards: pass bytes);
    `digest` / `hexdigest` wait for the thread and give the SHA-256 of every chunk, in order.

    `depth`: how many chunks may wait before `update` waits for the hasher. A copy fills any
    queue (it reads faster than SHA-256 hashes): a few chunks. A file being rendered is produced
    far slower than it is hashed, and should not wait whenever the other core runs the hasher
    late: a deep queue, which stays nearly empty."""

    def __init__(self, depth: int = _DEPTH) -> None:
        self._hasher = hashlib.sha256()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="sha-256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            self._hasher.update(chunk)

    def update(self, chunk: bytes) -> None:
        if not self._thread.is_alive():
            raise ValueError("the digest is closed: no more bytes can be hashed")
        self._chunks.put(chunk)

    def close(self) -> None:
        """Wait until every queued chunk is hashed (idempotent)."""
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()

    def digest(self) -> bytes:
        self.close()
        return self._hasher.digest()

    def hexdigest(self) -> str:
        self.close()
        return self._hasher.hexdigest()
