"""The ASF advanced to the creditor parent for an unpaid or partly paid month (L. 581-2 CSS).

When the debtor pays part of the pension, the fund tops it up "within the triple limit of the payment
made, the pension and the ASF" (L. 581-2 al. 4 CSS; circulaire DSS du 15 juillet 1985; CNAF
circular of 19 May 1995):

    top-up = min(pension, ASF) - paid        not paid when under 15 € (ASF_DIFFERENTIAL_MIN_CENTS)

When the debtor pays nothing (total default) the FULL ASF is paid, whether the pension is above or
below it; in the latter case the part above the pension is not recoverable from the debtor (seed 001).

All amounts are integers in the smallest unit (euro cents); the functions do not care which currency
that is, which lets the tests replay the seed's worked examples in francs as the seed gives them.

>>> differential_asf(pension=30000, asf=48500, paid=10000)   # 300 F / 485 F / 100 F
20000
>>> differential_asf(pension=50000, asf=48500, paid=10000)   # 500 F / 485 F / 100 F
38500
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from gateway.payments.amounts import ASF_DIFFERENTIAL_MIN_CENTS, asf_for


class AdvanceKind(StrEnum):
    """What the fund advances for a month."""

    NONE = "none"  # paid in full, or a top-up under the threshold
    DIFFERENTIAL = "differential"  # partial payment: L. 581-2 al. 3-4 CSS
    FULL = "full"  # total default: the full ASF


@dataclass(frozen=True, slots=True)
class AsfAdvance:
    """The ASF the back-office should pay for one month, and how much of it is recoverable.

    `recoverable_cents` is what the fund may claim back from the debtor: never more than the unpaid
    part of the pension (seed 001: the excess of the ASF over a lower pension is not recoverable)."""

    kind: AdvanceKind
    amount_cents: int
    recoverable_cents: int
    asf_cents: int
    pension_cents: int
    paid_cents: int


def _check(pension: int, asf: int, paid: int) -> None:
    if pension < 0 or asf < 0 or paid < 0:
        raise ValueError("pension, ASF and paid amounts are non-negative integers (cents)")


def asf_advance(
    pension: int, asf: int, paid: int, *, threshold: int = ASF_DIFFERENTIAL_MIN_CENTS
) -> AsfAdvance:
    """The advance for one month: full ASF on total default, else the differential (or nothing)."""
    _check(pension, asf, paid)
    if paid == 0 and pension > 0:
        # Total default: the full ASF (L. 581-2 CSS), recoverable up to the pension only.
        return AsfAdvance(AdvanceKind.FULL, asf, min(asf, pension), asf, pension, paid)
    top_up = min(pension, asf) - paid
    if top_up <= 0 or top_up < threshold:
        return AsfAdvance(AdvanceKind.NONE, 0, 0, asf, pension, paid)
    return AsfAdvance(AdvanceKind.DIFFERENTIAL, top_up, top_up, asf, pension, paid)


def differential_asf(
    pension: int, asf: int, paid: int, *, threshold: int = ASF_DIFFERENTIAL_MIN_CENTS
) -> int:
    """The amount of `asf_advance` alone (cents)."""
    return asf_advance(pension, asf, paid, threshold=threshold).amount_cents


def asf_advance_on(day: date, pension: int, paid: int, *, both_parents: bool = False) -> AsfAdvance:
    """`asf_advance` with the ASF amount in force on `day` (gateway.payments.amounts)."""
    return asf_advance(pension, asf_for(day, both_parents), paid)
