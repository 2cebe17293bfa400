"""A dossier's schedule as the back-office reads it: per month and per child, the amount due after
revaluation with the index used, or the reason the month is held (`GET /v1/dossiers/{id}/schedule`,
`gateway schedule DOSSIER --from --to`; docs/revaluation.md).

Held months (`index-missing`) have no total: a sum with an unknown part would be a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.errors import Code, GatewayError
from gateway.payments.dues import ChildDue, HeldDue, child_schedule
from gateway.payments.indices import IndexSource, is_period, month_shift

MAX_MONTHS = 600  # fifty years: more than any title runs


class InvalidPeriod(GatewayError):
    """A month that is not YYYY-MM, or a range that ends before it starts (`invalid-period`)."""

    default_code = Code.INVALID_PERIOD


def period_range(start: str | None, end: str | None) -> list[str]:
    """Every month from `start` to `end` (YYYY-MM, both included); InvalidPeriod naming the param."""
    for name, value in (("from", start), ("to", end)):
        if value is None or value == "":
            raise InvalidPeriod(f"{name} is required (a month, YYYY-MM)", field=name)
        if not is_period(value):
            raise InvalidPeriod(f"{name} must be a month YYYY-MM (01 to 12)", field=name)
    assert start is not None
    assert end is not None
    if end < start:
        raise InvalidPeriod("to must not come before from", field="to")
    months = [start]
    while months[-1] < end:
        if len(months) >= MAX_MONTHS:
            raise InvalidPeriod(f"at most {MAX_MONTHS} months at a time", field="to")
        months.append(month_shift(months[-1], 1))
    return months


def _child_json(item: ChildDue | HeldDue) -> dict[str, Any]:
    if isinstance(item, HeldDue):
        missing = item.missing
        return {
            "child": item.child,
            "title_cents": item.title_cents,
            "due_cents": None,
            "held": {"code": missing.code, "field": missing.field, "message": missing.message},
        }
    return {
        "child": item.child,
        "title_cents": item.title_cents,
        "due_cents": item.due_cents,
        "owed_from": item.owed_from.isoformat() if item.owed_from else None,
        "owed_to": item.owed_to.isoformat() if item.owed_to else None,
        "index": item.index.to_json() if item.index is not None else None,
        "held": None,
    }


def schedule_json(
    dossier: Mapping[str, Any], start: str | None, end: str | None, indices: IndexSource
) -> dict[str, Any]:
    """The schedule document of `dossier` (canonical JSON) from `start` to `end`."""
    months = []
    for period in period_range(start, end):
        items = child_schedule(dossier, period, indices)
        held = any(isinstance(item, HeldDue) for item in items)
        total = None if held else sum(item.due_cents for item in items if isinstance(item, ChildDue))
        months.append(
            {
                "period": period,
                "due_cents": total,
                "held": held,
                "children": [_child_json(item) for item in items],
            }
        )
    return {"dossier_id": dossier["dossier_id"], "from": start, "to": end, "months": months}
