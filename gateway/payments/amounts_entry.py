"""A row of the amounts table as an operator enters it (`gateway amounts add`), checked field by field.

The operator gives the BMAF of the new year, the source text, and the ASF amount net of CRDS that
the fund published for one parent failing: the row's amounts are computed from the BMAF with the
rules of gateway.payments.amounts, and the published net must come out of that computation. That
cross-check catches a mistyped BMAF before any family is paid on it. The ASF rates (art. R. 523-7
CSS) are the last row's unless given.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.domain.money import format_euros, has_at_most_two_decimals, parse_decimal, to_cents
from gateway.errors import Code, RuleViolation
from gateway.payments.amounts import (
    SOURCE_MAX_CHARS,
    AmountsRow,
    AmountsTable,
    check_next_since,
    derive_row,
)


def _amount(text: str | None, field: str, what: str) -> int:
    value = None if text is None else parse_decimal(text)
    if value is None or value <= 0 or not has_at_most_two_decimals(value):
        raise RuleViolation(
            f"{what} must be a positive amount in euros with at most two decimals (e.g. 478.64)",
            code=Code.INVALID_AMOUNT,
            field=field,
        )
    return to_cents(value)


def _rate(text: str | None, field: str, default: Decimal) -> Decimal:
    if text is None:
        return default
    value = parse_decimal(text)
    if value is None or not Decimal(0) < value < Decimal(1) or value != value.quantize(Decimal("0.0001")):
        raise RuleViolation(
            "an ASF rate is a share of the BMAF between 0 and 1 with at most four decimals (e.g. 0.4220)",
            code=Code.INVALID_AMOUNT,
            field=field,
        )
    return value


def new_row(
    table: AmountsTable,
    *,
    since: str,
    bmaf: str,
    published_asf_net: str,
    source: str,
    rsa_single: str | None = None,
    asf_rate_one_parent: str | None = None,
    asf_rate_both_parents: str | None = None,
) -> AmountsRow:
    """The row an operator enters, computed and checked: the year after the table's last row
    (`check_next_since`, again when it is stored), amounts well formed, the published net matching."""
    try:
        start = date.fromisoformat(since)
    except ValueError:
        raise RuleViolation(
            f"since must be a date YYYY-MM-DD, not {since[:20]!r}", code=Code.INVALID_DATE, field="since"
        ) from None
    if any(existing.since == start for existing in table.rows):
        raise RuleViolation(
            f"the amounts table has a row from {start.isoformat()} already",
            code=Code.AMOUNTS_ROW_EXISTS,
            field="since",
        )
    check_next_since(table, start)
    text = source.strip()
    if not text or len(text) > SOURCE_MAX_CHARS:
        raise RuleViolation(
            f"a row names its source (the text that publishes the amounts, 1 to {SOURCE_MAX_CHARS} "
            "characters)",
            code=Code.MISSING_FIELD,
            field="source",
        )
    row = derive_row(
        start,
        _amount(bmaf, "bmaf", "the BMAF"),
        text,
        rsa_single_cents=None if rsa_single is None else _amount(rsa_single, "rsa_single", "the RSA"),
        asf_rate_one_parent=_rate(asf_rate_one_parent, "asf_rate_one_parent", table.last.asf_rate_one_parent),
        asf_rate_both_parents=_rate(
            asf_rate_both_parents, "asf_rate_both_parents", table.last.asf_rate_both_parents
        ),
    )
    published = _amount(published_asf_net, "published_asf_net", "the published ASF net of CRDS")
    if published != row.asf_one_parent_net_cents:
        gross, net = format_euros(row.asf_one_parent_gross_cents), format_euros(row.asf_one_parent_net_cents)
        raise RuleViolation(
            f"the BMAF {format_euros(row.bmaf_cents)} gives an ASF (one parent) of {gross} gross, {net} "
            f"net of CRDS, not the published {format_euros(published)}: check the BMAF and the rate",
            code=Code.AMOUNTS_MISMATCH,
            field="published_asf_net",
        )
    return row
