"""Revaluation by the title's clause (art. L. 582-1 I CSS applied by the fund; art. 1074-4 II 6°
CPC for the clause): new = title amount × new index / base index, in Decimal, rounded once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.transmission import IndexationMode
from gateway.payments.dues import child_dues
from gateway.payments.indices import IndexTable, IndexValue, shipped_table
from gateway.payments.revaluation import (
    Clause,
    Rounding,
    anniversary,
    clause_of,
    parse_rounding,
    reference_period,
    revaluation_dates,
    revalued_on,
)


def indexed(first: str, base: str = "109.70", rounding: str | None = None) -> dict[str, Any]:
    return {"mode": "indexed", "index_type": "INSEE-001763852", "index_value": base,
            "first_revaluation_date": first, "rounding": rounding}  # fmt: skip


def dossier(indexation: dict[str, Any]) -> dict[str, Any]:
    child = {"monthly_amount": "200.00", "effective_date": "2022-05-01", "indexation": indexation}
    return {"dossier_id": "DOS-T", "title": {"date": "2022-04-12"}, "children": [child], "end_date": None}


def due(data: dict[str, Any], period: str) -> int:
    (only,) = child_dues(data, period)
    return only.due_cents


def test_indexed_pension_in_its_second_and_third_year() -> None:
    # art. 1074-4 II 6° c) CPC: the title gives the index (INSEE 001763852), its base value
    # (109.70, the March 2022 value) and the first revaluation date (1 March 2023, then yearly).
    # year 1, May 2022 - Feb 2023: the title's 200.00
    # year 2, from 1 March 2023: index of 2023-01 = 113.86;
    #         200.00 × 113.86 / 109.70 = 207.5843... -> 207.58
    # year 3, from 1 March 2024: index of 2024-01 = 117.16 (computed from the title's amount again);
    #         200.00 × 117.16 / 109.70 = 213.6007... -> 213.60
    data = dossier(indexed("2023-03-01"))
    assert due(data, "2022-05") == 20000
    assert due(data, "2023-02") == 20000
    assert due(data, "2023-03") == 20758
    assert due(data, "2024-02") == 20758
    assert due(data, "2024-03") == 21360
    (third,) = child_dues(data, "2024-03")
    assert third.index is not None
    assert (third.index.base_value, third.index.base_period) == (Decimal("109.70"), None)
    assert (third.index.value, third.index.value_period) == (Decimal("117.16"), "2024-01")


def test_indexed_pension_with_the_titles_rounding_to_the_euro() -> None:
    # "à l'euro le plus proche": 207.58 -> 208, 213.60 -> 214
    data = dossier(indexed("2023-03-01", rounding="à l'euro le plus proche"))
    assert (due(data, "2023-03"), due(data, "2024-03")) == (20800, 21400)


@pytest.mark.parametrize(
    ("text", "rounding"),
    [
        (None, Rounding.CENT),
        ("", Rounding.CENT),
        ("à l'euro le plus proche", Rounding.EURO_NEAREST),
        ("A L'EURO SUPÉRIEUR", Rounding.EURO_UP),
        ("à l'euro inférieur", Rounding.EURO_DOWN),
        ("au centime", Rounding.CENT),
    ],
)
def test_rounding_rule_of_the_title(text: str | None, rounding: Rounding) -> None:
    assert parse_rounding(text) is rounding


def test_roundings() -> None:
    assert Rounding.CENT.apply(Decimal("207.585")) == Decimal("207.59")
    assert Rounding.EURO_NEAREST.apply(Decimal("207.50")) == Decimal("208")
    assert Rounding.EURO_UP.apply(Decimal("207.01")) == Decimal("208")
    assert Rounding.EURO_DOWN.apply(Decimal("207.99")) == Decimal("207")


def test_reference_month_is_two_months_before() -> None:
    # the index of month M is published mid M+1: on the 1st of M+2 it is the latest one known
    assert reference_period(date(2024, 3, 1)) == "2024-01"
    assert reference_period(date(2024, 1, 31)) == "2023-11"
    assert reference_period(date(2024, 2, 29)) == "2023-12"


def test_anniversary_of_29_february() -> None:
    assert anniversary(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert anniversary(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_silent_clause_uses_the_titles_date() -> None:
    # L. 582-1 I CSS: yearly on the title's anniversary, INSEE 001763852, base = the title's month
    clause = clause_of({"indexation": None}, date(2023, 3, 20))
    assert clause == Clause(
        IndexationMode.SILENT, series="INSEE-001763852", base_period="2023-01", first_date=date(2024, 3, 20)
    )
    assert revaluation_dates(clause, date(2026, 3, 19)) == [date(2024, 3, 20), date(2025, 3, 20)]


def test_excluded_has_no_revaluation_date() -> None:
    clause = clause_of({"indexation": {"mode": "excluded"}}, date(2023, 3, 20))
    assert revaluation_dates(clause, date(2099, 1, 1)) == []


def test_the_series_may_be_named_by_its_bare_idbank() -> None:
    data = dossier({**indexed("2023-03-01"), "index_type": "001763852"})
    assert due(data, "2023-03") == 20758


def test_shipped_values_are_real_and_sourced() -> None:
    table = shipped_table()
    assert len(table) >= 20
    assert table.value("INSEE-001763852", "2024-01") == Decimal("117.16")
    assert table.value("INSEE-001763852", "2023-01") == Decimal("113.86")
    for item in table:
        assert item.source.startswith("http")


BASES = st.decimals(min_value=Decimal("50"), max_value=Decimal("250"), places=2)
TITLES = st.integers(min_value=1, max_value=10_000_000)


@given(TITLES, BASES, BASES, BASES, st.sampled_from(list(Rounding)))
def test_revalued_amounts_are_exact_and_monotone_in_the_index(
    title_cents: int, base: Decimal, one: Decimal, two: Decimal, rounding: Rounding
) -> None:
    # L. 582-1 I CSS: new = title × new index / base index; a higher index never gives less
    low, high = min(one, two), max(one, two)
    clause = Clause(IndexationMode.INDEXED, "INSEE-T", base_value=base, first_date=date(2024, 3, 1),
                    rounding=rounding)  # fmt: skip

    def at(value: Decimal) -> int:
        table = IndexTable([IndexValue("INSEE-T", "2024-01", value, "test")])
        return revalued_on(title_cents, clause, date(2024, 3, 1), table, field="f").cents

    assert at(low) <= at(high)
    # Decimal-exact: the same as the exact rational result rounded by the same rule
    exact = Fraction(title_cents, 100) * Fraction(high) / Fraction(base)
    step = 1 if rounding is Rounding.CENT else 100
    units = exact * 100 / step
    if rounding is Rounding.EURO_UP:
        expected = -((-units.numerator) // units.denominator)
    elif rounding is Rounding.EURO_DOWN:
        expected = units.numerator // units.denominator
    else:
        expected = (units + Fraction(1, 2)).numerator // (units + Fraction(1, 2)).denominator
    assert at(high) == expected * step
