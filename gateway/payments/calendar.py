"""TARGET2 business days: the settlement calendar of SEPA Direct Debit and Credit Transfer.

A TARGET day is any weekday that is not a TARGET closing day. The closing days (ECB decision
on TARGET: New Year's Day, Good Friday, Easter Monday, 1 May, 25 and 26 December) come from the
`holidays` package (`holidays.financial_holidays("ECB")`), not a hand-written Easter formula.

>>> next_business_day(date(2026, 5, 1))  # Friday, Labour Day -> Monday
datetime.date(2026, 5, 4)
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

_SATURDAY = 5


@lru_cache(maxsize=64)
def closing_days(year: int) -> frozenset[date]:
    """TARGET closing days of `year` (weekends excluded)."""
    return frozenset(holidays.financial_holidays("ECB", years=year).keys())


def is_business_day(day: date) -> bool:
    """True on a TARGET business day."""
    return day.weekday() < _SATURDAY and day not in closing_days(day.year)


def next_business_day(day: date) -> date:
    """`day` itself when it is a TARGET business day, else the next one."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, count: int) -> date:
    """The `count`-th TARGET business day after `day` (count >= 0; 0 = next_business_day)."""
    if count < 0:
        raise ValueError("count must be >= 0")
    current = next_business_day(day)
    for _ in range(count):
        current = next_business_day(current + timedelta(days=1))
    return current
