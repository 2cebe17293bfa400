"""The ports: every protocol a service depends on, each declared once (docs/architecture.md).

The services (gateway.services) take these and nothing else from the outside world; the
composition root (gateway.bootstrap) gives them the real ones (gateway.store, gateway.archive,
gateway.signing, gateway.infra), the unit tests fakes (tests/fakes.py). The rows the store keeps
are here too, as plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:  # the store's row types, for the payment side's repositories below
    from gateway.payments.indices import IndexTable
    from gateway.payments.ledger import Ledger
    from gateway.payments.reconcile import DebitBook, Outcome
    from gateway.services.records import (
        BankReportRow,
        ClaimedDelivery,
        CollectionRow,
        CreditRow,
        DebitRow,
        FileDebit,
        LedgerInputs,
        MandateRow,
        OutboxRow,
        PaymentFileRow,
        PayoutAccountRow,
        RevaluationRow,
        SpanRow,
        SubscriptionFilter,
        WaitingRow,
    )

#: What time it is now (tz-aware UTC); the real one is `datetime.now(UTC)`.
Clock = Callable[[], datetime]
Profile = tuple[str, str | None]  # a dossier's collection profile: (terms text, debtor address JSON)


class Signer(Protocol):
    """Detached CMS signatures with the gateway's key (gateway.signing.cms.Signer)."""

    def sign_detached(self, data: bytes) -> bytes:
        """A detached signature over `data` (DER)."""
        ...

    def sign_detached_digest(self, sha256: bytes) -> bytes:
        """A detached signature over content whose SHA-256 is `sha256` (a file too big to hold)."""
        ...

    def sign_detached_file(self, path: Path) -> bytes:
        """A detached signature over the file at `path`, read in chunks."""
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
        sha256: str | None = None,
    ) -> object:
        """Archive a file of any size in constant memory. `sha256`: its digest (hex) when the
        caller computed it while writing the file: the archive then does not hash it again."""
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

    def send(self, path: Path, signature: bytes, *, name: str, sha256: str) -> str:
        """Hand `path` (and its signature) to the bank under `name`; returns a reference.

        Only bytes whose SHA-256 (hex) is `sha256` reach the bank: other bytes raise
        SourceFileChanged, a file that cannot be read SourceFileUnreadable, and any other failure
        BankChannelError (gateway.errors), with nothing sent."""
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

    def create_many(
        self, dossiers: Sequence[DossierRow], profiles: Mapping[str, Profile | None] | None = None
    ) -> set[str]:
        """`create_once` for several (distinct dedupe keys) in one statement: the keys inserted.

        `profiles`: collection profiles already made from these dossiers, by dossier id
        (gateway.payments.profile.profile_or_none; the intake makes them in its validation
        process); the store makes those not given from the canonical JSON."""
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

    def remember_many(self, rows: Sequence[IdempotencyRow]) -> None:
        """`remember` each row, in one statement; a (sender, key) already stored is left as is."""
        ...

    def lookup(self, sender: str, key: str) -> IdempotencyRow | None: ...

    def lookup_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], IdempotencyRow]:
        """The stored rows of these (sender, key) pairs, in one statement; absent ones are left out."""
        ...


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


# The payment side of a unit of work: SEPA out (mandates, debits, files, payouts), the bank
# channel's outbox, price indices, bank reports in and the ledger. The rows are the store's
# dataclasses (gateway.store.*), named here for typing only.


class PaymentsRepository(Protocol):
    """Dossiers as the runs read them, mandates, debits, payment files and payouts."""

    def dossier_pages(self, *, status: str = "accepted", page: int = ...) -> Iterator[list[DossierRow]]: ...

    def count_dossiers(self, *, status: str = "accepted") -> int: ...

    def dossier(self, dossier_id: str) -> DossierRow | None: ...

    def mandates(self, dossier_ids: Sequence[str], *, for_update: bool = False) -> dict[str, MandateRow]: ...

    def mandate(self, dossier_id: str) -> MandateRow | None: ...

    def save_mandate(self, row: MandateRow) -> None: ...

    def issued_periods(self, dossier_ids: Sequence[str], period: str) -> set[str]: ...

    def add_debits(self, rows: Sequence[DebitRow]) -> None: ...

    def debits_of_message(self, message_id: str) -> Iterator[DebitRow]: ...

    def file_debits(self, message_id: str) -> Iterator[FileDebit]: ...

    def message_batches(
        self, message_id: str, flag_countries: Collection[str] = ()
    ) -> list[tuple[str, date, int, int, bool]]:
        """(sequence, collection date, count, total cents, flagged) per PmtInf of one file;
        `flagged`: a debtor's bank is in one of `flag_countries`."""
        ...

    def mark_collected(self, dossier_ids: Sequence[str], now: datetime) -> None: ...

    def settled_unpaid_pages(
        self, *, until: date, page: int = ...
    ) -> Iterator[list[tuple[DebitRow, int]]]: ...

    def add_credits(self, rows: Sequence[CreditRow]) -> None: ...

    def credits_of_message(self, message_id: str) -> Iterator[CreditRow]: ...

    def add_file(self, row: PaymentFileRow) -> None: ...

    def count_files(self, kind: str, label: str) -> int: ...

    def files(self) -> list[PaymentFileRow]: ...


class MandatesRepository(Protocol):
    """Payout accounts, the dossier lock of a mandate change, the dossiers waiting for either."""

    def lock_dossier(self, dossier_id: str) -> None: ...

    def payout_accounts(self, dossier_ids: Sequence[str]) -> dict[str, PayoutAccountRow]: ...

    def payout_account(self, dossier_id: str) -> PayoutAccountRow | None: ...

    def save_payout_account(self, row: PayoutAccountRow) -> None: ...

    def last_debited_account(self, dossier_id: str) -> tuple[str, str, str | None] | None: ...

    def waiting_pages(self, *, page: int = ...) -> Iterator[list[WaitingRow]]: ...


class IndicesRepository(Protocol):
    """Price index values (shipped and imported) and the revaluations recorded."""

    def index_source(self, base: IndexTable | None = None) -> IndexTable: ...

    def record_revaluation(self, row: RevaluationRow) -> bool:
        """Record a child's revaluation once; False when it was recorded already."""
        ...


class OutboxRepository(Protocol):
    """SEPA files recorded by a run, waiting for (or handed to) the bank channel."""

    def add(self, row: OutboxRow) -> None: ...

    def get(self, message_id: str) -> OutboxRow | None: ...

    def pending(self) -> list[OutboxRow]: ...

    def mark_sent(self, message_id: str, *, channel_ref: str, at: datetime) -> None: ...

    def note_failure(self, message_id: str, error: str) -> None: ...


class BankReportsRepository(Protocol):
    """Bank reports in: claim one (idempotency), reconcile against the debits, record anomalies."""

    def claim(self, row: BankReportRow) -> bool:
        """Insert the report's row unless its key exists; whether this import claimed it."""
        ...

    def debit_book(self, report_key: str, *, now: datetime, claimed: bool) -> DebitBook: ...

    def record_anomaly(self, report_key: str, outcome: Outcome, at: datetime) -> None: ...

    def complete(self, report_key: str, summary: dict[str, Any], *, archive_seq: int | None) -> None: ...


class LedgerRepository(Protocol):
    """What a dossier's ledger is computed from (gateway.payments.ledger)."""

    def inputs(self, dossier_id: str) -> LedgerInputs | None: ...

    def ledger(self, dossier_id: str, *, as_of: date | None) -> Ledger | None:
        """The dossier's ledger, None when there is no such dossier."""
        ...


class CollectionReads(Protocol):
    """What the monthly run reads, a page of dossiers at a time (gateway.store.profiles.SqlCollection)."""

    def page_cache(self) -> AbstractContextManager[None]: ...

    def hold_mandates(self) -> None: ...

    def pages(self, period: str, *, skip_message: str = "") -> Iterator[list[CollectionRow]]: ...

    def recorded_revaluations(self, dossier_ids: Sequence[str]) -> set[tuple[str, int, date]]: ...

    def save_spans(self, rows: Sequence[SpanRow]) -> None: ...

    def issue_spans(
        self,
        period: str,
        *,
        message_id: str,
        created_at: datetime,
        days: Mapping[int, tuple[date, str]],
        basis: str,
    ) -> int: ...


class PaymentsUnitOfWork(UnitOfWork, Protocol):
    """A unit of work with the payment side's repositories (gateway.store.sql.SqlUnitOfWork)."""

    @property
    def payments(self) -> PaymentsRepository: ...

    @property
    def mandates(self) -> MandatesRepository: ...

    @property
    def indices(self) -> IndicesRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def bank_reports(self) -> BankReportsRepository: ...

    @property
    def ledgers(self) -> LedgerRepository: ...

    @property
    def collection(self) -> CollectionReads: ...


class PaymentsStore(Protocol):
    """The store as the payment services use it (gateway.store.sql.SqlStore)."""

    def transaction(self) -> AbstractContextManager[PaymentsUnitOfWork]: ...

    def read(self) -> AbstractContextManager[PaymentsUnitOfWork]: ...


class DeliveryQueue(Protocol):
    """Webhook deliveries: fanned out from the outbox, claimed under a lease, recorded
    (gateway.store.deliveries.SqlDeliveries; each call is its own short transaction)."""

    def has_pending(self) -> bool:
        """Whether any delivery waits (for `serve` to run a worker with no subscription left)."""
        ...

    def heartbeat(self, subscriptions: Collection[str], *, now: datetime) -> None: ...

    def set_aside_unsubscribed(
        self, served: Collection[str], *, now: datetime, silent_since: datetime, batch: int = ...
    ) -> list[int]: ...

    def fan_out(self, subscription: SubscriptionFilter, *, now: datetime, batch: int = ...) -> int: ...

    def claim(
        self, subscriptions: Collection[str], *, now: datetime, lease: timedelta, limit: int, token: str
    ) -> list[ClaimedDelivery]: ...

    def record_delivered(
        self, claimed: ClaimedDelivery, *, now: datetime, status_code: int | None
    ) -> bool: ...

    def record_failed(
        self,
        claimed: ClaimedDelivery,
        *,
        now: datetime,
        status_code: int | None,
        error: str,
        retry_at: datetime | None,
    ) -> bool: ...
