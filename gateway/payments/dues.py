"""What a dossier owes for a month, child by child: the one seam between the schedule and its users.

The collection (what to debit), the ledger (what was due, per child) and the ASF (one per child)
all ask this module, never the title's totals. Each child counts from its own effective date to
the end date of the title (art. 1074-4 II 5° and 9° CPC: "montant mensuel par enfant et date
d'effet").

This first version applies the title's amounts as they are; revaluation (L. 582-1 I CSS, the
title's indexation clause) plugs in behind `child_dues` without changing its callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.domain.money import to_cents


@dataclass(frozen=True, slots=True)
class IndexUse:
    """The index a revalued amount was computed with (for the schedule and `pension.revalued`)."""

    series: str  # e.g. "INSEE-001763852"
    base_value: Decimal
    value: Decimal
    value_period: str  # YYYY-MM of the index value used
    revalued_on: date  # the revaluation date this amount applies from


@dataclass(frozen=True, slots=True)
class ChildDue:
    """What one child's pension makes due for one month, in euro cents."""

    child: int  # the child's position in the title (0-based)
    period: str  # YYYY-MM
    title_cents: int  # the amount the title fixes
    due_cents: int  # after revaluation (== title_cents when none applies yet)
    index: IndexUse | None = None


def _month_bounds(period: str) -> tuple[date, date]:
    year, month = (int(part) for part in period.split("-"))
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def child_dues(dossier: Mapping[str, Any], period: str) -> tuple[ChildDue, ...]:
    """The children of a canonical dossier (its JSON form) that owe something for `period`.

    A child owes the month when its effective date falls on or before the month's last day and
    the title's end date (if any) on or after the month's first day."""
    first, last = _month_bounds(period)
    end = dossier.get("end_date")
    if end is not None and date.fromisoformat(end) < first:
        return ()
    dues = []
    for position, child in enumerate(dossier["children"]):
        if date.fromisoformat(child["effective_date"]) > last:
            continue
        cents = to_cents(Decimal(child["monthly_amount"]))
        dues.append(ChildDue(position, period, cents, cents))
    return tuple(dues)
