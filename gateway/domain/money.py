"""Money: decimal euros on the wire, integer cents inside. Never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")


def has_at_most_two_decimals(amount: Decimal) -> bool:
    return amount == amount.quantize(CENT)


def to_cents(amount: Decimal) -> int:
    """Exact conversion of a euro amount with at most two decimals into integer cents."""
    if not has_at_most_two_decimals(amount):
        raise ValueError(f"{amount} has more than two decimals")
    return int(amount.quantize(CENT) * 100)


def format_euros(cents: int) -> str:
    """Integer cents as the wire's decimal euros: 15000 -> '150.00'."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def parse_decimal(text: str) -> Decimal | None:
    """A finite decimal from its text, or None when the text is no number."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
