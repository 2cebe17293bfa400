"""What a dossier owes per child and month (gateway.payments.dues): each child from its own
effective date to the title's end date (art. 1074-4 II 5° and 9° CPC), a month covered in part
owed in proportion of its days, revalued by the child's clause (L. 582-1 I CSS), held when an index
value is missing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.payments.dues import ChildDue, HeldDue, child_dues, child_schedule, month_bounds, prorated
from gateway.payments.indices import IndexTable, IndexValue
from gateway.payments.revaluation import IndexMissing

EXCLUDED = {"mode": "excluded", "index_type": None, "index_value": None,
            "first_revaluation_date": None, "rounding": None}  # fmt: skip
SILENT = {"mode": "silent", "index_type": None, "index_value": None,
          "first_revaluation_date": None, "rounding": None}  # fmt: skip


def child(amount: str, effective: str, indexation: dict[str, Any] | None = EXCLUDED) -> dict[str, Any]:
    return {"monthly_amount": amount, "effective_date": effective, "indexation": indexation}


def dossier(*children: dict[str, Any], title: str = "2023-03-20", end: str | None = None) -> dict[str, Any]:
    return {"dossier_id": "DOS-T", "title": {"date": title}, "children": list(children), "end_date": end}


def cents(dues: tuple[ChildDue, ...]) -> list[tuple[int, int]]:
    return [(d.child, d.due_cents) for d in dues]


def test_a_second_child_starting_a_year_later_owes_from_its_own_date() -> None:
    # art. 1074-4 II 5° CPC: a monthly amount and an effective date per child
    two = dossier(child("100.00", "2023-04-01"), child("80.00", "2024-04-01"))
    assert cents(child_dues(two, "2023-03")) == []
    assert cents(child_dues(two, "2023-04")) == [(0, 10000)]
    assert cents(child_dues(two, "2024-03")) == [(0, 10000)]
    assert cents(child_dues(two, "2024-04")) == [(0, 10000), (1, 8000)]


def test_a_month_the_pension_starts_in_is_owed_for_its_days() -> None:
    # art. 1074-4 II 5° CPC: owed from the effective date; April has 30 days, 15 owed (16th-30th):
    # 80.00 × 15 / 30 = 40.00
    two = dossier(child("100.00", "2023-04-01"), child("80.00", "2024-04-16"))
    (first, second) = child_dues(two, "2024-04")
    assert (second.owed_from, second.owed_to) == (date(2024, 4, 16), date(2024, 4, 30))
    assert second.due_cents == 4000
    assert first.due_cents == 10000


def test_the_end_date_is_the_last_day_owed() -> None:
    # art. 1074-4 II 9° CPC: the date payment ends; June has 30 days, 10 owed: 100.00 × 10 / 30 = 33.33
    one = dossier(child("100.00", "2023-04-01"), end="2024-06-10")
    assert cents(child_dues(one, "2024-05")) == [(0, 10000)]
    assert cents(child_dues(one, "2024-06")) == [(0, 3333)]
    assert child_dues(one, "2024-07") == ()


def test_a_child_starting_after_the_end_date_owes_nothing() -> None:
    one = dossier(child("100.00", "2023-04-01"), child("80.00", "2024-06-20"), end="2024-06-10")
    assert cents(child_dues(one, "2024-06")) == [(0, 3333)]


def test_proration_rounds_half_up_to_the_cent() -> None:
    assert prorated(10001, 15, 30) == 5001  # 5000.5 -> 5001
    assert prorated(10000, 31, 31) == 10000
    assert prorated(12345, 1, 28) == 441  # 440.89...


def test_silent_title_is_revalued_on_its_anniversary() -> None:
    # L. 582-1 I CSS: a title silent on revaluation is revalued every year on its anniversary with
    # INSEE 001763852. Title of 2023-03-20: base = the 2023-01 value (113.86), anniversary
    # 2024-03-20 -> from April 2024 (the first month starting after it), new = 2024-01 (117.16):
    # 150.00 × 117.16 / 113.86 = 154.3474... -> 154.35
    one = dossier(child("150.00", "2023-04-01", SILENT))
    assert cents(child_dues(one, "2024-03")) == [(0, 15000)]
    (april,) = child_dues(one, "2024-04")
    assert april.due_cents == 15435
    assert april.index is not None
    assert (april.index.base_value, april.index.base_period) == (Decimal("113.86"), "2023-01")
    assert (april.index.value, april.index.value_period) == (Decimal("117.16"), "2024-01")
    assert april.index.revalued_on == date(2024, 3, 20)


def test_a_title_without_a_clause_is_treated_as_silent() -> None:
    # notaire and avocat formats carry no clause (R. 582-4-1 CSS): the law's default applies
    one = dossier(child("150.00", "2023-04-01", None))
    assert cents(child_dues(one, "2024-04")) == [(0, 15435)]


def test_terms_without_a_title_date_have_no_anniversary() -> None:
    # not a whole canonical dossier (a tool's or a test's terms): a silent clause cannot be dated
    terms = {"children": [child("150.00", "2023-04-01", None)], "end_date": None}
    assert cents(child_dues(terms, "2030-04")) == [(0, 15000)]


def test_an_anniversary_on_the_first_applies_to_that_month() -> None:
    # title of 2023-03-01: base 2023-01 (113.86); anniversary 2024-03-01 applies to March 2024
    one = dossier(child("150.00", "2023-04-01", SILENT), title="2023-03-01")
    assert cents(child_dues(one, "2024-02")) == [(0, 15000)]
    assert cents(child_dues(one, "2024-03")) == [(0, 15435)]


def test_excluded_is_never_revalued() -> None:
    # art. 1074-4 II 6° b) CPC: revaluation expressly excluded
    one = dossier(child("150.00", "2023-04-01", EXCLUDED))
    for period in ("2024-04", "2025-04", "2030-04"):
        assert cents(child_dues(one, period)) == [(0, 15000)]


def test_a_missing_index_holds_the_month() -> None:
    # title of 2024-12-05: base 2024-10 (118.83, shipped); anniversary 2025-12-05 -> January 2026
    # needs 2025-10, which the gateway does not have: held, never a guessed amount
    one = dossier(child("150.00", "2025-01-01", SILENT), title="2024-12-05")
    assert cents(child_dues(one, "2025-12")) == [(0, 15000)]
    with pytest.raises(IndexMissing) as caught:
        child_dues(one, "2026-01")
    err = caught.value
    assert (err.code, err.field, err.series, err.period) == (
        "index-missing", "children[0].indexation", "INSEE-001763852", "2025-10",
    )  # fmt: skip
    assert "2025-10" in err.message
    (held,) = child_schedule(one, "2026-01")
    assert isinstance(held, HeldDue)
    assert held.title_cents == 15000


def test_an_imported_value_releases_the_held_month() -> None:
    one = dossier(child("150.00", "2025-01-01", SILENT), title="2024-12-05")
    with pytest.raises(IndexMissing) as caught:
        child_dues(one, "2026-01", IndexTable())  # nothing known: the base is missing first
    assert caught.value.period == "2024-10"
    known = IndexTable([
        IndexValue("INSEE-001763852", "2024-10", Decimal("118.83"), "shipped"),
        IndexValue("001763852", "2025-10", Decimal("120.00"), "a stand-in value, for the test only"),
    ])  # fmt: skip
    # 150.00 × 120.00 / 118.83 = 151.4769... -> 151.48
    assert cents(child_dues(one, "2026-01", known)) == [(0, 15148)]


def test_bad_period() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds("2026-13")


@given(
    st.integers(min_value=1, max_value=10_000_000),
    st.integers(min_value=28, max_value=31),
    st.data(),
)
def test_proration_is_bounded_monotone_and_splits_within_a_cent(
    monthly: int, month_days: int, data: st.DataObject
) -> None:
    # art. 1074-4 II 5° and 9° CPC read day by day: never more than the month, never less for more
    # days, and a month split between two dates (start, end) adds up to the monthly amount ± 1 cent
    days = data.draw(st.integers(min_value=0, max_value=month_days))
    assert 0 <= prorated(monthly, days, month_days) <= monthly
    if days < month_days:
        assert prorated(monthly, days, month_days) <= prorated(monthly, days + 1, month_days)
    assert prorated(monthly, month_days, month_days) == monthly
    split = prorated(monthly, days, month_days) + prorated(monthly, month_days - days, month_days)
    assert abs(split - monthly) <= 1


DAYS = st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31))


@given(
    st.lists(st.tuples(st.integers(min_value=1, max_value=500_000), DAYS), min_size=1, max_size=4),
    st.one_of(st.none(), DAYS),
    DAYS,
)
def test_any_dossier_owes_between_nothing_and_the_monthly_amount(
    children: list[tuple[int, date]], end: date | None, day: date
) -> None:
    # art. 1074-4 II 5° and 9° CPC: per child, never negative, never more than its monthly amount,
    # nothing before its effective date or after the end date
    data = dossier(
        *(child(f"{amount / 100:.2f}", start.isoformat()) for amount, start in children),
        end=end.isoformat() if end else None,
    )
    period = f"{day:%Y-%m}"
    first, last = month_bounds(period)
    for due in child_dues(data, period):
        amount, start = children[due.child]
        assert 0 <= due.due_cents <= amount == due.title_cents
        assert due.owed_from is not None
        assert due.owed_to is not None
        assert max(first, start) == due.owed_from <= due.owed_to <= (min(last, end) if end else last)
    owing = {
        i
        for i, (_, start) in enumerate(children)
        if start <= last and (end is None or end >= max(first, start))
    }
    assert {due.child for due in child_dues(data, period)} == owing
