"""What the console needs from the rest of the gateway, built once by the composition root."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from gateway.archive.store import Archive
from gateway.console.forecast import Forecast
from gateway.signing import Signer
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import SqlStore


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

    def __post_init__(self) -> None:
        self.forecast = Forecast(self.store, clock=self.clock)

    @property
    def deliveries(self) -> SqlDeliveries:
        return SqlDeliveries(self.store)


def csrf_key_from(secret_file: Path) -> bytes:
    """A key for the console's CSRF tokens, derived from a secret file every server process reads
    (the TLS server key): shared by the workers, never shown, changed with the key."""
    return hashlib.sha256(b"gateway console csrf v1|" + secret_file.read_bytes()).digest()
