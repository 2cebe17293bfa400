"""Identifiers checked with python-stdnum and schwifty (IBAN, BIC, NIR), wrapped in our rule messages.

Checksums are never hand-written here: python-stdnum implements ISO 13616 (IBAN, mod 97),
ISO 9362 (BIC) and the NIR key (97 - n mod 97); schwifty knows which countries are in the SEPA zone.
"""

from __future__ import annotations

from datetime import date

from schwifty import IBAN
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError
from stdnum.fr import nir as stdnum_nir


def check_iban(value: str) -> tuple[str | None, str | None]:
    """Return (normalized IBAN, None) or (None, reason)."""
    try:
        compact = stdnum_iban.validate(value)
    except ValidationError as exc:
        return None, f"not a valid IBAN ({str(exc).rstrip('.').lower()})"
    if not IBAN(compact).in_sepa_zone:
        return None, f"IBAN country {compact[:2]} is outside the SEPA zone"
    return compact, None


def check_bic(value: str) -> tuple[str | None, str | None]:
    """Return (normalized BIC, None) or (None, reason)."""
    try:
        return stdnum_bic.validate(value), None
    except ValidationError as exc:
        return None, f"not a valid BIC ({str(exc).rstrip('.').lower()})"


def check_nir(value: str, birth_date: date | None = None) -> tuple[str | None, str | None]:
    """Return (normalized NIR, None) or (None, reason); the year and month must match the birth date."""
    try:
        compact = stdnum_nir.validate(value)
    except ValidationError as exc:
        return None, f"not a valid NIR ({str(exc).rstrip('.').lower()})"
    if birth_date is not None:
        year, month = compact[1:3], compact[3:5]
        # INSEE: positions 2-3 are the year of birth, 4-5 the month (20+ or 99 when unknown)
        if year != f"{birth_date.year % 100:02d}":
            return None, "NIR year of birth does not match the birth date"
        if month.isdigit() and 1 <= int(month) <= 12 and int(month) != birth_date.month:
            return None, "NIR month of birth does not match the birth date"
    return compact, None
