"""Which debits are due for a period (month): amounts, dates, sequence types, idempotency.

For each collectable dossier and a period `YYYY-MM` (docs/payment-cycle.md "Debit days"):
- the day is the one fixed by the title, else the 1st, 10th or 15th chosen by the debtor,
  clamped to the month's last day (31 -> 30 in November), then moved to the next TARGET
  business day (gateway.payments.calendar);
- nothing is due when that scheduled day is before the title's effective date or after its
  end date (the unadjusted day is compared: a month owed is still collected when its day
  rolls over a weekend past the end date), nor when the monthly total is zero;
- FRST for the dossier's first collection, RCUR afterwards (EPC130-08 AT-21);
- the idempotency key is (dossier id, period): a key in `already_issued` yields nothing, so
  running the same period twice never makes a second debit. The EndToEndId is derived from
  the same key (gateway.sepa.ids), so a duplicate would also be visible downstream.

The schedule streams: it reads collectables one by one and yields due debits in input order,
holding nothing but the `already_issued` container (a set, or a store-backed lookup).
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from gateway.payments.calendar import next_business_day
from gateway.payments.mandates import Mandate
from gateway.sepa.ids import end_to_end_id, period_key
from gateway.sepa.model import Amendment, DirectDebit, SequenceType

CHOSEN_DAYS = (1, 10, 15)  # the debtor's choice when the title fixes no day

IdempotencyKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Collectable:
    """A dossier the fund collects from, as the schedule needs it (no storage here)."""

    dossier_id: str
    monthly_total_cents: int
    collection_day: int | None  # fixed by the title (1-31), or None
    effective_date: date
    end_date: date | None
    mandate: Mandate
    first_collection_done: bool
    chosen_day: int = 1  # 1, 10 or 15 when the title fixes no day
    amendment: Amendment | None = None  # pending amendment, sent with the next debit

    def __post_init__(self) -> None:
        if self.collection_day is not None and not 1 <= self.collection_day <= 31:
            raise ValueError(f"collection_day must be 1-31, not {self.collection_day}")
        if self.chosen_day not in CHOSEN_DAYS:
            raise ValueError(f"chosen_day must be one of {CHOSEN_DAYS}, not {self.chosen_day}")


@dataclass(frozen=True, slots=True)
class DueDebit:
    """One debit due for a dossier and period, ready to become a pain.008 transaction."""

    dossier_id: str
    period: str
    scheduled_on: date
    collection_date: date
    sequence: SequenceType
    amount_cents: int
    end_to_end_id: str
    mandate: Mandate
    amendment: Amendment | None

    @property
    def key(self) -> IdempotencyKey:
        return (self.dossier_id, self.period)

    def to_direct_debit(self, remittance: str | None = None) -> DirectDebit:
        account = self.mandate.account
        return DirectDebit(
            end_to_end_id=self.end_to_end_id,
            amount_cents=self.amount_cents,
            mandate_id=self.mandate.reference,
            mandate_signed_on=self.mandate.signed_on,
            sequence=self.sequence,
            collection_date=self.collection_date,
            debtor_name=account.name,
            debtor_iban=account.iban,
            debtor_bic=account.bic,
            remittance=remittance,
            amendment=self.amendment,
        )


def scheduled_day(period: str, collectable: Collectable) -> date:
    """The nominal collection day of the period, before the business-day adjustment."""
    key = period_key(period)
    year, month = int(key[:4]), int(key[4:])
    wanted = collectable.collection_day or collectable.chosen_day
    return date(year, month, min(wanted, _calendar.monthrange(year, month)[1]))


def due_debit(period: str, collectable: Collectable) -> DueDebit | None:
    """The debit due for one dossier in `period`, or None (not yet/no longer due, nothing owed)."""
    nominal = scheduled_day(period, collectable)
    if collectable.monthly_total_cents <= 0 or nominal < collectable.effective_date:
        return None
    if collectable.end_date is not None and nominal > collectable.end_date:
        return None
    return DueDebit(
        dossier_id=collectable.dossier_id,
        period=period,
        scheduled_on=nominal,
        collection_date=next_business_day(nominal),
        sequence=SequenceType.RCUR if collectable.first_collection_done else SequenceType.FRST,
        amount_cents=collectable.monthly_total_cents,
        end_to_end_id=end_to_end_id(collectable.dossier_id, "DD", period),
        mandate=collectable.mandate,
        amendment=collectable.amendment,
    )


def due_debits(
    period: str,
    collectables: Iterable[Collectable],
    already_issued: Container[IdempotencyKey] = frozenset(),
) -> Iterator[DueDebit]:
    """Every debit due in `period` that was not issued before (key: dossier, period)."""
    period_key(period)  # fail fast on a malformed period
    seen: set[IdempotencyKey] = set()
    for collectable in collectables:
        key = (collectable.dossier_id, period)
        if key in already_issued or key in seen:
            continue
        debit = due_debit(period, collectable)
        if debit is not None:
            seen.add(key)
            yield debit
