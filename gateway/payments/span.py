"""A dossier's steady span: the months after this one that owe exactly what this one owes.

What a dossier owes for a month (gateway.payments.dues.terms_dues) changes only when one of its
inputs changes: a child's pension starts (art. 1074-4 II 5° CPC: each child from its own effective
date), the title ends (art. 1074-4 II 9° CPC: the end date is the last day owed), or a revaluation
comes into force (art. L. 582-1 I CSS; art. 1074-4 II 6° CPC: the amount in force on the month's
first day is the one of the latest revaluation dated on or before it). Between two such dates
every child owes the same whole month, revalued with the same index values, so the monthly run
can issue those months in SQL (gateway.store.profiles.SqlCollection.issue_spans) instead of
computing each dossier again (docs/collection-run.md, "Steady spans").

`steady_span` finds that range from a month the run has just computed in full. It is exact by
construction and checked twice: the span's last month is computed again with `terms_dues` and must
owe the same, and tests/unit/payments/test_span.py (hypothesis) computes every month of generated
spans with `terms_dues` and compares. A span is only a cache of that function's answers for the
index values the run had: an index value corrected later (not one added: a month that needed a
missing value is held and never in a span) invalidates spans (gateway.store.indices).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from gateway.domain.transmission import IndexationMode
from gateway.payments.dues import ChildDue, DossierTerms, InForce, month_bounds, terms_dues
from gateway.payments.indices import IndexSource, IndexTable
from gateway.payments.revaluation import Clause, IndexMissing, amount_in_force, anniversary

_DAY = timedelta(days=1)
HORIZON = 12  # months a span may cover ahead: a yearly revaluation bounds most spans anyway


@dataclass(frozen=True, slots=True)
class Span:
    """Every month from `first` to `last` (YYYY-MM, inclusive) owes `amount_cents`, each child
    its whole month at the same amount as the month the span was computed from."""

    first: str
    last: str
    amount_cents: int


def _signature(dues: tuple[ChildDue, ...]) -> tuple[object, ...]:
    """What must not change from month to month: the children owing, their amounts, the index."""
    return tuple((d.child, d.title_cents, d.due_cents, d.index) for d in dues)


def _whole(dues: tuple[ChildDue, ...], period: str) -> bool:
    first, last = month_bounds(period)
    return all(d.owed_from == first and d.owed_to == last for d in dues)


def _month(day: date) -> int:
    """The month of `day` as a number (year × 12 + month - 1), to compare and add months."""
    return day.year * 12 + day.month - 1


def _period(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


@lru_cache(maxsize=65_536)
def _next_revaluation(clause: Clause, month_first: date) -> int | None:
    """The first month whose amount in force comes from a revaluation dated after `month_first`
    (the month whose first day is on or after it: `amount_in_force`), None without one."""
    if clause.first_date is None or clause.mode is IndexationMode.EXCLUDED:
        return None
    years = 0
    while (day := anniversary(clause.first_date, years)) <= month_first:
        years += 1
    return _month(day) + (day.day != 1)


def steady_span(
    terms: DossierTerms,
    period: str,
    dues: tuple[ChildDue, ...],
    indices: IndexSource,
    in_force: InForce = amount_in_force,
    *,
    horizon: int = HORIZON,
) -> Span | None:
    """The months after `period` that owe what `period` owes (`dues`, computed by `terms_dues`
    for `period` with `indices`), or None when the next month may already differ.

    None too when `period` itself is not steady: nothing owed, or a child owing only part of
    the month (its first or last month), which the run computes each time."""
    if not dues or not _whole(dues, period):
        return None
    month_first, month_last = month_bounds(period)
    month = _month(month_first)
    change = month + horizon + 1  # the first month that may differ, from each kind of change
    for child in terms.children:
        if child.start > month_last:  # a child whose pension starts later
            change = min(change, _month(child.start))
        revalued = _next_revaluation(child.clause, month_first)
        if revalued is not None:
            change = min(change, revalued)
    end = terms.end
    if end is not None:  # the end date's month is owed whole only when it ends on its last day
        change = min(change, _month(end) + ((end + _DAY).day == 1))
    if change - 1 < month + 1:
        return None
    last = _period(change - 1)
    try:  # the span's last month, computed again by the same function, must owe the same
        at_last = terms_dues(terms, last, indices, in_force)
    except IndexMissing:
        return None
    if _signature(at_last) != _signature(dues) or not _whole(at_last, last):
        return None
    return Span(_period(month + 1), last, sum(d.due_cents for d in dues))


SPAN_RULES = "1"  # bump when what a month owes is computed otherwise: every stored span is dropped


def span_basis(base: IndexTable) -> str:
    """What every stored span depends on besides the dossier and its mandate: these rules and the
    index values the gateway ships (a new release may correct one). Imported values are not in
    it: an added one never changes a span (gateway.store.indices drops them when one is
    corrected)."""
    digest = hashlib.sha256(SPAN_RULES.encode())
    for item in sorted(base, key=lambda v: (v.series, v.period)):
        digest.update(f"\x1f{item.series}\x1f{item.period}\x1f{item.value}".encode())
    return f"{SPAN_RULES}:{digest.hexdigest()[:40]}"
