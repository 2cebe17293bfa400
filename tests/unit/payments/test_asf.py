"""Differential ASF (L. 581-2 CSS): the seed's examples in francs, today's amounts, threshold, default."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.payments.asf import AdvanceKind, asf_advance, asf_advance_on, differential_asf


def test_seed_example_pension_below_asf_in_francs() -> None:
    # Seed 001: ASF 485 F, pension 300 F, partial payment 100 F -> differential ASF 200 F (300 - 100).
    # Whole francs, so the 15 € threshold (a euro-era rule) is set to zero for the franc example.
    assert differential_asf(pension=300, asf=485, paid=100, threshold=0) == 200
    # The same in centimes, with the default threshold (1500 centimes is far below 200 F).
    assert differential_asf(pension=30000, asf=48500, paid=10000) == 20000


def test_seed_example_pension_above_asf_in_francs() -> None:
    # Seed 001: pension 500 F, ASF 485 F, paid 100 F -> 385 F (485 - 100): capped by the ASF.
    assert differential_asf(pension=500, asf=485, paid=100, threshold=0) == 385
    assert differential_asf(pension=50000, asf=48500, paid=10000) == 38500


def test_total_default_pays_the_full_asf_either_side_of_the_pension() -> None:
    # Seed 001: "intégralement servi en cas de défaillance totale", pension above or below the ASF;
    # below it, the excess over the pension is not recoverable from the debtor.
    low = asf_advance(pension=30000, asf=48500, paid=0)
    assert (low.kind, low.amount_cents, low.recoverable_cents) == (AdvanceKind.FULL, 48500, 30000)
    high = asf_advance(pension=50000, asf=48500, paid=0)
    assert (high.kind, high.amount_cents, high.recoverable_cents) == (AdvanceKind.FULL, 48500, 48500)


def test_today_amounts_one_parent() -> None:
    day = date(2026, 11, 1)  # ASF 201.78 € from 2026-04-01
    # pension 150 €, paid 50 € -> 100 € (the pension is the limit)
    assert asf_advance_on(day, pension=15000, paid=5000).amount_cents == 10000
    # pension 300 €, paid 50 € -> 201.78 - 50 = 151.78 €
    advance = asf_advance_on(day, pension=30000, paid=5000)
    assert (advance.kind, advance.amount_cents, advance.asf_cents) == (AdvanceKind.DIFFERENTIAL, 15178, 20178)
    # nothing paid -> the full ASF
    assert asf_advance_on(day, pension=30000, paid=0).amount_cents == 20178
    # both parents failing: 268.97 €
    assert asf_advance_on(day, pension=40000, paid=0, both_parents=True).amount_cents == 26897


def test_previous_year_amount_applies_to_a_month_before_april() -> None:
    # a March 2026 month uses the 2025 row: 200.18 €
    assert asf_advance_on(date(2026, 3, 15), pension=30000, paid=10000).amount_cents == 10018


def test_under_fifteen_euros_nothing_is_paid() -> None:
    assert differential_asf(pension=20000, asf=20178, paid=18501) == 0  # 14.99 € -> nothing
    assert differential_asf(pension=20000, asf=20178, paid=18500) == 1500  # exactly 15 € is paid


def test_paid_in_full_or_more_means_nothing() -> None:
    assert asf_advance(pension=20000, asf=20178, paid=20000).kind is AdvanceKind.NONE
    assert differential_asf(pension=50000, asf=20178, paid=30000) == 0  # paid above the ASF cap


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError):
        differential_asf(pension=-1, asf=100, paid=0)


cents = st.integers(min_value=0, max_value=10_000_000)


@given(pension=cents, asf=cents, paid=cents)
def test_triple_limit_property(pension: int, asf: int, paid: int) -> None:
    advance = asf_advance(pension, asf, paid)
    if paid == 0 and pension > 0:
        assert advance.amount_cents == asf
    else:
        # never more than the ASF, the pension, or what is missing; never a negative amount
        assert 0 <= advance.amount_cents <= min(asf, pension)
        assert advance.amount_cents + paid <= max(min(pension, asf), paid)
        assert advance.amount_cents == 0 or advance.amount_cents >= 1500
    assert 0 <= advance.recoverable_cents <= max(pension - paid, 0)
