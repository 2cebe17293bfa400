"""The ASF complement of one child and month (art. L. 523-1 I 4° CSS since 2016; seeds 000, 002), its
recoverable part, the 15 € threshold (CAF practice), and seed 001's worked examples."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.payments.amounts import amounts_on
from gateway.payments.asf import asf_complement, child_asf

ROW_2026 = amounts_on(date(2026, 11, 1))  # ASF 201.99 gross, 200.98 net
ASF = 20199


def test_total_default_gives_the_full_asf_recoverable_up_to_the_pension() -> None:
    # L. 523-1 I 4° CSS: paid 0 < ASF -> complement = ASF; recoverable = min(ASF, due - 0)
    high = child_asf(ROW_2026, due=30000, paid=0)
    assert (high.complement_cents, high.complement_net_cents, high.recoverable_cents) == (ASF, 20098, ASF)
    low = child_asf(ROW_2026, due=12000, paid=0)
    assert (low.complement_cents, low.recoverable_cents) == (ASF, 12000)  # the excess is the family's


def test_small_pension_of_120_paid_in_full_is_topped_up_to_the_asf() -> None:
    # L. 523-1 I 4° CSS (seed 000: "même lorsque celles-ci sont correctement payées"): ASF - 120
    result = child_asf(ROW_2026, due=12000, paid=12000)
    assert result.complement_cents == ASF - 12000  # 81.99 €
    assert result.recoverable_cents == 0  # nothing is unpaid: nothing to recover from the debtor
    assert result.complement_net_cents == 8158  # (478.64 × 42.20 % - 120) × 0.995 = 81.5843 -> 81.58


def test_150_due_50_paid_gives_asf_minus_50_of_which_100_recoverable() -> None:
    # L. 523-1 I 4° CSS: complement = ASF - paid; recoverable = min(complement, due - paid)
    result = child_asf(ROW_2026, due=15000, paid=5000)
    assert (result.complement_cents, result.recoverable_cents) == (ASF - 5000, 10000)


def test_paid_at_or_above_the_asf_gives_nothing() -> None:
    # L. 523-1 I 4° CSS: complement only when paid < ASF (a pension of 300 paid 250 gets no ASF)
    assert child_asf(ROW_2026, due=30000, paid=25000).complement_cents == 0
    assert child_asf(ROW_2026, due=30000, paid=ASF).complement_cents == 0
    assert child_asf(ROW_2026, due=30000, paid=30000).recoverable_cents == 0


def test_a_gap_under_15_euros_is_not_paid() -> None:
    # CAF practice (not statute): a complement under 15 € is not paid, so nothing is recoverable
    under = child_asf(ROW_2026, due=20000, paid=19000)  # 201.99 - 190 = 11.99 €
    assert (under.computed_cents, under.complement_cents, under.recoverable_cents) == (1199, 0, 0)
    assert under.below_threshold
    exactly = child_asf(ROW_2026, due=20000, paid=ASF - 1500)  # exactly 15 € is paid
    assert (exactly.complement_cents, exactly.below_threshold) == (1500, False)
    just_under = child_asf(ROW_2026, due=20000, paid=ASF - 1499)
    assert (just_under.complement_cents, just_under.below_threshold) == (0, True)


def test_both_parents_failing_uses_the_higher_rate() -> None:
    # R. 523-7 1° CSS: 56.25 % of the BMAF, 269.24 gross, 267.89 net
    result = child_asf(ROW_2026, due=40000, paid=0, both_parents=True)
    assert (result.complement_cents, result.complement_net_cents) == (26924, 26789)


# Seed 001 (ASH, 2000) states the pre-2016 triple limit, min(pension, ASF) - paid. Its examples, in
# francs, under the rule in force since 2016:
# - ASF 485 F, pension 300 F, paid 100 F: the seed's 200 F advance does NOT hold any more (the
#   creditor now gets ASF - paid = 385 F); 200 F is still what the fund recovers (the unpaid pension).
# - ASF 485 F, pension 500 F, paid 100 F: 385 F, still so.
# - total default: the full ASF whether the pension is above or below it, and when below, the
#   difference is not recoverable: still so.


def test_seed_001_example_pension_above_the_asf_still_holds() -> None:
    result = asf_complement(asf=48500, due=50000, paid=10000, threshold=0)
    assert (result.complement_cents, result.recoverable_cents) == (38500, 38500)  # 385 F


def test_seed_001_example_pension_below_the_asf_now_tops_up_to_the_asf() -> None:
    result = asf_complement(asf=48500, due=30000, paid=10000, threshold=0)
    assert result.complement_cents == 38500  # the seed's pre-2016 200 F no longer holds
    assert result.recoverable_cents == 20000  # 300 F - 100 F: the seed's 200 F, now the recoverable part


def test_seed_001_total_default_full_asf_excess_over_pension_not_recoverable() -> None:
    below = asf_complement(asf=48500, due=30000, paid=0, threshold=0)
    above = asf_complement(asf=48500, due=50000, paid=0, threshold=0)
    assert (below.complement_cents, below.recoverable_cents) == (48500, 30000)
    assert (above.complement_cents, above.recoverable_cents) == (48500, 48500)
    assert below.complement_net_cents == 48258  # 482.58 F après CRDS (seed 001)


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        asf_complement(asf=100, due=-1, paid=0)


cents = st.integers(min_value=0, max_value=10_000_000)


@given(asf=cents, due=cents, paid=cents)
def test_complement_property(asf: int, due: int, paid: int) -> None:
    # L. 523-1 I 4° CSS: never negative; recoverable never above the complement nor the unpaid pension;
    # the creditor gets at least the ASF (pension paid + complement) unless the gap is under 15 €
    result = asf_complement(asf, due, paid)
    assert 0 <= result.complement_cents <= asf
    assert 0 <= result.recoverable_cents <= min(result.complement_cents, max(due - paid, 0))
    assert 0 <= result.complement_net_cents <= result.complement_cents
    if paid < asf and asf - paid >= 1500:
        assert paid + result.complement_cents == asf
    else:
        assert result.complement_cents == 0
