"""How a payment made for a whole dossier's month is shared among its children.

The debtor pays one debit a month for all the children of the title; the ASF, though, is counted
child by child (gateway.payments.asf). The payment is shared pro rata of each child's due for the
month: the children's pensions of one month fall due the same day, under the same title, so none
is older or more burdensome than another, and art. 1342-10 al. 2 C. civ. then imputes a payment
"proportionnellement". Cents are shared by the largest remainder method (Hamilton): each child
gets the floor of its exact share, and the cents left go one by one to the largest remainders,
ties to the child listed first in the title. The shares always add up to the payment, and the same
inputs always give the same shares.

>>> allocate(5000, (18000, 15000))    # 50 € paid on 180 € + 150 € due
(2727, 2273)
>>> allocate(33000, (18000, 15000))   # paid in full
(18000, 15000)
"""

from __future__ import annotations

from collections.abc import Sequence


def allocate(paid: int, dues: Sequence[int]) -> tuple[int, ...]:
    """`paid` cents shared among children pro rata of their `dues` (largest remainder, ties to the
    first child). With nothing due, everything goes to the first child (there is nothing to share)."""
    if paid < 0 or any(due < 0 for due in dues):
        raise ValueError("paid and due amounts are non-negative integers (cents)")
    if not dues:
        return ()
    total = sum(dues)
    if total == 0:
        return (paid,) + (0,) * (len(dues) - 1)
    shares = [paid * due // total for due in dues]
    remainders = [paid * due % total for due in dues]
    left = paid - sum(shares)
    for position in sorted(range(len(dues)), key=lambda i: (-remainders[i], i))[:left]:
        shares[position] += 1
    return tuple(shares)
