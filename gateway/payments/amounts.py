"""The one dated table of the amounts the law indexes on the BMAF (ASF, penalty, RSA), in euro cents.

Every amount the gateway uses comes from `TABLE` (docs/payment-cycle.md "Ledger and ASF": amounts in one dated
table"); nothing else in the code writes an amount as a literal. A row applies from its `since` date
(the yearly revaluation on 1 April, art. L. 551-1 and D. 521-1 CSS) until the next row.

    ASF, one parent failing (R. 523-7 2° CSS, 42.20 % of the BMAF since the 2022 revaluation)
    ASF, both parents failing or orphan of both (R. 523-7 1° CSS, 56.25 % of the BMAF)

>>> asf_for(date(2026, 5, 1))
20178
>>> asf_for(date(2025, 12, 31), both_parents=True)
26683

Older rows are not carried: the seed texts give the 2000 amounts in francs (485 F and 647 F), which
the tests of `gateway.payments.asf` use as they are, without a currency conversion of our own.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

from gateway.errors import Code, ConfigurationError

#: Differential ASF below this is not paid (docs/payment-cycle.md "Ledger and ASF": not paid under 15 €).
ASF_DIFFERENTIAL_MIN_CENTS = 1500


@dataclass(frozen=True, slots=True)
class AmountsRow:
    """The amounts in force from `since` (inclusive) until the next row, in euro cents."""

    since: date
    bmaf_cents: int  # base mensuelle de calcul des allocations familiales
    asf_one_parent_cents: int  # gross, 42.20 % BMAF
    asf_both_parents_cents: int  # gross, 56.25 % BMAF
    penalty_cents: int  # 25 % BMAF rounded up to the euro
    rsa_single_cents: int  # RSA for one person alone (reference pension barème)
    asf_one_parent_net_cents: int | None = None  # net of 0.5 % CRDS, when the source gives it


#: Oldest first. Sources: docs/payment-cycle.md "Ledger and ASF" (CNAF circulars on the yearly revaluation).
TABLE: tuple[AmountsRow, ...] = (
    AmountsRow(date(2024, 4, 1), 46644, 19684, 26237, 11700, 63571, asf_one_parent_net_cents=19585),
    AmountsRow(date(2025, 4, 1), 47437, 20018, 26683, 11900, 64652),
    AmountsRow(date(2026, 4, 1), 47816, 20178, 26897, 12000, 65169),
)

_STARTS = tuple(row.since for row in TABLE)


def amounts_on(day: date, table: tuple[AmountsRow, ...] = TABLE) -> AmountsRow:
    """The row in force on `day`; `ConfigurationError` (`amounts-unknown`) before the first row."""
    starts = _STARTS if table is TABLE else tuple(row.since for row in table)
    index = bisect_right(starts, day) - 1
    if index < 0:
        raise ConfigurationError(
            f"no amounts known for {day.isoformat()} (the table starts on {starts[0].isoformat()})",
            code=Code.AMOUNTS_UNKNOWN,
            field="day",
        )
    return table[index]


def bmaf_for(day: date) -> int:
    """The BMAF in force on `day`, in cents."""
    return amounts_on(day).bmaf_cents


def asf_for(day: date, both_parents: bool = False) -> int:
    """The monthly gross ASF per child on `day`, in cents (R. 523-7 CSS)."""
    row = amounts_on(day)
    return row.asf_both_parents_cents if both_parents else row.asf_one_parent_cents


def penalty_for(day: date) -> int:
    """The penalty amount (25 % of the BMAF, rounded up to the euro) on `day`, in cents."""
    return amounts_on(day).penalty_cents


def rsa_single_for(day: date) -> int:
    """The RSA amount for a person alone on `day`, in cents (reference pension barème)."""
    return amounts_on(day).rsa_single_cents
