"""The rows the services exchange with the store: plain frozen dataclasses, no SQL.

The store (gateway/store/) reads and writes them; services and their in-memory fakes build
and read them without importing the store (docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from gateway.payments.amounts import AmountsTable
from gateway.payments.indices import IndexTable
from gateway.payments.ledger import Ledger, build_ledger, dossier_dues
from gateway.payments.reconcile import DebitStatus, ExpectedDebit


# outbox
@dataclass(frozen=True, slots=True)
class OutboxRow:
    message_id: str
    kind: str
    file_name: str
    path: str
    sha256: str
    signature: bytes
    created_at: datetime
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    channel_ref: str | None = None


# ledger
@dataclass(frozen=True, slots=True)
class LedgerInputs:
    dossier_id: str
    dossier: dict[str, Any]  # the canonical dossier (JSON form)
    debits: list[tuple[ExpectedDebit, DebitStatus]]
    reported_at: dict[str, datetime]
    due_on: dict[str, date]
    table: AmountsTable
    indices: IndexTable | None = None  # the store's index values: the collection's (docs/revaluation.md)

    def ledger(self, *, as_of: date | None) -> Ledger:
        return build_ledger(
            self.dossier_id,
            self.debits,
            dossier_dues(self.dossier, self.indices),
            table=self.table,
            as_of=as_of,
            reported_at=self.reported_at,
            due_on=self.due_on,
        )


# deliveries
@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery this worker holds until `locked_until`, with the event to send."""

    delivery_id: int
    subscription: str
    attempt: int  # 1 for the first attempt
    claim_token: str
    locked_until: datetime
    event_id: int
    event_type: str
    dossier_id: str | None
    payload_json: str
    event_created_at: datetime


# deliveries
@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    """What the fan-out needs of a subscription: its key and the event types it wants (empty: all)."""

    key: str
    types: frozenset[str] = frozenset()

    def wants(self, event_type: str) -> bool:
        return not self.types or event_type in self.types


# bank
@dataclass(frozen=True, slots=True)
class BankReportRow:
    report_key: str
    message: str
    report_id: str
    file_sha256: str
    archive_seq: int | None
    imported_at: datetime
    summary: dict[str, Any]


# profiles
@dataclass(frozen=True, slots=True)
class CollectionRow:
    """One accepted dossier as the monthly run reads it: its profile (None: none stored), its
    mandate (None: none yet), whether a payout account is recorded and whether the period has a
    debit already."""

    dossier_id: str
    terms: str | None
    debtor_address: str | None
    mandate: MandateRow | None
    has_payout_account: bool
    issued: bool


@dataclass(frozen=True, slots=True)
class SpanRow:
    """A dossier's steady span as stored (gateway.payments.span.Span, table `collection_spans`):
    the months `first_period`..`last_period` owe `amount_cents`; valid for the run's `basis` and
    while the dossier's mandate still has the values the span's debit was checked with."""

    dossier_id: str
    first_period: str
    last_period: str
    amount_cents: int
    basis: str
    mandate_reference: str
    mandate_signed_on: date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None
    collection_day: int | None
    chosen_day: int
    debtor_address: str | None


# indices
@dataclass(frozen=True, slots=True)
class RevaluationRow:
    dossier_id: str
    child: int
    revalued_on: date
    old_cents: int | None
    new_cents: int
    series: str
    base_value: Decimal
    base_period: str | None
    value: Decimal
    value_period: str
    recorded_at: datetime


# mandates
@dataclass(frozen=True, slots=True)
class PayoutAccountRow:
    """The creditor parent's account as recorded: payouts (pain.001) go there and nowhere else."""

    dossier_id: str
    holder: str
    iban: str
    bic: str | None
    recorded_at: datetime


# mandates
@dataclass(frozen=True, slots=True)
class WaitingRow:
    """An accepted dossier without a signed mandate, or without a payout account, or both."""

    dossier_id: str
    received_at: datetime
    canonical_json: str
    mandate_signed: bool
    payout_recorded: bool


# payments
# A mandate's status: pending until the back-office records the debtor's signature (docs/mandates.md).
STATUS_PENDING, STATUS_SIGNED = "pending", "signed"  # a mandate's status


# payments
@dataclass(frozen=True, slots=True)
class MandateRow:
    """A dossier's mandate: `pending` (account pre-filled, never debited) until the back-office
    records the debtor's signature (`signed`, with `signed_on` and `method`): gateway.services.mandates."""

    dossier_id: str
    reference: str
    signed_on: date | None
    debtor_name: str
    iban: str
    bic: str | None
    collection_day: int | None
    chosen_day: int
    first_collection_done: bool
    pending_amendment: dict[str, Any] | None
    updated_at: datetime
    status: str = STATUS_SIGNED  # STATUS_PENDING or STATUS_SIGNED
    method: str | None = None  # paper, electronic
    amended_on: date | None = None


# payments
class DebitRow(NamedTuple):
    """One recorded debit. A named tuple, as gateway.sepa.model.DirectDebit: a file reads
    1,000,000 of them, and a frozen dataclass of 18 fields costs 2.9 us to build (each field set
    through object.__setattr__), this 0.4 us. Copy with `_replace`."""

    end_to_end_id: str
    dossier_id: str
    period: str
    amount_cents: int
    collection_date: date
    sequence: str
    mandate_reference: str
    mandate_signed_on: date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None
    amendment: str | None  # JSON of gateway.sepa.model.Amendment
    message_id: str
    payment_info_id: str
    status: str
    reason: str | None
    created_at: datetime
    debtor_address: str | None = None  # JSON (gateway.sepa.addresses), non-EEA banks only


class FileDebit(NamedTuple):
    """What a pain.008 transaction says of a recorded debit, read for writing its file: the
    columns of DebitRow the file needs, no more (1,000,000 a month: five columns fewer to read
    and convert, and no second tuple per debit)."""

    end_to_end_id: str
    amount_cents: int
    mandate_reference: str
    mandate_signed_on: date
    sequence: str
    collection_date: date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None
    debtor_address: str | None  # JSON (gateway.sepa.addresses)
    dossier_id: str
    period: str
    amendment: str | None  # JSON of gateway.sepa.model.Amendment


# payments
@dataclass(frozen=True, slots=True)
class CreditRow:
    end_to_end_id: str
    dossier_id: str
    debit_end_to_end_id: str
    period: str
    amount_cents: int
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None
    execution_date: date
    message_id: str
    payment_info_id: str
    status: str
    created_at: datetime
    creditor_address: str | None = None  # JSON (gateway.sepa.addresses), non-EEA banks only


# payments
@dataclass(frozen=True, slots=True)
class PaymentFileRow:
    message_id: str
    kind: str
    version: str
    label: str
    created_at: datetime
    file_name: str
    sha256: str
    count: int
    total_cents: int
    archive_seq: int | None = None
    channel_ref: str | None = None
