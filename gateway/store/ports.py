"""Storage ports: the rows the gateway keeps and the small protocols the service layer depends on."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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

    def create_many(self, dossiers: Sequence[DossierRow]) -> set[str]:
        """`create_once` for several (distinct dedupe keys) in one statement: the keys inserted."""
        ...

    def get(self, dossier_id: str) -> DossierRow | None: ...

    def get_by_dedupe_key(self, dedupe_key: str) -> DossierRow | None: ...

    def set_status(self, dossier_id: str, status: str) -> None: ...


class ReceiptRepository(Protocol):
    def add(self, receipt: ReceiptRow) -> None: ...

    def add_many(self, receipts: Sequence[ReceiptRow]) -> None:
        """`add` for several, in one statement."""
        ...

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
