"""In-memory implementation of the storage ports, for service-layer tests (same contract as SQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from gateway.services.ports import DossierRow, EventRow, IdempotencyRow, NewEvent, Profile, ReceiptRow


@dataclass
class _State:
    dossiers: dict[str, DossierRow] = field(default_factory=dict)
    by_dedupe_key: dict[str, str] = field(default_factory=dict)
    receipts: dict[str, ReceiptRow] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRow] = field(default_factory=dict)
    events: list[EventRow] = field(default_factory=list)
    next_event_id: int = 1

    def copy(self) -> _State:
        return _State(
            dict(self.dossiers),
            dict(self.by_dedupe_key),
            dict(self.receipts),
            dict(self.idempotency),
            list(self.events),
            self.next_event_id,
        )


class MemoryDossiers:
    def __init__(self, state: _State) -> None:
        self._s = state

    def create_once(self, dossier: DossierRow) -> tuple[DossierRow, bool]:
        if dossier.received_at.tzinfo is None:
            raise ValueError("naive datetimes are refused: times are tz-aware UTC")
        existing = self.get_by_dedupe_key(dossier.dedupe_key)
        if existing is not None:
            return existing, False
        if dossier.dossier_id in self._s.dossiers:
            raise ValueError(f"dossier id {dossier.dossier_id!r} already used")
        self._s.dossiers[dossier.dossier_id] = dossier
        self._s.by_dedupe_key[dossier.dedupe_key] = dossier.dossier_id
        return dossier, True

    def create_many(
        self, dossiers: Sequence[DossierRow], profiles: Mapping[str, Profile | None] | None = None
    ) -> set[str]:
        return {d.dedupe_key for d in dossiers if self.create_once(d)[1]}  # no profiles kept here

    def get(self, dossier_id: str) -> DossierRow | None:
        return self._s.dossiers.get(dossier_id)

    def get_by_dedupe_key(self, dedupe_key: str) -> DossierRow | None:
        dossier_id = self._s.by_dedupe_key.get(dedupe_key)
        return None if dossier_id is None else self._s.dossiers[dossier_id]

    def set_status(self, dossier_id: str, status: str) -> None:
        if dossier_id in self._s.dossiers:
            self._s.dossiers[dossier_id] = replace(self._s.dossiers[dossier_id], status=status)


class MemoryReceipts:
    def __init__(self, state: _State) -> None:
        self._s = state

    def add(self, receipt: ReceiptRow) -> None:
        if receipt.receipt_id in self._s.receipts:
            raise ValueError(f"receipt id {receipt.receipt_id!r} already used")
        if receipt.dossier_id is not None and receipt.dossier_id not in self._s.dossiers:
            raise ValueError(f"no dossier {receipt.dossier_id!r}")  # as the foreign key would
        self._s.receipts[receipt.receipt_id] = receipt

    def add_many(self, receipts: Sequence[ReceiptRow]) -> None:
        for receipt in receipts:
            self.add(receipt)

    def get(self, receipt_id: str) -> ReceiptRow | None:
        return self._s.receipts.get(receipt_id)

    def first_for_dossier(self, dossier_id: str) -> ReceiptRow | None:
        found = [r for r in self._s.receipts.values() if r.dossier_id == dossier_id]
        return min(found, key=lambda r: (r.created_at, r.receipt_id), default=None)


class MemoryIdempotency:
    def __init__(self, state: _State) -> None:
        self._s = state

    def remember(self, row: IdempotencyRow) -> tuple[IdempotencyRow, bool]:
        existing = self._s.idempotency.get((row.sender, row.key))
        if existing is not None:
            return existing, False
        if row.receipt_id not in self._s.receipts:
            raise ValueError(f"no receipt {row.receipt_id!r}")  # as the foreign key would
        self._s.idempotency[(row.sender, row.key)] = row
        return row, True

    def remember_many(self, rows: Sequence[IdempotencyRow]) -> None:
        for row in rows:
            self.remember(row)

    def lookup(self, sender: str, key: str) -> IdempotencyRow | None:
        return self._s.idempotency.get((sender, key))

    def lookup_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], IdempotencyRow]:
        return {key: self._s.idempotency[key] for key in keys if key in self._s.idempotency}


class MemoryEvents:
    def __init__(self, state: _State, *, writable: bool) -> None:
        self._s = state
        self._writable = writable

    def append(self, event: NewEvent) -> None:
        if not self._writable:
            raise RuntimeError("events can only be appended in a write transaction")
        self._s.events.append(
            EventRow(
                self._s.next_event_id,
                event.type,
                event.dossier_id,
                event.payload_json,
                event.created_at,
            )
        )
        self._s.next_event_id += 1

    def read_after(self, after: int, limit: int) -> Sequence[EventRow]:
        return [e for e in self._s.events if e.event_id > after][:limit]

    def last_id(self) -> int:
        return self._s.events[-1].event_id if self._s.events else 0


class MemoryUnitOfWork:
    def __init__(self, state: _State, *, writable: bool) -> None:
        self.dossiers = MemoryDossiers(state)
        self.receipts = MemoryReceipts(state)
        self.idempotency = MemoryIdempotency(state)
        self.events = MemoryEvents(state, writable=writable)


class MemoryStore:
    """A Store kept in memory: transactions are serialised and work on a copy kept only on success."""

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()
        self.reachable = True  # tests flip it to see /readyz fail

    @contextmanager
    def transaction(self) -> Iterator[MemoryUnitOfWork]:
        with self._lock:
            draft = self._state.copy()
            yield MemoryUnitOfWork(draft, writable=True)
            self._state = draft

    @contextmanager
    def read(self) -> Iterator[MemoryUnitOfWork]:
        with self._lock:
            yield MemoryUnitOfWork(self._state.copy(), writable=False)

    def ping(self) -> None:
        if not self.reachable:
            raise ConnectionError("memory store marked unreachable")

    def close(self) -> None:
        pass
