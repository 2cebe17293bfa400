"""What a dossier owes for a month, child by child: the one seam between the schedule and its users.

The collection (what to debit), the ledger (what was due, per child) and the ASF (one per child)
all ask this module, never the title's totals (docs/revaluation.md).

- Each child counts from its own effective date to the end date of the title (art. 1074-4 II 5°
  and 9° CPC: "montant mensuel par enfant et date d'effet", "date de fin"); the end date is the
  last day owed.
- A month the pension covers only in part (it starts or ends during the month) is owed in
  proportion of its calendar days: amount × days owed / days in the month, rounded half up to the
  cent (our reading of a monthly amount owed "from" a date: nothing before it, all of it after).
- The amount is the title's, revalued by the child's clause (art. L. 582-1 I CSS; art. 1074-4 II
  6° CPC; gateway.payments.revaluation) for the revaluation in force on the month's first day.
- An index value a revaluation needs and nobody has: `child_dues` raises `IndexMissing`
  (`index-missing`); the month is held, never owed at a guessed amount. `child_schedule` gives the
  same months with the held children marked, for the schedule views.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from gateway.domain.money import to_cents
from gateway.payments.indices import IndexSource, is_period, shipped_table
from gateway.payments.revaluation import Clause, IndexMissing, Revalued, amount_in_force, clause_of


@dataclass(frozen=True, slots=True)
class IndexUse:
    """The index a revalued amount was computed with (for the schedule and `pension.revalued`)."""

    series: str  # e.g. "INSEE-001763852"
    base_value: Decimal
    value: Decimal
    value_period: str  # YYYY-MM of the index value used
    revalued_on: date  # the revaluation date this amount applies from
    base_period: str | None = None  # YYYY-MM of the base value, None when the title gives it
    revalued_cents: int = 0  # the monthly amount after this revaluation (before any proration)

    def to_json(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "base_value": str(self.base_value),
            "base_period": self.base_period,
            "value": str(self.value),
            "value_period": self.value_period,
            "revalued_on": self.revalued_on.isoformat(),
            "monthly_cents": self.revalued_cents,
        }


@dataclass(frozen=True, slots=True)
class ChildDue:
    """What one child's pension makes due for one month, in euro cents."""

    child: int  # the child's position in the title (0-based)
    period: str  # YYYY-MM
    title_cents: int  # the amount the title fixes
    due_cents: int  # after revaluation and proration (== title_cents when neither applies)
    index: IndexUse | None = None
    owed_from: date | None = None  # the first and last day of the month the pension covers
    owed_to: date | None = None


@dataclass(frozen=True, slots=True)
class HeldDue:
    """A child's month that cannot be computed: an index value is missing (`index-missing`)."""

    child: int
    period: str
    title_cents: int
    missing: IndexMissing


@lru_cache(maxsize=512)
def month_bounds(period: str) -> tuple[date, date]:
    """The first and last day of `period` (YYYY-MM); ValueError when it is not one."""
    if not is_period(period):
        raise ValueError(f"a period is YYYY-MM, not {period!r}")
    year, month = int(period[:4]), int(period[5:7])
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def _index_use(revalued: Revalued) -> IndexUse:
    return IndexUse(
        series=revalued.series,
        base_value=revalued.base_value,
        value=revalued.value,
        value_period=revalued.value_period,
        revalued_on=revalued.revalued_on,
        base_period=revalued.base_period,
        revalued_cents=revalued.cents,
    )


def title_date_of(dossier: Mapping[str, Any]) -> date | None:
    """The title's date (`title.date`), None when the document has none (not a whole dossier)."""
    title = dossier.get("title") or {}
    return date.fromisoformat(title["date"]) if title.get("date") else None


def prorated(monthly_cents: int, days: int, month_days: int) -> int:
    """`monthly_cents` for `days` of a month of `month_days` days, rounded half up to the cent."""
    if days >= month_days:
        return monthly_cents
    share = Decimal(monthly_cents) * days / month_days
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class ChildTerms:
    """What the schedule reads of one child of a title: its amount, its date, its clause."""

    position: int  # the child's position in the title (0-based)
    title_cents: int  # art. 1074-4 II 5° CPC: the monthly amount per child
    start: date  # its effective date
    clause: Clause  # art. 1074-4 II 6° CPC: how it is revalued


@dataclass(frozen=True, slots=True)
class DossierTerms:
    """Everything `child_schedule` reads of a dossier, parsed once: the collection run keeps it
    in a compact row (gateway.payments.profile) instead of parsing the whole dossier each month."""

    end: date | None  # art. 1074-4 II 9° CPC: the last day owed
    children: tuple[ChildTerms, ...]


#: How a revalued amount is found (gateway.payments.revaluation.amount_in_force, or a caller's
#: memo of that very function: the collection run asks it once per amount, clause and month).
InForce = Callable[..., Revalued | None]


def dossier_terms(dossier: Mapping[str, Any]) -> DossierTerms:
    """The terms of a canonical dossier (its JSON form)."""
    title_date = title_date_of(dossier)
    return DossierTerms(
        end=date.fromisoformat(dossier["end_date"]) if dossier.get("end_date") else None,
        children=tuple(
            ChildTerms(
                position=position,
                title_cents=to_cents(Decimal(child["monthly_amount"])),
                start=date.fromisoformat(child["effective_date"]),
                clause=clause_of(child, title_date),
            )
            for position, child in enumerate(dossier["children"])
        ),
    )


def terms_schedule(
    terms: DossierTerms,
    period: str,
    indices: IndexSource | None = None,
    in_force: InForce = amount_in_force,
) -> tuple[ChildDue | HeldDue, ...]:
    """Every child that owes something for `period`, computed or held (see `child_schedule`)."""
    first, last = month_bounds(period)
    source = indices if indices is not None else shipped_table()
    end = terms.end
    if end is not None and end < first:
        return ()
    found: list[ChildDue | HeldDue] = []
    for child in terms.children:
        start = child.start
        if start > last:
            continue
        owed_from, owed_to = max(first, start), min(last, end) if end is not None else last
        if owed_to < owed_from:  # a child whose pension would start after the title ends
            continue
        position, title_cents = child.position, child.title_cents
        field = f"children[{position}].indexation"
        try:
            revalued = in_force(title_cents, child.clause, first, source, field=field)
        except IndexMissing as missing:
            found.append(HeldDue(position, period, title_cents, missing))
            continue
        monthly = revalued.cents if revalued is not None else title_cents
        days = (owed_to - owed_from).days + 1
        found.append(
            ChildDue(
                child=position,
                period=period,
                title_cents=title_cents,
                due_cents=prorated(monthly, days, last.day),
                index=_index_use(revalued) if revalued is not None else None,
                owed_from=owed_from,
                owed_to=owed_to,
            )
        )
    return tuple(found)


def child_schedule(
    dossier: Mapping[str, Any], period: str, indices: IndexSource | None = None
) -> tuple[ChildDue | HeldDue, ...]:
    """Every child that owes something for `period`, computed or held."""
    return terms_schedule(dossier_terms(dossier), period, indices)


def terms_dues(
    terms: DossierTerms, period: str, indices: IndexSource | None = None, in_force: InForce = amount_in_force
) -> tuple[ChildDue, ...]:
    """`child_dues` from parsed terms: the same children and amounts, `IndexMissing` alike."""
    dues: list[ChildDue] = []
    for item in terms_schedule(terms, period, indices, in_force):
        if isinstance(item, HeldDue):
            raise item.missing
        dues.append(item)
    return tuple(dues)


def child_dues(
    dossier: Mapping[str, Any], period: str, indices: IndexSource | None = None
) -> tuple[ChildDue, ...]:
    """The children of a canonical dossier (its JSON form) that owe something for `period`.

    `indices` defaults to the values shipped with the gateway; callers with a store pass the
    store's (gateway.store.indices.index_source), which adds the imported ones. Raises
    `IndexMissing` when a child's amount for the month needs an index value nobody has."""
    return terms_dues(dossier_terms(dossier), period, indices)
