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
from datetime import date

from gateway.payments.dues import ChildDue, DossierTerms, InForce, month_bounds, terms_dues
from gateway.payments.indices import IndexSource, IndexTable, month_shift
from gateway.payments.revaluation import IndexMissing, amount_in_force, revaluation_dates

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


def _month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


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
    limit = month_shift(period, horizon)  # the last month a span may reach
    # the first month that may differ, from each kind of change
    changes = [month_shift(limit, 1)]
    for child in terms.children:
        if child.start > month_last:  # a child whose pension starts later
            changes.append(_month_of(child.start))
        dates = revaluation_dates(child.clause, month_bounds(limit)[0])
        later = [d for d in dates if d > month_first]
        if later:  # in force from the first month whose first day is on or after it
            day = later[0]
            changes.append(_month_of(day) if day.day == 1 else month_shift(_month_of(day), 1))
    if terms.end is not None:
        end_month = _month_of(terms.end)
        changes.append(end_month if terms.end < month_bounds(end_month)[1] else month_shift(end_month, 1))
    last = month_shift(min(changes), -1)
    first = month_shift(period, 1)
    if last < first:
        return None
    try:  # the span's last month, computed again by the same function, must owe the same
        at_last = terms_dues(terms, last, indices, in_force)
    except IndexMissing:
        return None
    if _signature(at_last) != _signature(dues) or not _whole(at_last, last):
        return None
    return Span(first, last, sum(d.due_cents for d in dues))


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
