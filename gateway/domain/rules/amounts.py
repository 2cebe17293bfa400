"""Amount rules: positive euro amounts with cents, totals that match the children listed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from gateway.domain.money import has_at_most_two_decimals
from gateway.domain.transmission import IndexationMode, Transmission
from gateway.errors import Code, Issue

# A monthly amount per child above this is taken for a typing error (cents sent as euros, ...).
# Real pensions are a few hundred euros; the bound leaves ample room for high incomes.
MAX_MONTHLY_PER_CHILD = Decimal("20000.00")


def _amount_issue(value: Decimal, field: str, what: str) -> Issue | None:
    if value <= 0:
        return Issue(Code.INVALID_AMOUNT, field, f"{what} must be more than 0.00 euro")
    if not has_at_most_two_decimals(value):
        return Issue(Code.INVALID_AMOUNT, field, f"{what} has more than two decimals: {value}")
    return None


def amounts_valid(t: Transmission, today: date) -> Iterator[Issue]:
    # art. 1074-4 II 5° CPC: a monthly amount per child, in euros and cents
    for i, child in enumerate(t.children):
        field = f"children[{i}].monthly_amount"
        issue = _amount_issue(child.monthly_amount, field, "the monthly amount")
        if issue is not None:
            yield issue
        elif child.monthly_amount > MAX_MONTHLY_PER_CHILD:
            yield Issue(
                Code.INVALID_AMOUNT,
                field,
                f"a monthly amount of {child.monthly_amount} euros per child is implausible "
                f"(more than {MAX_MONTHLY_PER_CHILD}): check the unit",
            )
    issue = _amount_issue(t.declared_monthly_total, "totals.monthly_total", "the monthly total")
    if issue is not None:
        yield issue


def totals_match_children(t: Transmission, today: date) -> Iterator[Issue]:
    # art. 1074-4 II 2° CPC: the number of children and the total monthly amount
    count = len(t.children)
    if t.declared_children_count != count:
        yield Issue(
            Code.TOTALS_MISMATCH,
            "totals.children_count",
            f"{t.declared_children_count} children declared but {count} listed",
        )
    total = sum((c.monthly_amount for c in t.children), Decimal(0))
    if t.declared_monthly_total != total:
        yield Issue(
            Code.TOTALS_MISMATCH,
            "totals.monthly_total",
            f"monthly total {t.declared_monthly_total} differs from the sum of the children's "
            f"amounts {total}",
        )


def indexation_complete(t: Transmission, today: date) -> Iterator[Issue]:
    # art. 1074-4 II 6° c) CPC: when provided, the index, its value and the first revaluation date
    for i, child in enumerate(t.children):
        ix = child.indexation
        if ix is None or ix.mode is not IndexationMode.INDEXED:
            continue
        base = f"children[{i}].indexation"
        if not ix.index_type:
            yield Issue(Code.MISSING_FIELD, f"{base}.index_type", "the index type is required")
        if ix.index_value is None:
            yield Issue(Code.MISSING_FIELD, f"{base}.index_value", "the index value is required")
        elif ix.index_value <= 0:
            yield Issue(Code.INVALID_AMOUNT, f"{base}.index_value", "the index value must be > 0")
        if ix.first_revaluation_date is None:
            yield Issue(
                Code.MISSING_FIELD,
                f"{base}.first_revaluation_date",
                "the date of first revaluation is required",
            )
