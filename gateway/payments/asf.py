"""The ASF complement of one child for one month, and the part of it the fund recovers from the debtor.

Since 2016 (art. L. 523-1 I 4° CSS; seed 000: "l'ASF viendra en complément des petites pensions
alimentaires, même lorsque celles-ci sont correctement payées"; seed 002) the creditor parent
never receives less than the ASF for a child. With `asf` the child's ASF for the month, `due` the
child's pension for the month (after revaluation: gateway.payments.dues) and `paid` what the
debtor paid for that child:

    complement  = asf - paid   when paid < asf, else 0
    recoverable = min(complement, due - paid), never negative

That covers total default (the full ASF), partial default, and a small pension paid in full (120 €
paid in full -> ASF - 120, nothing of it recoverable since nothing is unpaid). Only the part that
matches unpaid pension is recoverable: the fund is subrogated in the creditor's claim (L. 581-2
CSS), and the part of the ASF above the pension is the family's own benefit (seed 001: "la
différence n'est pas récupérable").

A complement under 15 € is not paid: this is the CAF's practice (its threshold for paying a
monthly amount), not a rule of the code; then nothing is advanced and nothing is recoverable (the
unpaid pension is still owed and collected for the creditor, it is just not the fund's claim).

Seed 001 states the rule in force before 2016, the "triple limit" min(pension, ASF) - paid
(L. 581-2 al. 4 CSS as then written, circulaire DSS of 15 July 1985). It is superseded; its
examples that still hold are in tests/unit/payments/test_asf.py.

Families receive the complement net of the 0.5 % CRDS: net = round_half_up((BMAF × rate - paid)
× 0.995), so that a full ASF is exactly the published net amount (gateway.payments.amounts).

All amounts are integers in the smallest unit (euro cents); the arithmetic does not care which
currency, which lets the tests replay seed 001's examples in francs.

>>> asf_complement(asf=48500, due=30000, paid=10000).complement_cents   # 485 F ASF, 300 F due, 100 F paid
38500
>>> asf_complement(asf=48500, due=30000, paid=10000).recoverable_cents  # only the unpaid 200 F
20000
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gateway.payments.amounts import ASF_COMPLEMENT_MIN_CENTS, NET_OF_CRDS, AmountsRow, round_half_up


@dataclass(frozen=True, slots=True)
class AsfComplement:
    """One child's ASF for one month: the complement paid to the creditor and its recoverable part."""

    asf_cents: int  # the child's gross ASF for the month
    computed_cents: int  # asf - paid when paid < asf, else 0 (before the 15 € threshold)
    complement_cents: int  # what the fund pays (gross): computed, or 0 under the threshold
    complement_net_cents: int  # what the family receives, net of the 0.5 % CRDS
    recoverable_cents: int  # what the fund may claim from the debtor: min(complement, due - paid)

    @property
    def below_threshold(self) -> bool:
        """A complement was computed but is under 15 € and so not paid (CAF practice)."""
        return self.computed_cents > 0 and self.complement_cents == 0

    def to_json(self) -> dict[str, int | bool]:
        return {
            "asf_cents": self.asf_cents,
            "asf_complement_cents": self.complement_cents,
            "asf_complement_net_cents": self.complement_net_cents,
            "recoverable_cents": self.recoverable_cents,
            "below_threshold": self.below_threshold,
        }


def asf_complement(
    asf: int,
    due: int,
    paid: int,
    *,
    threshold: int = ASF_COMPLEMENT_MIN_CENTS,
    asf_exact: Decimal | None = None,
) -> AsfComplement:
    """The complement of one child for one month (module docstring). `asf_exact`: the unrounded
    BMAF × rate the net is computed from (defaults to `asf`)."""
    if asf < 0 or due < 0 or paid < 0:
        raise ValueError("ASF, due and paid amounts are non-negative integers (cents)")
    computed = asf - paid if paid < asf else 0
    complement = computed if computed >= threshold else 0
    net = 0
    if complement > 0:
        base = (asf_exact if asf_exact is not None else Decimal(asf)) - paid
        net = round_half_up(base * NET_OF_CRDS)
    recoverable = max(0, min(complement, due - paid))
    return AsfComplement(asf, computed, complement, net, recoverable)


def child_asf(row: AmountsRow, due: int, paid: int, *, both_parents: bool = False) -> AsfComplement:
    """`asf_complement` with the ASF of an amounts row (one parent failing unless `both_parents`,
    R. 523-7 2° and 1° CSS)."""
    return asf_complement(
        row.asf_gross_cents(both_parents), due, paid, asf_exact=row.asf_exact_cents(both_parents)
    )
