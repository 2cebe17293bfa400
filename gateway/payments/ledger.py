"""The arrears ledger of a dossier: due, paid and unpaid by month, and the ASF to advance for each gap.

Built from the dossier's debits and their reconciled progress (gateway.payments.reconcile). For every
month that ends unpaid or partly paid, the ledger carries the differential ASF of L. 581-2 CSS
(gateway.payments.asf) computed with the ASF amount in force on the 1st of that month, the EPC reason
of the failure and the follow-up it calls for, so the back-office can act (notice to pay within 15
days then forced recovery, R. 582-8 CSS; arrears recoverable up to 24 months).

With several children the triple limit applies child by child: the cap is the sum over the children
of min(pension of the child, ASF), compared with what the debtor paid for the month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from gateway.payments.amounts import asf_for
from gateway.payments.asf import AdvanceKind, AsfAdvance, asf_advance
from gateway.payments.reconcile import OPEN, DebitState, DebitStatus, ExpectedDebit
from gateway.sepa.reports import reason_for

MonthStatus = Literal["paid", "partly-paid", "unpaid", "pending"]


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

    def to_json(self) -> dict[str, Any]:
        advance = None
        if self.advance is not None:
            advance = {
                "kind": self.advance.kind.value,
                "amount_cents": self.advance.amount_cents,
                "recoverable_cents": self.advance.recoverable_cents,
                "asf_cents": self.advance.asf_cents,
            }
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


#: Arrears are recoverable for 24 months (L. 581-2 CSS; DOMAIN.md "Payment cycle").
RECOVERY_MONTHS = 24


def time_barred(period: str, as_of: date) -> bool:
    """True when `period` (YYYY-MM) is more than RECOVERY_MONTHS months before `as_of`'s month."""
    year, month = (int(part) for part in period.split("-"))
    return (as_of.year * 12 + as_of.month) - (year * 12 + month) > RECOVERY_MONTHS


def build_ledger(
    dossier_id: str,
    debits: Iterable[tuple[ExpectedDebit, DebitStatus]],
    terms: DossierTerms | None = None,
    *,
    as_of: date | None = None,
) -> Ledger:
    """The dossier's ledger from its debits and their statuses (other dossiers' debits are ignored).

    With `as_of`, months more than 24 months old are marked time-barred and left out of the arrears."""
    by_month: dict[str, list[tuple[ExpectedDebit, DebitStatus]]] = {}
    for debit, status in debits:
        if debit.dossier_id == dossier_id:
            by_month.setdefault(debit.period, []).append((debit, status))
    chosen = terms or DossierTerms()
    months = tuple(month_of(period, by_month[period], chosen) for period in sorted(by_month))
    if as_of is not None:
        months = tuple(replace(m, time_barred=time_barred(m.period, as_of)) for m in months)
    return Ledger(dossier_id, months)


def ledgers(
    debits: Iterable[tuple[ExpectedDebit, DebitStatus]], terms: Mapping[str, DossierTerms] | None = None
) -> dict[str, Ledger]:
    """Every dossier's ledger at once (golden tests, summaries)."""
    pairs = list(debits)
    dossiers = sorted({debit.dossier_id for debit, _ in pairs})
    chosen = terms or {}
    return {d: build_ledger(d, pairs, chosen.get(d)) for d in dossiers}
