"""The ports: every protocol a service depends on, each declared once (docs/architecture.md).

The services (gateway.services) take these and nothing else from the outside world; the
composition root (gateway.bootstrap) gives them the real ones (gateway.store, gateway.archive,
gateway.signing, gateway.infra), the unit tests fakes (tests/fakes.py). The rows the store keeps
are here too, as plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, Protocol

#: What time it is now (tz-aware UTC); the real one is `datetime.now(UTC)`.
Clock = Callable[[], datetime]


class Signer(Protocol):
    """Detached CMS signatures with the gateway's key (gateway.signing.cms.Signer)."""

    def sign_detached(self, data: bytes) -> bytes:
        """A detached signature over `data` (DER)."""
        ...

    def sign_detached_digest(self, sha256: bytes) -> bytes:
        """A detached signature over content whose SHA-256 is `sha256` (a file too big to hold)."""
        ...


class NewEntry(NamedTuple):
    """One item for `Archive.append_many`."""

    kind: str
    blob: bytes
    signature: bytes | None = None
    metadata: Mapping[str, str] | None = None


class Archive(Protocol):
    """The evidence log (gateway.archive.store.Archive). With `uow`, an append is part of that
    unit of work's transaction; without, it commits on its own."""

    def append(
        self,
        kind: str,
        blob: bytes,
        *,
        signature: bytes | None = None,
        metadata: Mapping[str, str] | None = None,
        uow: Any = None,
    ) -> object: ...

    def append_many(self, items: Sequence[NewEntry], *, uow: Any = None) -> Sequence[object]:
        """Archive several items in `uow`'s transaction (their own one without): one sequencing step."""
        ...

    def append_file(
        self,
        kind: str,
        path: Path,
        *,
        signature: bytes | None = None,
        metadata: Mapping[str, str] | None = None,
        uow: Any = None,
    ) -> object:
        """Archive a file of any size in constant memory."""
        ...


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one attempt: an HTTP status, or a transport error's short name."""

    status_code: int | None
    error: str | None = None
    retry_after: timedelta | None = None  # the receiver's own `Retry-After` (429, 503)

    @property
    def ok(self) -> bool:
        # Standard Webhooks: 2xx is success; redirects are not followed and count as failures.
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        """For the deliveries table and logs: never the response body (it could hold anything)."""
        if self.error is not None:
            return self.error
        return f"HTTP {self.status_code}"


class WebhookSender(Protocol):
    """Posts one webhook attempt (gateway.infra.webhook_sender.HttpSender)."""

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult: ...

    def close(self) -> None: ...


class BankChannel(Protocol):
    """Where SEPA files go to the bank (gateway.infra.bank_channel: a folder or an HTTP upload)."""

    def send(self, path: Path, signature: bytes, *, name: str) -> str:
        """Hand `path` (and its signature) to the bank under `name`; returns a reference."""
        ...


@dataclass(frozen=True, slots=True)
class DossierRow:
    """One accepted title, stored once per dedupe key, with its canonical JSON text."""

    dossier_id: str
    dedupe_key: str
    source_kind: str
    sender: str
    reference: str
    received_at: datetime
    canonical_json: str
    status: str


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    """A signed receipt as answered to a sender; `dossier_id` is None for a rejection."""

    receipt_id: str
    dossier_id: str | None
    receipt_json: str
    signature: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    """An `Idempotency-Key` already used by a sender, and the receipt it was answered with."""

    sender: str
    key: str
    receipt_id: str
    payload_sha256: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to publish in the outbox, in the same transaction as the change it announces."""

    type: str
    payload_json: str
    created_at: datetime
    dossier_id: str | None = None


@dataclass(frozen=True, slots=True)
class EventRow:
    """A committed outbox event; `event_id` grows in commit order (see gateway.store.sql)."""

    event_id: int
    type: str
    dossier_id: str | None
    payload_json: str
    created_at: datetime


class DossierRepository(Protocol):
    def create_once(self, dossier: DossierRow) -> tuple[DossierRow, bool]:
        """Insert unless `dossier.dedupe_key` exists; return the stored row and whether it is new."""
        ...

    def get(self, dossier_id: str) -> DossierRow | None: ...

    def get_by_dedupe_key(self, dedupe_key: str) -> DossierRow | None: ...

    def set_status(self, dossier_id: str, status: str) -> None: ...


class ReceiptRepository(Protocol):
    def add(self, receipt: ReceiptRow) -> None: ...

    def get(self, receipt_id: str) -> ReceiptRow | None: ...

    def first_for_dossier(self, dossier_id: str) -> ReceiptRow | None:
        """The receipt a dossier was accepted with: what a duplicate is answered."""
        ...


class IdempotencyRepository(Protocol):
    def remember(self, row: IdempotencyRow) -> tuple[IdempotencyRow, bool]:
        """Insert unless (sender, key) exists; return the stored row and whether it is new."""
        ...

    def lookup(self, sender: str, key: str) -> IdempotencyRow | None: ...


class EventRepository(Protocol):
    def append(self, event: NewEvent) -> None:
        """Queue an event; it is written at commit, so ids follow commit order."""
        ...

    def read_after(self, after: int, limit: int) -> Sequence[EventRow]:
        """Committed events with `event_id > after`, oldest first, at most `limit`."""
        ...

    def last_id(self) -> int:
        """The highest committed event id, 0 when there is none."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything done through its repositories commits or rolls back together."""

    @property
    def dossiers(self) -> DossierRepository: ...

    @property
    def receipts(self) -> ReceiptRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def events(self) -> EventRepository: ...


class Store(Protocol):
    """The storage port: open a transaction; check the store answers (for /readyz)."""

    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        """Commit when the block ends normally; roll back when it raises."""
        ...

    def read(self) -> AbstractContextManager[UnitOfWork]:
        """A read-only transaction (appending events in it raises)."""
        ...

    def ping(self) -> None:
        """Raise if the store cannot be reached."""
        ...

    def close(self) -> None: ...
