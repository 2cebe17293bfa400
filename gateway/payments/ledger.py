"""The ledger of a dossier, per month and per child: due, paid, unpaid, ASF complement, recoverable part.

Built from the dossier's debits and their reconciled progress (gateway.payments.reconcile) and from
what each child owes for the month (gateway.payments.dues.child_dues, the one seam that knows the
children's effective dates and revaluation). For each month with a debit:

- `due`: the sum of the children's dues for the month (when the title lists no child due for a
  month that was debited, the debit's amount, with no child line and so no ASF);
- `paid`: what the bank collected for the month, net of returns, over all its debits (a
  re-presentation is a second debit of the same month), shared among the children pro rata of
  their dues (gateway.payments.allocation, art. 1342-10 C. civ.);
- per child, once the month is final (not pending): the ASF complement and its recoverable part
  (gateway.payments.asf, L. 523-1 I 4° CSS), with the ASF of the amounts row in force on the 1st of
  the month (gateway.payments.amounts). A month whose amounts are not in the table carries the
  error's code and message in `asf_unavailable` instead of figures: the rest of the ledger (and a
  bank import that needs it) still works, and no old amount is reused;
- `due_on`: the day the month fell due, the collection date of its first debit (the 1st of the
  month when no date is given); `prescription_date`: five years later (art. 2224 C. civ.,
  gateway.payments.prescription); with `as_of`, a month past it is `prescribed` and leaves the
  arrears;
- for an unpaid or partly paid month that is not prescribed, the follow-up deadlines of
  R. 582-8 CSS (gateway.payments.follow_up).

The ASF figures are what the law gives the child; whether the creditor parent is entitled to the
ASF at all (living alone, L. 523-2 CSS) is the fund's decision, not the gateway's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from gateway.errors import GatewayError
from gateway.payments.allocation import allocate
from gateway.payments.amounts import AmountsTable, shipped_table
from gateway.payments.asf import AsfComplement, child_asf
from gateway.payments.dues import ChildDue, child_dues
from gateway.payments.follow_up import (
    FOLLOW_UP_KEYS,
    NOTICE_DAYS,
    PAYMENT_DAYS,
    FollowUp,
    follow_up,
    legal_day,
)
from gateway.payments.prescription import is_prescribed, prescription_date
from gateway.payments.reconcile import OPEN, DebitState, DebitStatus, ExpectedDebit
from gateway.sepa.reports import reason_for

__all__ = [
    "NOTICE_DAYS",
    "PAYMENT_DAYS",
    "ChildMonth",
    "FollowUp",
    "Ledger",
    "LedgerMonth",
    "build_ledger",
    "dossier_dues",
    "follow_up",
    "ledgers",
    "legal_day",
]

MonthStatus = Literal["paid", "partly-paid", "unpaid", "pending"]
#: What a month's children owe: period (YYYY-MM) -> the children's dues (gateway.payments.dues).
DuesOf = Callable[[str], Sequence[ChildDue]]


def dossier_dues(dossier: Mapping[str, Any]) -> DuesOf:
    """The children's dues of a canonical dossier (its JSON form), month by month."""
    return lambda period: child_dues(dossier, period)


@dataclass(frozen=True, slots=True)
class ChildMonth:
    """One child's line of one month; `asf` is None while the month is pending or its amounts unknown."""

    child: int  # the child's position in the title (0-based)
    due_cents: int
    paid_cents: int
    asf: AsfComplement | None = None

    @property
    def unpaid_cents(self) -> int:
        return max(self.due_cents - self.paid_cents, 0)

    @property
    def complement_cents(self) -> int:
        return 0 if self.asf is None else self.asf.complement_cents

    @property
    def complement_net_cents(self) -> int:
        return 0 if self.asf is None else self.asf.complement_net_cents

    @property
    def recoverable_cents(self) -> int:
        return 0 if self.asf is None else self.asf.recoverable_cents

    def to_json(self) -> dict[str, Any]:
        figures: dict[str, Any] = dict.fromkeys(
            (
                "asf_cents",
                "asf_complement_cents",
                "asf_complement_net_cents",
                "recoverable_cents",
                "below_threshold",
            )
        )
        if self.asf is not None:
            figures.update(self.asf.to_json())
        return {
            "child": self.child,
            "due_cents": self.due_cents,
            "paid_cents": self.paid_cents,
            "unpaid_cents": self.unpaid_cents,
            **figures,
        }


@dataclass(frozen=True, slots=True)
class LedgerMonth:
    """One month of a dossier: due, paid, the children's lines, prescription, follow-up."""

    period: str
    due_cents: int
    paid_cents: int
    status: MonthStatus
    reason_code: str | None
    reason_meaning: str | None
    action: str | None
    debits: tuple[str, ...]
    children: tuple[ChildMonth, ...]
    due_on: date
    asf_unavailable: tuple[str, str] | None = None  # (code, message) when the amounts are unknown
    prescribed: bool = False
    follow_up: FollowUp | None = None  # unpaid or partly paid, not prescribed, import date known

    @property
    def unpaid_cents(self) -> int:
        return max(self.due_cents - self.paid_cents, 0)

    @property
    def prescription_date(self) -> date:
        return prescription_date(self.due_on)

    @property
    def final(self) -> bool:
        return self.status != "pending"

    @property
    def complement_cents(self) -> int:
        return sum(child.complement_cents for child in self.children)

    @property
    def complement_net_cents(self) -> int:
        return sum(child.complement_net_cents for child in self.children)

    @property
    def recoverable_cents(self) -> int:
        return sum(child.recoverable_cents for child in self.children)

    def to_json(self) -> dict[str, Any]:
        deadlines: dict[str, str | None] = dict.fromkeys(FOLLOW_UP_KEYS)
        if self.follow_up is not None:
            deadlines.update(self.follow_up.to_json())
        unavailable = None
        if self.asf_unavailable is not None:
            unavailable = {"code": self.asf_unavailable[0], "message": self.asf_unavailable[1]}
        return {
            "period": self.period,
            "due_on": self.due_on.isoformat(),
            "due_cents": self.due_cents,
            "paid_cents": self.paid_cents,
            "unpaid_cents": self.unpaid_cents,
            "status": self.status,
            "reason": None
            if self.reason_code is None
            else {"code": self.reason_code, "meaning": self.reason_meaning, "action": self.action},
            "asf_complement_cents": self.complement_cents,
            "asf_complement_net_cents": self.complement_net_cents,
            "recoverable_cents": self.recoverable_cents,
            "asf_unavailable": unavailable,
            "children": [child.to_json() for child in self.children],
            "end_to_end_ids": list(self.debits),
            "prescription_date": self.prescription_date.isoformat(),
            "prescribed": self.prescribed,
            **deadlines,
        }


@dataclass(frozen=True, slots=True)
class ChildTotals:
    """One child's sums over the months that count (final and not prescribed)."""

    child: int
    due_cents: int
    paid_cents: int
    unpaid_cents: int
    complement_cents: int
    complement_net_cents: int
    recoverable_cents: int

    def to_json(self) -> dict[str, int]:
        return {
            "child": self.child,
            "due_cents": self.due_cents,
            "paid_cents": self.paid_cents,
            "unpaid_cents": self.unpaid_cents,
            "asf_complement_cents": self.complement_cents,
            "asf_complement_net_cents": self.complement_net_cents,
            "recoverable_cents": self.recoverable_cents,
        }


@dataclass(frozen=True, slots=True)
class Ledger:
    """A dossier's months, oldest first, with totals.

    `arrears_cents`: unpaid amounts of the final months not prescribed; `prescribed_cents`: those
    of prescribed months. ASF complements count every final month (the family received them);
    recoverable parts only months not prescribed (the fund's claim is barred with the debt)."""

    dossier_id: str
    months: tuple[LedgerMonth, ...]
    as_of: date | None = None

    def _counted(self) -> Iterable[LedgerMonth]:
        return (m for m in self.months if m.final and not m.prescribed)

    @property
    def due_cents(self) -> int:
        return sum(m.due_cents for m in self.months)

    @property
    def paid_cents(self) -> int:
        return sum(m.paid_cents for m in self.months)

    @property
    def arrears_cents(self) -> int:
        return sum(m.unpaid_cents for m in self._counted())

    @property
    def prescribed_cents(self) -> int:
        return sum(m.unpaid_cents for m in self.months if m.final and m.prescribed)

    @property
    def complement_cents(self) -> int:
        return sum(m.complement_cents for m in self.months)

    @property
    def complement_net_cents(self) -> int:
        return sum(m.complement_net_cents for m in self.months)

    @property
    def recoverable_cents(self) -> int:
        return sum(m.recoverable_cents for m in self._counted())

    def children(self) -> tuple[ChildTotals, ...]:
        """Per-child totals: due and paid over every month, unpaid and recoverable over the months
        that count, complements over every final month."""
        positions = sorted({c.child for m in self.months for c in m.children})
        totals = []
        for position in positions:
            lines = [(m, c) for m in self.months for c in m.children if c.child == position]
            counted = [c for m, c in lines if m.final and not m.prescribed]
            totals.append(
                ChildTotals(
                    position,
                    sum(c.due_cents for _, c in lines),
                    sum(c.paid_cents for _, c in lines),
                    sum(c.unpaid_cents for c in counted),
                    sum(c.complement_cents for _, c in lines),
                    sum(c.complement_net_cents for _, c in lines),
                    sum(c.recoverable_cents for c in counted),
                )
            )
        return tuple(totals)

    def month(self, period: str) -> LedgerMonth:
        for month in self.months:
            if month.period == period:
                return month
        raise KeyError(period)

    def to_json(self) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "due_cents": self.due_cents,
            "paid_cents": self.paid_cents,
            "arrears_cents": self.arrears_cents,
            "prescribed_cents": self.prescribed_cents,
            "asf_complement_cents": self.complement_cents,
            "asf_complement_net_cents": self.complement_net_cents,
            "recoverable_cents": self.recoverable_cents,
            "children": [child.to_json() for child in self.children()],
            "months": [m.to_json() for m in self.months],
        }


def _first_day(period: str) -> date:
    year, month = period.split("-")
    return date(int(year), int(month), 1)


def _status(unpaid: int, paid: int, open_: bool) -> MonthStatus:
    if unpaid == 0:
        return "paid"
    if open_:
        return "pending"
    return "unpaid" if paid <= 0 else "partly-paid"


def month_of(
    period: str,
    debits: Iterable[tuple[ExpectedDebit, DebitStatus]],
    dues: Sequence[ChildDue],
    *,
    table: AmountsTable,
    both_parents: bool = False,
    due_on: Mapping[str, date] | None = None,
) -> LedgerMonth:
    """The ledger line of one month from its debits and its children's dues."""
    pairs = sorted(debits, key=lambda pair: pair[0].end_to_end_id)
    due = sum(d.due_cents for d in dues) if dues else max(debit.amount_cents for debit, _ in pairs)
    paid = max(sum(status.paid_cents for _, status in pairs), 0)
    failed = [s for _, s in pairs if s.state in (DebitState.REJECTED, DebitState.RETURNED)]
    status = _status(max(due - paid, 0), paid, any(s.state in OPEN for _, s in pairs))
    shares = allocate(paid, [d.due_cents for d in dues])
    children = tuple(ChildMonth(d.child, d.due_cents, share) for d, share in zip(dues, shares, strict=True))
    unavailable = None
    if status != "pending" and children:
        try:
            row = table.on(_first_day(period))
        except GatewayError as exc:
            unavailable = (exc.code, exc.message)
        else:
            children = tuple(
                replace(c, asf=child_asf(row, c.due_cents, c.paid_cents, both_parents=both_parents))
                for c in children
            )
    dates = [due_on[debit.end_to_end_id] for debit, _ in pairs if due_on and debit.end_to_end_id in due_on]
    reason = reason_for(failed[-1].reason) if failed else None
    return LedgerMonth(
        period,
        due,
        paid,
        status,
        None if reason is None else reason.code,
        None if reason is None else reason.meaning,
        None if reason is None else reason.action,
        tuple(debit.end_to_end_id for debit, _ in pairs),
        children,
        min(dates) if dates else _first_day(period),
        unavailable,
    )


def with_follow_up(month: LedgerMonth, reported_at: Mapping[str, datetime]) -> LedgerMonth:
    """`month` with its deadlines when it is unpaid or partly paid, not prescribed, and the import
    time of the report that last changed one of its debits is known (gateway.payments.follow_up)."""
    if month.status not in ("unpaid", "partly-paid") or month.prescribed:
        return month
    known = [reported_at[e2e] for e2e in month.debits if e2e in reported_at]
    if not known:
        return month
    return replace(month, follow_up=follow_up(legal_day(max(known))))


def _debit_as_one_child(period: str, debits: Sequence[tuple[ExpectedDebit, DebitStatus]]) -> list[ChildDue]:
    amount = max(debit.amount_cents for debit, _ in debits)
    return [ChildDue(0, period, amount, amount)]


def build_ledger(
    dossier_id: str,
    debits: Iterable[tuple[ExpectedDebit, DebitStatus]],
    dues: DuesOf | None = None,
    *,
    table: AmountsTable | None = None,
    both_parents: bool = False,
    as_of: date | None = None,
    reported_at: Mapping[str, datetime] | None = None,
    due_on: Mapping[str, date] | None = None,
) -> Ledger:
    """The dossier's ledger from its debits and their statuses (other dossiers' debits are ignored).

    `dues`: the children's dues by month (`dossier_dues(dossier_json)`); without it each month
    counts as one child owing the debit's amount. `table`: the amounts table (the shipped one by
    default; the store's adds the operators' rows). `both_parents`: the ASF rate of R. 523-7 1° CSS.
    With `as_of`, months past their prescription date are marked prescribed. `reported_at`
    (EndToEndId -> import time of the bank report that last changed the debit) gives the follow-up
    deadlines; `due_on` (EndToEndId -> collection date) the day each month fell due."""
    by_month: dict[str, list[tuple[ExpectedDebit, DebitStatus]]] = {}
    for debit, status in debits:
        if debit.dossier_id == dossier_id:
            by_month.setdefault(debit.period, []).append((debit, status))
    chosen = table or shipped_table()
    months = []
    for period in sorted(by_month):
        pairs = by_month[period]
        children = list(dues(period)) if dues is not None else _debit_as_one_child(period, pairs)
        month = month_of(period, pairs, children, table=chosen, both_parents=both_parents, due_on=due_on)
        if as_of is not None:
            month = replace(month, prescribed=is_prescribed(month.due_on, as_of))
        if reported_at is not None:
            month = with_follow_up(month, reported_at)
        months.append(month)
    return Ledger(dossier_id, tuple(months), as_of)


def ledgers(
    debits: Iterable[tuple[ExpectedDebit, DebitStatus]],
    dues: Mapping[str, DuesOf] | None = None,
    *,
    table: AmountsTable | None = None,
    reported_at: Mapping[str, datetime] | None = None,
) -> dict[str, Ledger]:
    """Every dossier's ledger at once (golden tests, summaries); `dues` by dossier id."""
    pairs = list(debits)
    dossiers = sorted({debit.dossier_id for debit, _ in pairs})
    chosen = dues or {}
    return {d: build_ledger(d, pairs, chosen.get(d), table=table, reported_at=reported_at) for d in dossiers}
