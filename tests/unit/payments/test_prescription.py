"""Unpaid months stay owed five years from the day they fell due (art. 2224 C. civ.), the period ending
when its last day ends (art. 2228, 2229 C. civ.)."""

from __future__ import annotations

from datetime import date

from gateway.payments.prescription import is_prescribed, prescription_date


def test_five_years_to_the_day() -> None:
    assert prescription_date(date(2026, 1, 10)) == date(2031, 1, 10)
    assert not is_prescribed(date(2026, 1, 10), date(2031, 1, 10))  # the last day still counts
    assert is_prescribed(date(2026, 1, 10), date(2031, 1, 11))


def test_29_february() -> None:
    assert prescription_date(date(2028, 2, 29)) == date(2033, 2, 28)


def test_thirty_months_is_not_prescribed() -> None:
    # the 24 months of L. 581-2 CSS are no time bar on months the fund collects itself
    assert not is_prescribed(date(2024, 5, 10), date(2026, 11, 10))
