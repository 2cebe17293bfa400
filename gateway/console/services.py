"""What the console needs from the rest of the gateway, built once by the composition root."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from cryptography import x509

from gateway.archive.store import Archive
from gateway.console.forecast import Forecast
from gateway.signing.cms import Signer
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import SqlStore

T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConsoleServices:
    """The store, archive and signer the console reads and acts on; `csrf_key` signs its tokens.

    `csrf_key` must be the same in every server process (`gateway serve --workers N`): the
    composition root derives it from a secret they share (`csrf_key_from`).
    """

    store: SqlStore
    archive: Archive
    signer: Signer
    trust_anchors: Sequence[x509.Certificate]
    csrf_key: bytes
    clock: Callable[[], datetime] = _utcnow
    forecast: Forecast = field(init=False)

    _cache: dict[str, tuple[float, Any]] = field(init=False, default_factory=dict)
    _cache_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.forecast = Forecast(self.store, clock=self.clock)

    def recent(self, key: str, compute: Callable[[], T], *, seconds: float = 60.0) -> T:
        """`compute()`, or its result of less than `seconds` ago: for dashboard counts that read a
        whole table (they change slowly; the page must not pay for them at every view)."""
        now = time.monotonic()
        with self._cache_lock:
            found = self._cache.get(key)
        if found is not None and now - found[0] < seconds:
            return cast(T, found[1])
        value = compute()
        with self._cache_lock:
            self._cache[key] = (now, value)
        return value

    @property
    def deliveries(self) -> SqlDeliveries:
        return SqlDeliveries(self.store)


def csrf_key_from(secret_file: Path) -> bytes:
    """A key for the console's CSRF tokens, derived from a secret file every server process reads
    (the TLS server key): shared by the workers, never shown, changed with the key."""
    return hashlib.sha256(b"gateway console csrf v1|" + secret_file.read_bytes()).digest()
