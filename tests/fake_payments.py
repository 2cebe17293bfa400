"""In-memory payment side of the store (gateway.services.ports.PaymentsStore), for service unit tests.

The same contract as the SQL repositories (gateway.store.payments, .mandates, .indices, .outbox,
.bank, .ledger):
rows in dictionaries, a transaction works on a copy kept only when its block ends normally, so a
run that raises leaves nothing behind, as in SQL. The dossiers, receipts and events are
gateway.store.memory's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from gateway.payments.amounts import shipped_table as shipped_amounts
from gateway.payments.indices import IndexTable, shipped_table
from gateway.payments.ledger import Ledger
from gateway.payments.reconcile import DebitState, DebitStatus, ExpectedDebit, Outcome
from gateway.services.ports import DossierRow
from gateway.services.records import (
    BankReportRow,
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
    WaitingRow,
)
from gateway.store.memory import MemoryDossiers, MemoryEvents, MemoryIdempotency, MemoryReceipts, _State
from gateway.store.payments import SETTLED

PAGE = 1000


@dataclass
class PaymentsState:
    base: _State = field(default_factory=_State)
    mandates: dict[str, MandateRow] = field(default_factory=dict)
    debits: dict[str, DebitRow] = field(default_factory=dict)
    collected: dict[str, int] = field(default_factory=dict)  # what the bank credited, per debit
    credits: dict[str, CreditRow] = field(default_factory=dict)
    files: list[PaymentFileRow] = field(default_factory=list)
    payout_accounts: dict[str, PayoutAccountRow] = field(default_factory=dict)
    outbox: dict[str, OutboxRow] = field(default_factory=dict)
    revaluations: dict[tuple[str, int, date], RevaluationRow] = field(default_factory=dict)
    progress: dict[str, tuple[DebitStatus, datetime]] = field(default_factory=dict)  # the bank's word
    reports: dict[str, BankReportRow] = field(default_factory=dict)
    anomalies: list[tuple[str, str | None, str]] = field(default_factory=list)  # report, code, reference
    spans: dict[str, SpanRow] = field(default_factory=dict)

    def copy(self) -> PaymentsState:
        return PaymentsState(
            self.base.copy(), dict(self.mandates), dict(self.debits), dict(self.collected),
            dict(self.credits), list(self.files), dict(self.payout_accounts), dict(self.outbox),
            dict(self.revaluations), dict(self.progress), dict(self.reports), list(self.anomalies),
            dict(self.spans),
        )  # fmt: skip


def _pages(items: Sequence[Any], page: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), page):
        yield list(items[start : start + page])


class FakePayments:
    def __init__(self, state: PaymentsState) -> None:
        self._s = state

    def dossier_pages(self, *, status: str = "accepted", page: int = PAGE) -> Iterator[list[DossierRow]]:
        rows = sorted(
            (d for d in self._s.base.dossiers.values() if d.status == status), key=lambda d: d.dossier_id
        )
        return _pages(rows, page)

    def count_dossiers(self, *, status: str = "accepted") -> int:
        return sum(1 for d in self._s.base.dossiers.values() if d.status == status)

    def dossier(self, dossier_id: str) -> DossierRow | None:
        return self._s.base.dossiers.get(dossier_id)

    def mandates(self, dossier_ids: Sequence[str], *, for_update: bool = False) -> dict[str, MandateRow]:
        return {i: self._s.mandates[i] for i in dossier_ids if i in self._s.mandates}

    def mandate(self, dossier_id: str) -> MandateRow | None:
        return self._s.mandates.get(dossier_id)

    def save_mandate(self, row: MandateRow) -> None:
        self._s.mandates[row.dossier_id] = row

    def issued_periods(self, dossier_ids: Sequence[str], period: str) -> set[str]:
        wanted = set(dossier_ids)
        return {
            d.dossier_id for d in self._s.debits.values() if d.period == period and d.dossier_id in wanted
        }

    def add_debits(self, rows: Sequence[DebitRow]) -> None:
        for row in rows:
            if row.end_to_end_id in self._s.debits:
                raise ValueError(f"debit {row.end_to_end_id} recorded twice")
            self._s.debits[row.end_to_end_id] = row

    def debits_of_message(self, message_id: str) -> Iterator[DebitRow]:
        rows = [d for d in self._s.debits.values() if d.message_id == message_id]
        return iter(sorted(rows, key=lambda d: (d.sequence, d.collection_date, d.dossier_id)))

    def file_debits(self, message_id: str) -> Iterator[FileDebit]:
        for d in self.debits_of_message(message_id):
            yield FileDebit(*(getattr(d, name) for name in FileDebit._fields))

    def message_batches(
        self, message_id: str, flag_countries: Collection[str] = ()
    ) -> list[tuple[str, date, int, int, bool]]:
        batches: dict[tuple[str, date], tuple[int, int, bool]] = {}
        for d in self.debits_of_message(message_id):
            count, total, flagged = batches.get((d.sequence, d.collection_date), (0, 0, False))
            outside = d.debtor_iban[:2] in flag_countries or (d.debtor_bic or "")[4:6] in flag_countries
            batches[(d.sequence, d.collection_date)] = (count + 1, total + d.amount_cents, flagged or outside)
        return [(seq, day, n, total, flagged) for (seq, day), (n, total, flagged) in sorted(batches.items())]

    def mark_collected(self, dossier_ids: Sequence[str], now: datetime) -> None:
        for i in dossier_ids:
            self._s.mandates[i] = replace(
                self._s.mandates[i], first_collection_done=True, pending_amendment=None, updated_at=now
            )

    def settled_unpaid_pages(self, *, until: date, page: int = PAGE) -> Iterator[list[tuple[DebitRow, int]]]:
        paid = {c.debit_end_to_end_id for c in self._s.credits.values()}
        rows = sorted(
            (
                (d, self._collected(d))
                for d in self._s.debits.values()
                if d.status in SETTLED and d.collection_date <= until and d.end_to_end_id not in paid
            ),
            key=lambda pair: pair[0].end_to_end_id,
        )
        return _pages(rows, page)

    def _collected(self, debit: DebitRow) -> int:
        if debit.end_to_end_id in self._s.progress:
            return self._s.progress[debit.end_to_end_id][0].collected_cents
        return self._s.collected.get(debit.end_to_end_id, debit.amount_cents)

    def add_credits(self, rows: Sequence[CreditRow]) -> None:
        for row in rows:
            self._s.credits[row.end_to_end_id] = row

    def credits_of_message(self, message_id: str) -> Iterator[CreditRow]:
        rows = [c for c in self._s.credits.values() if c.message_id == message_id]
        return iter(sorted(rows, key=lambda c: c.end_to_end_id))

    def add_file(self, row: PaymentFileRow) -> None:
        self._s.files.append(row)

    def count_files(self, kind: str, label: str) -> int:
        return sum(1 for f in self._s.files if f.kind == kind and f.label == label)

    def files(self) -> list[PaymentFileRow]:
        return list(self._s.files)


class FakeMandates:
    def __init__(self, state: PaymentsState) -> None:
        self._s = state
        self.locked: list[str] = []

    def lock_dossier(self, dossier_id: str) -> None:
        self.locked.append(dossier_id)

    def payout_accounts(self, dossier_ids: Sequence[str]) -> dict[str, PayoutAccountRow]:
        return {i: self._s.payout_accounts[i] for i in dossier_ids if i in self._s.payout_accounts}

    def payout_account(self, dossier_id: str) -> PayoutAccountRow | None:
        return self._s.payout_accounts.get(dossier_id)

    def save_payout_account(self, row: PayoutAccountRow) -> None:
        self._s.payout_accounts[row.dossier_id] = row

    def last_debited_account(self, dossier_id: str) -> tuple[str, str, str | None] | None:
        rows = sorted(
            (d for d in self._s.debits.values() if d.dossier_id == dossier_id),
            key=lambda d: (d.created_at, d.period),
        )
        return None if not rows else (rows[-1].debtor_name, rows[-1].debtor_iban, rows[-1].debtor_bic)

    def waiting_pages(self, *, page: int = PAGE) -> Iterator[list[WaitingRow]]:
        rows = [
            WaitingRow(
                dossier_id=d.dossier_id,
                received_at=d.received_at,
                canonical_json=d.canonical_json,
                mandate_signed=(m := self._s.mandates.get(d.dossier_id)) is not None and m.status == "signed",
                payout_recorded=d.dossier_id in self._s.payout_accounts,
            )
            for d in sorted(self._s.base.dossiers.values(), key=lambda d: d.dossier_id)
            if d.status == "accepted"
        ]
        return _pages([r for r in rows if not (r.mandate_signed and r.payout_recorded)], page)


class FakeIndices:
    def __init__(self, state: PaymentsState) -> None:
        self._s = state

    def index_source(self, base: IndexTable | None = None) -> IndexTable:
        return base if base is not None else shipped_table()

    def record_revaluation(self, row: RevaluationRow) -> bool:
        key = (row.dossier_id, row.child, row.revalued_on)
        if key in self._s.revaluations:
            return False
        self._s.revaluations[key] = row
        return True


class FakeOutbox:
    def __init__(self, state: PaymentsState) -> None:
        self._s = state

    def add(self, row: OutboxRow) -> None:
        self._s.outbox[row.message_id] = row

    def get(self, message_id: str) -> OutboxRow | None:
        return self._s.outbox.get(message_id)

    def pending(self) -> list[OutboxRow]:
        return sorted(
            (r for r in self._s.outbox.values() if r.status == "pending"), key=lambda r: r.created_at
        )

    def mark_sent(self, message_id: str, *, channel_ref: str, at: datetime) -> None:
        row = self._s.outbox[message_id]
        self._s.outbox[message_id] = replace(
            row,
            status="sent",
            sent_at=at,
            channel_ref=channel_ref,
            attempts=row.attempts + 1,
            last_error=None,
        )
        self._s.files = [
            replace(f, channel_ref=channel_ref) if f.message_id == message_id else f for f in self._s.files
        ]

    def note_failure(self, message_id: str, error: str) -> None:
        row = self._s.outbox[message_id]
        self._s.outbox[message_id] = replace(row, attempts=row.attempts + 1, last_error=error)


def _expected(row: DebitRow) -> ExpectedDebit:
    return ExpectedDebit(
        row.end_to_end_id, row.dossier_id, row.period, row.amount_cents, row.message_id, row.payment_info_id
    )


class FakeDebitBook:
    """The reconciliation's DebitBook over the in-memory debits (as gateway.store.bank.SqlDebitBook)."""

    def __init__(self, state: PaymentsState, *, report_key: str, now: datetime, claimed: bool) -> None:
        self._s, self._key, self._now, self._claimed = state, report_key, now, claimed

    def get(self, end_to_end_id: str) -> ExpectedDebit | None:
        row = self._s.debits.get(end_to_end_id)
        return None if row is None else _expected(row)

    def of_payment(self, msg_id: str, pmtinf_id: str | None) -> list[ExpectedDebit]:
        return [
            _expected(d)
            for d in sorted(self._s.debits.values(), key=lambda d: d.end_to_end_id)
            if d.message_id == msg_id and (pmtinf_id is None or d.payment_info_id == pmtinf_id)
        ]

    def status(self, end_to_end_id: str) -> DebitStatus:
        found = self._s.progress.get(end_to_end_id)
        return DebitStatus() if found is None else found[0]

    def update(self, debit: ExpectedDebit, status: DebitStatus) -> None:
        self._s.progress[debit.end_to_end_id] = (status, self._now)
        settled_less = status.state is DebitState.SETTLED and status.collected_cents != debit.amount_cents
        row = self._s.debits[debit.end_to_end_id]
        self._s.debits[debit.end_to_end_id] = row._replace(
            status="settled-partial" if settled_less else status.state.value, reason=status.reason
        )

    def report_seen(self, key: str) -> bool:
        return not (self._claimed and key == self._key) and key in self._s.reports

    def remember_report(self, key: str) -> None:
        """Claimed already, by FakeBankReports.claim."""


class FakeBankReports:
    def __init__(self, state: PaymentsState) -> None:
        self._s = state

    def claim(self, row: BankReportRow) -> bool:
        if row.report_key in self._s.reports:
            return False
        self._s.reports[row.report_key] = row
        return True

    def debit_book(self, report_key: str, *, now: datetime, claimed: bool) -> FakeDebitBook:
        return FakeDebitBook(self._s, report_key=report_key, now=now, claimed=claimed)

    def record_anomaly(self, report_key: str, outcome: Outcome, at: datetime) -> None:
        self._s.anomalies.append((report_key, outcome.code, outcome.reference))

    def complete(self, report_key: str, summary: dict[str, Any], *, archive_seq: int | None) -> None:
        self._s.reports[report_key] = replace(
            self._s.reports[report_key], summary=summary, archive_seq=archive_seq
        )


@dataclass
class LedgerQuestions:
    """Every ledger asked for through the store, (dossier, as of)."""

    asked: list[tuple[str, date | None]] = field(default_factory=list)


class FakeLedgers:
    """A dossier's ledger from the in-memory rows (as gateway.store.ledger)."""

    def __init__(self, state: PaymentsState, questions: LedgerQuestions) -> None:
        self._s, self._questions = state, questions

    def inputs(self, dossier_id: str) -> LedgerInputs | None:
        dossier = self._s.base.dossiers.get(dossier_id)
        if dossier is None:
            return None
        debits = sorted(
            (d for d in self._s.debits.values() if d.dossier_id == dossier_id),
            key=lambda d: (d.period, d.end_to_end_id),
        )
        progress = self._s.progress
        return LedgerInputs(
            dossier_id,
            json.loads(dossier.canonical_json),
            [(_expected(d), progress[d.end_to_end_id][0] if d.end_to_end_id in progress else DebitStatus())
             for d in debits],
            {d.end_to_end_id: progress[d.end_to_end_id][1] for d in debits if d.end_to_end_id in progress},
            {d.end_to_end_id: d.collection_date for d in debits},
            shipped_amounts(),
            shipped_table(),
        )  # fmt: skip

    def ledger(self, dossier_id: str, *, as_of: date | None) -> Ledger | None:
        self._questions.asked.append((dossier_id, as_of))
        inputs = self.inputs(dossier_id)
        return None if inputs is None else inputs.ledger(as_of=as_of)


class FakeCollection:
    """The run's reads over the in-memory rows; no dossier has a profile (the run reads the
    canonical JSON: the exact path)."""

    def __init__(self, state: PaymentsState) -> None:
        self._s = state

    def page_cache(self) -> AbstractContextManager[None]:
        return nullcontext()

    def hold_mandates(self) -> None:
        """Nothing to do: the fake's transactions run one at a time."""

    def pages(self, period: str, *, skip_message: str = "") -> Iterator[list[CollectionRow]]:
        issued = {d.dossier_id for d in self._s.debits.values() if d.period == period}
        taken = {
            d.dossier_id
            for d in self._s.debits.values()
            if d.period == period and d.message_id == skip_message
        }
        rows = [
            CollectionRow(
                dossier_id=d.dossier_id,
                terms=None,
                debtor_address=None,
                mandate=self._s.mandates.get(d.dossier_id),
                has_payout_account=d.dossier_id in self._s.payout_accounts,
                issued=d.dossier_id in issued,
            )
            for d in sorted(self._s.base.dossiers.values(), key=lambda d: d.dossier_id)
            if d.status == "accepted" and d.dossier_id not in taken
        ]
        return _pages(rows, PAGE)

    def save_spans(self, rows: Sequence[SpanRow]) -> None:
        self._s.spans.update((r.dossier_id, r) for r in rows)

    def issue_spans(
        self,
        period: str,
        *,
        message_id: str,
        created_at: datetime,
        days: Mapping[int, tuple[date, str]],
        basis: str,
    ) -> int:
        """In memory every dossier takes the computed path (the SQL path is tested on the
        real store: tests/integration/sepa/test_span_runs.py); the spans are kept, not used."""
        return 0

    def recorded_revaluations(self, dossier_ids: Sequence[str]) -> set[tuple[str, int, date]]:
        wanted = set(dossier_ids)
        return {key for key in self._s.revaluations if key[0] in wanted}


class FakePaymentsUnitOfWork:
    def __init__(self, state: PaymentsState, *, writable: bool, questions: LedgerQuestions) -> None:
        self.dossiers = MemoryDossiers(state.base)
        self.receipts = MemoryReceipts(state.base)
        self.idempotency = MemoryIdempotency(state.base)
        self.events = MemoryEvents(state.base, writable=writable)
        self.payments = FakePayments(state)
        self.mandates = FakeMandates(state)
        self.indices = FakeIndices(state)
        self.outbox = FakeOutbox(state)
        self.bank_reports = FakeBankReports(state)
        self.ledgers = FakeLedgers(state, questions)
        self.collection = FakeCollection(state)


class FakePaymentsStore:
    """A PaymentsStore in memory; `state` is what the last committed transaction left."""

    def __init__(self) -> None:
        self.state = PaymentsState()
        self._lock = threading.RLock()
        self.transactions = 0
        self.ledgers = LedgerQuestions()

    @contextmanager
    def transaction(self) -> Iterator[FakePaymentsUnitOfWork]:
        with self._lock:
            draft = self.state.copy()
            yield FakePaymentsUnitOfWork(draft, writable=True, questions=self.ledgers)
            self.state = draft
            self.transactions += 1

    @contextmanager
    def read(self) -> Iterator[FakePaymentsUnitOfWork]:
        with self._lock:
            yield FakePaymentsUnitOfWork(self.state.copy(), writable=False, questions=self.ledgers)

    def add_dossier(self, row: DossierRow) -> None:
        with self.transaction() as uow:
            uow.dossiers.create_once(row)

    def event_types(self) -> list[str]:
        return [e.type for e in self.state.base.events]


@dataclass
class FakeChannel:
    """The bank channel: keeps what it was handed (name, bytes, signature); `fail` makes it refuse."""

    sent: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    fail: bool = False

    def send(self, path: Any, signature: bytes, *, name: str, sha256: str) -> str:
        import hashlib

        from gateway.errors import BankChannelError, SourceFileChanged, SourceFileUnreadable

        if self.fail:
            raise BankChannelError("the bank refused the upload: HTTP 503")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceFileUnreadable(f"cannot read the file to send: {exc.strerror}") from exc
        if hashlib.sha256(data).hexdigest() != sha256:  # the port's promise: only the recorded bytes
            raise SourceFileChanged("the file to send is not the one that was signed (SHA-256 differs)")
        self.sent.append((name, data, signature))
        return f"fake://{name}"
