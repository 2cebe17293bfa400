"""The postal address a SEPA file carries for a party, from the address its title gave.

A title's address (canonical dossier: `lines`, `postal_code`, `commune`, `country`) maps to the
hybrid form of the 2025 EPC rulebooks: town, postcode and country in their own elements, the
street lines as at most two AdrLine of 70 characters. More than two lines are joined (", ")
into two when they fit; when they do not, they are kept as they are and `rules.address_rule`
refuses the debit with `sepa-address-too-many-lines` (an address is never cut).

Stored with the debit or payout row as JSON (`to_json` / `from_json`) so that the file can be
written again from the row alone. Only written when the rules require it (the party's bank is
outside the EEA, `countries.bank_outside_eea`): less personal data in the files otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.sepa.model import PostalAddress
from gateway.sepa.rules import ADDRESS_LINE_MAX, ADDRESS_LINES_MAX


def fitted_lines(lines: Sequence[str]) -> tuple[str, ...]:
    """At most two lines of at most 70 characters, by joining neighbours; unchanged if impossible."""
    cleaned = tuple(line.strip() for line in lines if line.strip())
    if len(cleaned) <= ADDRESS_LINES_MAX:
        return cleaned
    for split in range(1, len(cleaned)):
        first, second = ", ".join(cleaned[:split]), ", ".join(cleaned[split:])
        if len(first) <= ADDRESS_LINE_MAX and len(second) <= ADDRESS_LINE_MAX:
            return (first, second)
    return cleaned


def hybrid_address(address: Mapping[str, Any] | None) -> PostalAddress | None:
    """The canonical dossier's address of a parent as a hybrid SEPA address (None if none)."""
    if address is None:
        return None
    return PostalAddress(
        country=str(address["country"]),
        town=str(address["commune"]),
        postcode=address.get("postal_code") or None,
        lines=fitted_lines([str(line) for line in address.get("lines") or ()]),
    )


def to_json(address: PostalAddress | None) -> str | None:
    if address is None:
        return None
    return json.dumps(
        {
            "country": address.country,
            "town": address.town,
            "postcode": address.postcode,
            "street": address.street,
            "building_number": address.building_number,
            "lines": list(address.lines),
        },
        ensure_ascii=False,
    )


def from_json(text: str | None) -> PostalAddress | None:
    if text is None:
        return None
    raw = json.loads(text)
    return PostalAddress(
        country=raw["country"],
        town=raw["town"],
        postcode=raw.get("postcode"),
        street=raw.get("street"),
        building_number=raw.get("building_number"),
        lines=tuple(raw.get("lines") or ()),
    )
