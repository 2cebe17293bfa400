"""TARGET business days: weekends and ECB closing days."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.payments.calendar import add_business_days, is_business_day, next_business_day


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 2), date(2026, 11, 2)),  # Monday, business day
        (date(2026, 11, 1), date(2026, 11, 2)),  # Sunday
        (date(2026, 11, 14), date(2026, 11, 16)),  # Saturday
        (date(2026, 5, 1), date(2026, 5, 4)),  # Labour Day (Friday) -> Monday
        (date(2026, 4, 3), date(2026, 4, 7)),  # Good Friday + Easter Monday -> Tuesday
        (date(2026, 4, 6), date(2026, 4, 7)),  # Easter Monday
        (date(2026, 12, 25), date(2026, 12, 28)),  # Christmas (Fri), 26 Dec (Sat), Sunday
        (date(2027, 12, 25), date(2027, 12, 27)),  # Saturday Christmas -> Monday
        (date(2027, 1, 1), date(2027, 1, 4)),  # New Year (Friday)
        (date(2026, 11, 11), date(2026, 11, 11)),  # French holiday, not a TARGET closing day
        (date(2026, 7, 14), date(2026, 7, 14)),  # idem
    ],
)
def test_next_business_day(day: date, expected: date) -> None:
    assert next_business_day(day) == expected
    assert is_business_day(expected)


def test_add_business_days() -> None:
    assert add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert add_business_days(date(2026, 11, 2), 0) == date(2026, 11, 2)
    with pytest.raises(ValueError, match="count"):
        add_business_days(date(2026, 11, 2), -1)
