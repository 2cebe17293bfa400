"""A dossier's monthly payment shared among its children pro rata of their dues (art. 1342-10 al. 2
C. civ.), to the cent by the largest remainder, deterministic."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.payments.allocation import allocate


def test_pro_rata_with_the_largest_remainder() -> None:
    assert allocate(5000, (18000, 15000)) == (
        2727,
        2273,
    )  # 27.2727 / 22.7272: the cent to the larger remainder
    assert allocate(100, (100, 100, 100)) == (34, 33, 33)  # equal remainders: the child listed first
    assert allocate(0, (18000, 15000)) == (0, 0)
    assert allocate(33000, (18000, 15000)) == (18000, 15000)
    assert allocate(40000, (18000, 15000)) == (21818, 18182)  # an overpayment is shared the same way


def test_edge_cases() -> None:
    assert allocate(500, ()) == ()
    assert allocate(500, (0, 0)) == (500, 0)
    with pytest.raises(ValueError, match="non-negative"):
        allocate(-1, (100,))


@given(
    paid=st.integers(min_value=0, max_value=10_000_000),
    dues=st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=1, max_size=8),
)
def test_shares_add_up_and_stay_within_a_cent_of_the_exact_share(paid: int, dues: list[int]) -> None:
    shares = allocate(paid, dues)
    assert sum(shares) == paid
    assert allocate(paid, dues) == shares  # deterministic
    total = sum(dues)
    if total:
        for share, due in zip(shares, dues, strict=True):
            assert abs(share - Fraction(paid * due, total)) < 1
