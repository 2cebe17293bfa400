"""The arrears ledger of a dossier: due, paid and unpaid by month, and the ASF to advance for each gap.

Built from the dossier's debits and their reconciled progress (gateway.payments.reconcile). For every
month that ends unpaid or partly paid, the ledger carries the differential ASF of L. 581-2 CSS
(gateway.payments.asf) computed with the ASF amount in force on the 1st of that month, the EPC reason
of the failure and the follow-up it calls for, so the back-office can act; arrears are recoverable up
to 24 months.

Follow-up deadlines (R. 582-8 CSS, docs/payment-cycle.md "Unpaid months": "Unpaid month (rejected
or returned debit): within 15 days a notice to pay within 15 days, then forced recovery"). For each
unpaid or partly paid month that is not time-barred:

- `failed_on`: the day the fund learned the month's shortfall, i.e. the day it imported the bank
  report (pain.002 reject, camt.054 return or short credit) that last changed one of the month's
  debits (`debit_progress.updated_at`, the same instant as the report's `bank_reports.imported_at`
  and the `received_at` of its signed archive entry), as a date in metropolitan France like
  `gateway.validation.transmission_day`. Not the report's CreDtTm nor an entry's booking date: those
  are the bank's dates, from before the fund could know (the golden camt.054 of returns is created
  on 12 Nov for entries booked on 5 Nov), and the store keeps neither. With a re-presentation the
  month stays pending until the last debit's outcome, so the clock starts when the month's
  shortfall became final;
- `notice_due_by` = `failed_on` + 15 days: the last day to send the notice to pay;
- `payment_due_by` = `notice_due_by` + 15 days: the end of the 15 days the notice gives the debtor,
  counted from the latest day it may be sent (the ledger does not know when a notice was actually
  sent; `follow_up` counts from that day when it is given);
- `recovery_from` = `payment_due_by` + 1 day: the first day forced recovery may start if the debtor
  has not paid.

Calendar days: the texts say "jours" (décret 2022-259 counts "sept jours", "le soixantième jour"),
never "jours ouvrés" or "ouvrables". We count a period from the day after the one that starts it,
and do not extend one that ends on a week-end or holiday. Paid, pending and time-barred months carry
no deadline; an unpaid month gets them whatever its reason's action (`retry`, `fix-data` too: the
month is unpaid until a re-presentation succeeds, and a re-presentation makes it pending again).

With several children the triple limit applies child by child: the cap is the sum over the children
of min(pension of the child, ASF), compared with what the debtor paid for the month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gateway.payments.amounts import asf_for
from gateway.payments.asf import AdvanceKind, AsfAdvance, asf_advance
from gateway.payments.reconcile import OPEN, DebitState, DebitStatus, ExpectedDebit
from gateway.sepa.reports import reason_for

MonthStatus = Literal["paid", "partly-paid", "unpaid", "pending"]

#: Days to send the notice to pay once the fund knows a month is unpaid, then days the notice gives
#: the debtor to pay before forced recovery (R. 582-8 CSS; docs/payment-cycle.md "Unpaid months"). Days.
NOTICE_DAYS = 15
PAYMENT_DAYS = 15
#: The legal day of an import is its date in metropolitan France (as gateway.validation does).
_PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True, slots=True)
class FollowUp:
    """The deadlines of an unpaid month (see the module docstring for the rule and its counting)."""

    failed_on: date  # the fund learned the shortfall (bank report imported)
    notice_due_by: date  # last day to send the notice to pay
    payment_due_by: date  # last day the notice gives the debtor to pay
    recovery_from: date  # first day of forced recovery if still unpaid

    def to_json(self) -> dict[str, str]:
        return {key: getattr(self, key).isoformat() for key in _FOLLOW_UP_KEYS}


_FOLLOW_UP_KEYS = tuple(f.name for f in fields(FollowUp))


def follow_up(failed_on: date, notice_sent_on: date | None = None) -> FollowUp:
    """The deadlines counted from the day the fund learned of the failure, in calendar days.

    The payment period runs from the day the notice was sent when known, else from the last day it
    may be sent (the latest the debtor can be held to pay).

    >>> follow_up(date(2026, 11, 6)).recovery_from  # notice by 21 Nov, payment by 6 Dec
    datetime.date(2026, 12, 7)
    """
    notice_due_by = failed_on + timedelta(days=NOTICE_DAYS)
    payment_due_by = (notice_sent_on or notice_due_by) + timedelta(days=PAYMENT_DAYS)
    return FollowUp(failed_on, notice_due_by, payment_due_by, payment_due_by + timedelta(days=1))


def legal_day(moment: datetime) -> date:
    """The day an instant (an import time, timezone-aware) falls on in metropolitan France."""
    return moment.astimezone(_PARIS).date()


@dataclass(frozen=True, slots=True)
class DossierTerms:
    """What the ASF computation needs beyond the debits: per-child monthly pensions, who fails.

    Without terms the dossier counts as one child whose pension is the monthly debit."""

    child_pensions_cents: tuple[int, ...] = ()
    both_parents: bool = False  # R. 523-7 1° CSS: the higher ASF rate


@dataclass(frozen=True, slots=True)
class LedgerMonth:
    """One month of a dossier: what was due, what arrived, and what the fund should advance."""

    period: str
    due_cents: int
    paid_cents: int
    unpaid_cents: int
    status: MonthStatus
    reason_code: str | None
    reason_meaning: str | None
    action: str | None
    advance: AsfAdvance | None
    debits: tuple[str, ...]
    time_barred: bool = False  # more than 24 months before the ledger's date: no longer recoverable
    follow_up: FollowUp | None = None  # unpaid or partly paid, not time-barred, import date known

    def to_json(self) -> dict[str, Any]:
        advance = None
        if self.advance is not None:
            advance = {
                "kind": self.advance.kind.value,
                "amount_cents": self.advance.amount_cents,
                "recoverable_cents": self.advance.recoverable_cents,
                "asf_cents": self.advance.asf_cents,
            }
        deadlines: dict[str, str | None] = dict.fromkeys(_FOLLOW_UP_KEYS)
        if self.follow_up is not None:
            deadlines.update(self.follow_up.to_json())
        return {
            "period": self.period,
            "due_cents": self.due_cents,
            "paid_cents": self.paid_cents,
            "unpaid_cents": self.unpaid_cents,
            "status": self.status,
            "reason": None
            if self.reason_code is None
            else {"code": self.reason_code, "meaning": self.reason_meaning, "action": self.action},
            "asf_advance": advance,
            "end_to_end_ids": list(self.debits),
            "time_barred": self.time_barred,
            **deadlines,
        }


@dataclass(frozen=True, slots=True)
class Ledger:
    """A dossier's months, oldest first, with totals (arrears = total unpaid of final months)."""

    dossier_id: str
    months: tuple[LedgerMonth, ...]

    @property
    def due_cents(self) -> int:
        return sum(m.due_cents for m in self.months)

    @property
    def paid_cents(self) -> int:
        return sum(m.paid_cents for m in self.months)

    @property
    def arrears_cents(self) -> int:
        """Unpaid amounts of the final months still recoverable (L. 581-2 CSS: 24 months)."""
        return sum(m.unpaid_cents for m in self.months if m.status != "pending" and not m.time_barred)

    @property
    def time_barred_cents(self) -> int:
        return sum(m.unpaid_cents for m in self.months if m.status != "pending" and m.time_barred)

    @property
    def advance_cents(self) -> int:
        return sum(m.advance.amount_cents for m in self.months if m.advance is not None)

    def month(self, period: str) -> LedgerMonth:
        for month in self.months:
            if month.period == period:
                return month
        raise KeyError(period)

    def to_json(self) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "due_cents": self.due_cents,
            "paid_cents": self.paid_cents,
            "arrears_cents": self.arrears_cents,
            "time_barred_cents": self.time_barred_cents,
            "asf_advance_cents": self.advance_cents,
            "months": [m.to_json() for m in self.months],
        }


def _first_day(period: str) -> date:
    year, month = period.split("-")
    return date(int(year), int(month), 1)


def _advance(due: int, paid: int, period: str, terms: DossierTerms) -> AsfAdvance:
    asf = asf_for(_first_day(period), terms.both_parents)
    pensions = terms.child_pensions_cents or (due,)
    cap = sum(min(pension, asf) for pension in pensions)  # the triple limit, child by child
    return asf_advance(cap, asf * len(pensions), paid)


def month_of(
    period: str, debits: Iterable[tuple[ExpectedDebit, DebitStatus]], terms: DossierTerms
) -> LedgerMonth:
    """The ledger line of one month from its debits (a re-presentation is a second debit)."""
    pairs = sorted(debits, key=lambda pair: pair[0].end_to_end_id)
    due = max(debit.amount_cents for debit, _ in pairs)
    paid = sum(status.paid_cents for _, status in pairs)
    unpaid = max(due - paid, 0)
    failed = [s for _, s in pairs if s.state in (DebitState.REJECTED, DebitState.RETURNED)]
    open_ = any(s.state in OPEN for _, s in pairs)
    status: MonthStatus
    if unpaid == 0:
        status = "paid"
    elif open_:
        status = "pending"
    else:
        status = "unpaid" if paid <= 0 else "partly-paid"
    reason = reason_for(failed[-1].reason) if failed else None
    advance = None
    if status in ("unpaid", "partly-paid"):
        computed = _advance(due, max(paid, 0), period, terms)
        advance = computed if computed.kind is not AdvanceKind.NONE else None
    return LedgerMonth(
        period,
        due,
        paid,
        unpaid,
        status,
        None if reason is None else reason.code,
        None if reason is None else reason.meaning,
        None if reason is None else reason.action,
        advance,
        tuple(debit.end_to_end_id for debit, _ in pairs),
    )


#: Arrears are recoverable for 24 months (L. 581-2 CSS; docs/payment-cycle.md "Unpaid months").
RECOVERY_MONTHS = 24


def time_barred(period: str, as_of: date) -> bool:
    """True when `period` (YYYY-MM) is more than RECOVERY_MONTHS months before `as_of`'s month."""
    year, month = (int(part) for part in period.split("-"))
    return (as_of.year * 12 + as_of.month) - (year * 12 + month) > RECOVERY_MONTHS


def with_follow_up(month: LedgerMonth, reported_at: Mapping[str, datetime]) -> LedgerMonth:
    """`month` with its deadlines when it is unpaid or partly paid, not time-barred, and the import
    time of the report that last changed one of its debits is known (the module docstring says why
    that one)."""
    if month.status not in ("unpaid", "partly-paid") or month.time_barred:
        return month
    known = [reported_at[e2e] for e2e in month.debits if e2e in reported_at]
    if not known:
        return month
    return replace(month, follow_up=follow_up(legal_day(max(known))))


def build_ledger(
    dossier_id: str,
    debits: Iterable[tuple[ExpectedDebit, DebitStatus]],
    terms: DossierTerms | None = None,
    *,
    as_of: date | None = None,
    reported_at: Mapping[str, datetime] | None = None,
) -> Ledger:
    """The dossier's ledger from its debits and their statuses (other dossiers' debits are ignored).

    With `as_of`, months more than 24 months old are marked time-barred and left out of the arrears.
    With `reported_at` (EndToEndId -> import time of the bank report that last changed the debit,
    `debit_progress.updated_at`), unpaid and partly paid months carry their follow-up deadlines."""
    by_month: dict[str, list[tuple[ExpectedDebit, DebitStatus]]] = {}
    for debit, status in debits:
        if debit.dossier_id == dossier_id:
            by_month.setdefault(debit.period, []).append((debit, status))
    chosen = terms or DossierTerms()
    months = tuple(month_of(period, by_month[period], chosen) for period in sorted(by_month))
    if as_of is not None:
        months = tuple(replace(m, time_barred=time_barred(m.period, as_of)) for m in months)
    if reported_at is not None:
        months = tuple(with_follow_up(m, reported_at) for m in months)
    return Ledger(dossier_id, months)


def ledgers(
    debits: Iterable[tuple[ExpectedDebit, DebitStatus]],
    terms: Mapping[str, DossierTerms] | None = None,
    *,
    reported_at: Mapping[str, datetime] | None = None,
) -> dict[str, Ledger]:
    """Every dossier's ledger at once (golden tests, summaries)."""
    pairs = list(debits)
    dossiers = sorted({debit.dossier_id for debit, _ in pairs})
    chosen = terms or {}
    return {d: build_ledger(d, pairs, chosen.get(d), reported_at=reported_at) for d in dossiers}
