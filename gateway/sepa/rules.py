"""EPC rulebook rules checked before any pain file is written, each yielding coded Issues.

Sources: EPC130-08 "SDD Core Scheme Customer-to-Bank Implementation Guidelines" and EPC125-05
"SCT Scheme Customer-to-Bank Implementation Guidelines" (attribute numbers AT-xx), EPC217-08
(character set), EPC262-08 (creditor identifier). The ISO XSDs do not carry these restrictions.

Two steps per transaction: `normalize_*` converts text to the SEPA set and compacts IBAN/BIC
(cheap when the input is already clean: the same object comes back), `check_*` returns every
Issue of the normalized value. Writers run both in their first pass and refuse to write a byte
when any error is found.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from stdnum import bic as stdnum_bic
from stdnum.eu import at_02
from stdnum.exceptions import ValidationError

from gateway.errors import Code, Issue
from gateway.sepa.charset import is_sepa, transliterate
from gateway.sepa.countries import SEPA, bank_outside_eea, in_sepa
from gateway.sepa.model import (
    Amendment,
    CreditTransfer,
    DirectDebit,
    Fund,
    PostalAddress,
)

if TYPE_CHECKING:
    from schwifty.domain import IBANSpec

NAME_MAX = 70  # EPC130-08 AT-03/AT-14, EPC125-05 AT-02/AT-21: 70 characters
REMITTANCE_MAX = 140  # EPC130-08 AT-22, EPC125-05 AT-05: one Ustrd of 140 characters
IDENTIFIER_MAX = 35  # EPC130-08 AT-01 (mandate), AT-10 (end-to-end), MsgId, PmtInfId
AMOUNT_MIN_CENTS = 1  # EPC130-08 AT-06 / EPC125-05 AT-04: 0.01 ...
AMOUNT_MAX_CENTS = 99_999_999_999  # ... to 999,999,999.99 EUR
# ISO 20022 PostalAddress24/6 lengths
_ADDRESS_MAX = {"street": 70, "building_number": 16, "postcode": 16, "town": 35}
ADDRESS_LINES_MAX = 2  # EPC 2025 rulebooks, hybrid address: at most two AdrLine ...
ADDRESS_LINE_MAX = 70  # ... of 70 characters each (ISO Max70Text)
_COUNTRY = re.compile(r"[A-Z]{2}")
_PURPOSE = re.compile(r"[A-Z]{4}")


# --- single-value rules --------------------------------------------------------------------


def charset_rule(value: str, field: str) -> Iterator[Issue]:
    """# EPC130-08/EPC125-05 §1.4: only the SEPA Latin character set (after EPC217-08)."""
    if not is_sepa(value):
        yield from transliterate(value, field)[1]


def name_rule(value: str, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-03/AT-14, EPC125-05 AT-02/AT-21: name present, at most 70 characters."""
    yield from charset_rule(value, field)
    if not value.strip():
        yield Issue(Code.SEPA_NAME_TOO_LONG, field, "name is empty")
    elif len(value) > NAME_MAX:
        yield Issue(
            Code.SEPA_NAME_TOO_LONG,
            field,
            f"name has {len(value)} characters, at most {NAME_MAX} (EPC, never truncated)",
        )


def remittance_rule(value: str | None, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-22, EPC125-05 AT-05: unstructured remittance at most 140 characters."""
    if value is None:
        return
    yield from charset_rule(value, field)
    if len(value) > REMITTANCE_MAX:
        yield Issue(
            Code.SEPA_REMITTANCE_TOO_LONG,
            field,
            f"remittance has {len(value)} characters, at most {REMITTANCE_MAX}",
        )


def identifier_rule(value: str, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-01/AT-10 and IG §1.5: 1-35 SEPA characters, no leading, trailing or
    double `/` (nor leading/trailing space, which banks trim)."""
    if not value or len(value) > IDENTIFIER_MAX:
        yield Issue(
            Code.SEPA_INVALID_IDENTIFIER,
            field,
            f"identifier must have 1 to {IDENTIFIER_MAX} characters, has {len(value)}",
        )
    if not is_sepa(value):
        yield Issue(Code.SEPA_INVALID_IDENTIFIER, field, "identifier outside the SEPA set")
    if value.startswith("/") or value.endswith("/") or "//" in value:
        yield Issue(
            Code.SEPA_INVALID_IDENTIFIER,
            field,
            "identifier must not start or end with '/' nor contain '//'",
        )
    if value != value.strip():
        yield Issue(Code.SEPA_INVALID_IDENTIFIER, field, "identifier has surrounding spaces")


def currency_rule(value: str, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-06, EPC125-05 AT-04: SEPA schemes are euro only."""
    if value != "EUR":
        yield Issue(Code.SEPA_CURRENCY, field, f"currency {value!r} is not EUR")


def amount_rule(cents: int, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-06, EPC125-05 AT-04: 0.01 <= amount <= 999,999,999.99 EUR."""
    if not AMOUNT_MIN_CENTS <= cents <= AMOUNT_MAX_CENTS:
        yield Issue(
            Code.SEPA_AMOUNT_OUT_OF_RANGE,
            field,
            f"amount {cents} cents outside 0.01 .. 999999999.99 EUR",
        )


def iban_rule(value: str, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-04/AT-07, EPC125-05 AT-01/AT-20: a valid IBAN of a SEPA country.

    An IBAN the fast path (`_iban_ok`, property-tested never to accept what `_iban_issues`
    refuses) clears has no issue; any other gets `_iban_issues`' detailed verdict."""
    if _iban_ok(value):
        return
    yield from _iban_issues(value, field)


def _iban_issues(value: str, field: str) -> Iterator[Issue]:
    """The detailed IBAN rule. ISO 13616 from schwifty, not hand-written: the country's IBAN
    length, BBAN format and SEPA-zone membership from its registry (the data behind
    `IBAN.in_sepa_zone`), the check digits from its ISO 7064 mod 97-10 algorithm. Same verdict
    as `schwifty.IBAN()` at a third of its cost; python-stdnum's `iban.validate` costs 16 us.
    schwifty is imported here, on the first IBAN the fast path refuses (~30 ms of start-up)."""
    from schwifty.checksum import ISO7064_mod97_10

    spec = _iban_spec(value[:2])
    if spec is None:
        yield Issue(Code.INVALID_IBAN, field, f"invalid IBAN: unknown country {value[:2]!r}")
        return
    if len(value) != spec.iban_length or not value[2:4].isdigit():
        yield Issue(Code.INVALID_IBAN, field, f"invalid IBAN: {spec.iban_length} characters expected")
        return
    if spec.regex.match(value[4:]) is None:
        yield Issue(Code.INVALID_IBAN, field, "invalid IBAN: wrong national (BBAN) format")
        return
    # ISO 7064 never yields the check digits 00, 01 or 99, which a bare mod-97 test accepts
    # schwifty's ISO 7064 mod 97-10 computes the canonical check digits (02..98), stricter
    # than a bare "mod 97 == 1" that also accepts 00, 01 and 99
    if not ISO7064_mod97_10().validate([value[4:], value[:2]], value[2:4]):
        yield Issue(Code.INVALID_IBAN, field, "invalid IBAN: wrong check digits")
        return
    if not in_sepa(value[:2]):  # EPC409-09, not schwifty's older list (gateway.sepa.countries)
        yield Issue(Code.SEPA_IBAN_OUTSIDE_SEPA, field, f"IBAN country {value[:2]} is not in SEPA")


def _iban_spec(country: str) -> IBANSpec | None:
    from schwifty.exceptions import SchwiftyException
    from schwifty.registry import get_iban_spec

    try:
        return get_iban_spec(country)
    except (KeyError, SchwiftyException):
        return None


def bic_rule(value: str | None, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-12/AT-13, EPC125-05 AT-06/AT-23: BIC optional; when given, valid
    (ISO 9362, 8 or 11 characters, country code, checked with python-stdnum)."""
    if value is None:
        return
    problem = _bic_problem(value)
    if problem is not None:
        yield Issue(Code.INVALID_BIC, field, f"invalid BIC: {problem}")


@lru_cache(maxsize=4096)
def _bic_problem(value: str) -> str | None:
    # a run has a few hundred distinct BICs for up to millions of debits: check each once
    try:
        stdnum_bic.validate(value)
    except ValidationError as exc:
        return str(exc)
    return None


def creditor_id_rule(value: str, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-02, EPC262-08: creditor identifier (ICS, FRkkZZZnnnnnn) with valid
    ISO 7064 mod 97-10 check digits (python-stdnum `stdnum.eu.at_02`)."""
    try:
        at_02.validate(value)
    except ValidationError as exc:
        yield Issue(Code.SEPA_INVALID_CREDITOR_ID, field, f"invalid creditor identifier: {exc}")


def purpose_rule(value: str, field: str) -> Iterator[Issue]:
    """# EPC125-05 AT-44: purpose is an ISO ExternalPurpose1Code (4 capitals, e.g. ALMY)."""
    if not _PURPOSE.fullmatch(value):
        yield Issue(Code.SEPA_INVALID_PURPOSE, field, f"purpose {value!r} is not a 4-letter code")


def address_rule(address: PostalAddress | None, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-09/AT-05, EPC125-05 AT-03/AT-22, SDD Core and SCT rulebooks 2025: an
    address is structured or hybrid -- town and ISO country always in their own elements, plus
    at most two AdrLine of 70 characters; an unstructured-only one (free lines, no town) is
    refused (banks refuse them from 15 November 2026)."""
    if address is None:
        return
    if not _COUNTRY.fullmatch(address.country):
        yield Issue(Code.SEPA_ADDRESS_UNSTRUCTURED, f"{field}.country", "country must be ISO alpha-2")
    if not address.town.strip():
        message = (
            "an address of free lines only (unstructured) is refused: give the town and country"
            if address.lines
            else "a structured address needs a town"
        )
        yield Issue(Code.SEPA_ADDRESS_UNSTRUCTURED, f"{field}.town", message)
    for part, limit in _ADDRESS_MAX.items():
        value: str | None = getattr(address, part)
        if value is None:
            continue
        yield from charset_rule(value, f"{field}.{part}")
        if len(value) > limit:
            yield Issue(
                Code.SEPA_ADDRESS_UNSTRUCTURED,
                f"{field}.{part}",
                f"{part} has {len(value)} characters, at most {limit}",
            )
    if len(address.lines) > ADDRESS_LINES_MAX:
        yield Issue(
            Code.SEPA_ADDRESS_TOO_MANY_LINES,
            f"{field}.lines",
            f"a hybrid address has at most {ADDRESS_LINES_MAX} address lines, "
            f"this one has {len(address.lines)}",
        )
    for index, line in enumerate(address.lines):
        yield from charset_rule(line, f"{field}.lines[{index}]")
        if not line.strip() or len(line) > ADDRESS_LINE_MAX:
            yield Issue(
                Code.SEPA_ADDRESS_TOO_MANY_LINES,
                f"{field}.lines[{index}]",
                f"an address line has 1 to {ADDRESS_LINE_MAX} characters, this one {len(line)}",
            )


def non_eea_party_rule(
    iban: str, bic: str | None, address: PostalAddress | None, field: str, party: str
) -> Iterator[Issue]:
    """# SDD Core rulebook 2025 (AT-09 debtor address, AT-13 debtor BIC) and SCT rulebook 2025
    (AT-22 beneficiary address, AT-23 beneficiary BIC): when the party's bank is in a non-EEA
    SEPA country (EPC409-09: CH, GB, MC, SM, VA, AD, JE, GG, IM, ...) its address and the BIC
    are mandatory on the transaction."""
    if not bank_outside_eea(iban, bic):
        return
    if address is None:
        yield Issue(
            Code.SEPA_ADDRESS_REQUIRED,
            f"{field}.{party}_address",
            f"the {party}'s bank is in a non-EEA SEPA country: the {party}'s postal address is required",
        )
    if bic is None:
        yield Issue(
            Code.SEPA_BIC_REQUIRED,
            f"{field}.{party}_bic",
            f"the {party}'s bank is in a non-EEA SEPA country: its BIC is required",
        )


def fund_address_rule(fund: Fund, needed: bool, role: str) -> Iterator[Issue]:
    """# SDD Core rulebook 2025 AT-05 (address of the creditor) and SCT rulebook 2025 AT-03
    (address of the originator), after Regulation (EU) 2023/1113 art. 4: mandatory when a PSP
    of the payment is in a non-EEA SEPA country. `needed`: a batch of the file has a party
    whose bank is outside the EEA; the fund's own bank outside the EEA needs it as well."""
    if fund.address is not None or not (needed or bank_outside_eea(fund.iban, fund.bic)):
        return
    yield Issue(
        Code.SEPA_FUND_ADDRESS_REQUIRED,
        "fund.address",
        f"a {role}'s bank is outside the EEA: the fund's own postal address is required in the file; "
        "set GATEWAY_CREDITOR_ADDRESS_TOWN and GATEWAY_CREDITOR_ADDRESS_COUNTRY (docs/operations.md)",
    )


# --- composite checks ----------------------------------------------------------------------


def check_fund(fund: Fund, field: str = "fund", *, needs_creditor_id: bool = True) -> list[Issue]:
    """The fund as creditor (pain.008) or debtor (pain.001) and initiating party."""
    issues = [*name_rule(fund.name, f"{field}.name"), *iban_rule(fund.iban, f"{field}.iban")]
    issues.extend(bic_rule(fund.bic, f"{field}.bic"))
    issues.extend(address_rule(fund.address, f"{field}.address"))
    if needs_creditor_id:
        issues.extend(creditor_id_rule(fund.creditor_id, f"{field}.creditor_id"))
    return issues


def _amendment_issues(amendment: Amendment, field: str) -> Iterator[Issue]:
    """# EPC130-08 AT-24: the reason for amendment carries the original values."""
    if amendment.is_empty:
        yield Issue(Code.SEPA_INVALID_MANDATE, field, "amendment without any original detail")
    if amendment.original_mandate_id is not None:
        yield from identifier_rule(amendment.original_mandate_id, f"{field}.original_mandate_id")
    if amendment.original_debtor_iban is not None:
        yield from iban_rule(amendment.original_debtor_iban, f"{field}.original_debtor_iban")
        if amendment.new_debtor_agent:
            yield Issue(
                Code.SEPA_INVALID_MANDATE,
                field,
                "either the original account (same bank) or SMNDA (new bank), not both",
            )


# Fast-path patterns: each accepts only what the matching rule accepts (property-tested).
# The text fields of a transaction are matched at once, joined by line feeds (outside the SEPA
# set, so a field with one in it makes the whole match fail): one regex call, not four.
_SEPA_CHAR = r"[A-Za-z0-9/\-?:().,'+ ]"
_IDENTIFIER_OK = rf"(?![/ ])(?![^\n]*//){_SEPA_CHAR}{{1,35}}(?<![/ ])"  # identifier_rule
_NAME_OK = rf"(?=[^\n]*[^ \n]){_SEPA_CHAR}{{1,70}}"  # name_rule
_REMITTANCE_OK = rf"{_SEPA_CHAR}{{0,140}}"  # remittance_rule ("" stands for none)
# end-to-end id, mandate id, debtor name, remittance
_DEBIT_TEXTS_OK = re.compile(rf"{_IDENTIFIER_OK}\n{_IDENTIFIER_OK}\n{_NAME_OK}\n{_REMITTANCE_OK}").fullmatch
# end-to-end id, creditor name, remittance, purpose
_CREDIT_TEXTS_OK = re.compile(rf"{_IDENTIFIER_OK}\n{_NAME_OK}\n{_REMITTANCE_OK}\n[A-Z]{{4}}").fullmatch
_NON_EEA = SEPA.non_eea


# ISO 13616 letters as numbers (A=10 ... Z=35) for the mod-97 test of `_iban_ok`
_IBAN_LETTERS = str.maketrans({chr(ord("A") + i): str(10 + i) for i in range(26)})
# (IBAN length, whole-IBAN matcher, the country's letters as a number times 100, whether every
# BBAN position admits a digit)
_IbanFormat = tuple[int, Callable[[str], object], int, bool]
_IBAN_FORMATS: dict[str, _IbanFormat] = {}
_NO_FORMAT: _IbanFormat = (-1, lambda _value: None, 0, False)  # never matches: the rule says why
# a BBAN pattern made only of runs of digits or of letters-or-digits, e.g. France's
# `\d{5}\d{5}[A-Za-z0-9]{11}\d{2}`: any all-digit BBAN of its length matches it
_DIGIT_RUNS = re.compile(r"(?:\\d|\[A-Za-z0-9\]|\[A-Z0-9\]|\[0-9A-Za-z\]|\[0-9A-Z\])\{(\d+)\}")


@lru_cache(maxsize=1)
def _iban_snapshot() -> dict[str, tuple[int, str]]:
    """Each SEPA country's (IBAN length, BBAN pattern): `iban_formats.json`, a snapshot of
    schwifty's registry that tests/unit/sepa/test_iban_formats.py compares with schwifty itself.
    The fast path reads it instead of importing schwifty (~30 ms of every process's start-up,
    its `importlib.metadata` and pycountry included), which only the detailed rule needs."""
    raw = json.loads(resources.files("gateway.sepa").joinpath("iban_formats.json").read_text("utf-8"))
    countries: dict[str, dict[str, object]] = raw["countries"]
    return {code: (int(str(entry["length"])), str(entry["bban"])) for code, entry in countries.items()}


def _iban_format(country: str) -> _IbanFormat:
    """(IBAN length, whole-IBAN matcher, the country's letters as a number times 100) of a SEPA
    country, from the snapshot of schwifty's registry, once per country. The matcher is the
    country code, check digits 02..98 (the only ones ISO 7064 mod 97-10 computes) and schwifty's
    BBAN pattern, ASCII only. `_NO_FORMAT` for a country unknown to schwifty or outside SEPA
    (EPC409-09)."""
    known = _iban_snapshot().get(country) if _COUNTRY.fullmatch(country) else None
    found = _NO_FORMAT
    if known is not None and in_sepa(country):
        length, pattern = known
        bban = pattern.removeprefix("^").removesuffix("$")
        whole = re.compile(f"{country}(?:0[2-9]|[1-8][0-9]|9[0-8])(?:{bban})", re.ASCII)
        runs = [int(n) for n in _DIGIT_RUNS.findall(bban)]
        digits = _DIGIT_RUNS.sub("", bban) == "" and sum(runs) == length - 4
        found = (length, whole.fullmatch, int(country.translate(_IBAN_LETTERS)) * 100, digits)
    _IBAN_FORMATS[country] = found
    return found


def _iban_ok(value: str) -> bool:
    """Fast path of `iban_rule`: True only when it finds nothing (property-tested on every path).

    Same tests in the same terms -- the country's length and BBAN pattern from schwifty's
    registry, SEPA membership from EPC409-09 -- with the ISO 7064 mod 97-10 check done on one
    integer: the rearranged IBAN (BBAN, country, check digits) with letters as 10..35 is 1
    modulo 97 and the check digits are 02..98 (schwifty compares them with the digits it
    computes, 98 - (n * 100 mod 97): the same verdict). An all-digit BBAN (most) is one int(),
    and needs no pattern match where every BBAN position admits a digit (France, Germany...)."""
    length, whole, country, digits = _IBAN_FORMATS.get(value[:2]) or _iban_format(value[:2])
    if len(value) != length:
        return False
    body = value[2:]
    if digits and body.isdigit() and body.isascii():
        check = int(value[2:4])
        return 2 <= check <= 98 and (int(value[4:]) * 1_000_000 + country + check) % 97 == 1
    if whole(value) is None:
        return False
    bban = value[4:]
    if bban.isdigit():
        return (int(bban) * 1_000_000 + country + int(value[2:4])) % 97 == 1
    try:
        return int((bban + value[:4]).translate(_IBAN_LETTERS)) % 97 == 1
    except ValueError:  # a lower-case letter, which schwifty would not map either
        return False


@lru_cache(maxsize=4096)
def _clean_bic(value: str) -> bool:
    """A valid BIC (bic_rule), upper-case and compact (nothing to normalize), of a bank in the
    EEA (non_eea_party_rule); cached: a run has a few hundred banks for up to millions of debits."""
    return _bic_problem(value) is None and value.isupper() and " " not in value and value[4:6] not in _NON_EEA


def debit_is_clean(debit: DirectDebit) -> bool:
    """Fast path: True only when `check_debit` would find nothing AND `normalize_debit` would
    return `debit` itself (both property-tested); False just means "normalize and run
    check_debit for the details". One regex for the four text fields and a few comparisons
    instead of the rule generators: that is what 1,000,000 debits per run need. (SEPA text, no
    address, a valid upper-case ASCII IBAN and BIC leave nothing to normalize.) The named tuple
    is unpacked once rather than read field by field (a dozen attribute reads per debit)."""
    (e2e, cents, mandate, signed, _sequence, day, name, iban, bic, address, remittance, amendment, ccy) = (
        debit
    )
    return (
        address is None
        and amendment is None
        and ccy == "EUR"
        and AMOUNT_MIN_CENTS <= cents <= AMOUNT_MAX_CENTS
        and signed <= day
        and _DEBIT_TEXTS_OK(f"{e2e}\n{mandate}\n{name}\n{remittance or ''}") is not None
        and (bic is None or _clean_bic(bic))
        and iban[:2] not in _NON_EEA  # with the BIC's country above: countries.bank_outside_eea
        and _iban_ok(iban)
    )


def credit_is_clean(credit: CreditTransfer) -> bool:
    """Fast path of `check_credit`, same contract as `debit_is_clean`."""
    (e2e, cents, _day, name, iban, bic, address, remittance, purpose, ccy) = credit
    return (
        address is None
        and ccy == "EUR"
        and AMOUNT_MIN_CENTS <= cents <= AMOUNT_MAX_CENTS
        and _CREDIT_TEXTS_OK(f"{e2e}\n{name}\n{remittance or ''}\n{purpose}") is not None
        and (bic is None or _clean_bic(bic))
        and iban[:2] not in _NON_EEA
        and _iban_ok(iban)
    )


def check_debit(debit: DirectDebit, field: str = "debit") -> list[Issue]:
    """Every EPC130-08 rule on one (normalized) direct debit."""
    issues = [
        *identifier_rule(debit.end_to_end_id, f"{field}.end_to_end_id"),
        *identifier_rule(debit.mandate_id, f"{field}.mandate_id"),
        *currency_rule(debit.currency, f"{field}.currency"),
        *amount_rule(debit.amount_cents, f"{field}.amount_cents"),
        *name_rule(debit.debtor_name, f"{field}.debtor_name"),
        *iban_rule(debit.debtor_iban, f"{field}.debtor_iban"),
        *bic_rule(debit.debtor_bic, f"{field}.debtor_bic"),
        *address_rule(debit.debtor_address, f"{field}.debtor_address"),
        *non_eea_party_rule(debit.debtor_iban, debit.debtor_bic, debit.debtor_address, field, "debtor"),
        *remittance_rule(debit.remittance, f"{field}.remittance"),
    ]
    # EPC130-08 AT-25: the mandate is signed before it is used.
    if debit.mandate_signed_on > debit.collection_date:
        issues.append(
            Issue(
                Code.SEPA_INVALID_MANDATE,
                f"{field}.mandate_signed_on",
                "mandate signed after the requested collection date",
            )
        )
    if debit.amendment is not None:
        issues.extend(_amendment_issues(debit.amendment, f"{field}.amendment"))
    return issues


def check_credit(credit: CreditTransfer, field: str = "credit") -> list[Issue]:
    """Every EPC125-05 rule on one (normalized) credit transfer."""
    return [
        *identifier_rule(credit.end_to_end_id, f"{field}.end_to_end_id"),
        *currency_rule(credit.currency, f"{field}.currency"),
        *amount_rule(credit.amount_cents, f"{field}.amount_cents"),
        *name_rule(credit.creditor_name, f"{field}.creditor_name"),
        *iban_rule(credit.creditor_iban, f"{field}.creditor_iban"),
        *bic_rule(credit.creditor_bic, f"{field}.creditor_bic"),
        *address_rule(credit.creditor_address, f"{field}.creditor_address"),
        *non_eea_party_rule(
            credit.creditor_iban, credit.creditor_bic, credit.creditor_address, field, "creditor"
        ),
        *remittance_rule(credit.remittance, f"{field}.remittance"),
        *purpose_rule(credit.purpose, f"{field}.purpose"),
    ]


# --- normalization -------------------------------------------------------------------------


def _text(value: str) -> str:
    return value if is_sepa(value) else transliterate(value)[0]


def _opt_text(value: str | None) -> str | None:
    return None if value is None else _text(value)


def compact(value: str) -> str:
    """IBAN/BIC as written in XML: no spaces, capitals."""
    return value.replace(" ", "").upper()


def normalize_address(address: PostalAddress | None) -> PostalAddress | None:
    if address is None:
        return None
    return PostalAddress(
        country=address.country.upper(),
        town=_text(address.town),
        postcode=_opt_text(address.postcode),
        street=_opt_text(address.street),
        building_number=_opt_text(address.building_number),
        lines=tuple(_text(line) for line in address.lines),
    )


def _clean_account(iban: str, bic: str | None) -> bool:
    return " " not in iban and iban.isupper() and (bic is None or (" " not in bic and bic.isupper()))


def normalize_debit(debit: DirectDebit) -> DirectDebit:
    """Transliterated names/remittance/address, compact IBAN/BIC; same object when clean."""
    if (
        is_sepa(debit.debtor_name)
        and (debit.remittance is None or is_sepa(debit.remittance))
        and debit.debtor_address is None
        and _clean_account(debit.debtor_iban, debit.debtor_bic)
    ):
        return debit
    return debit._replace(
        debtor_name=_text(debit.debtor_name),
        remittance=_opt_text(debit.remittance),
        debtor_address=normalize_address(debit.debtor_address),
        debtor_iban=compact(debit.debtor_iban),
        debtor_bic=None if debit.debtor_bic is None else compact(debit.debtor_bic),
    )


def normalize_credit(credit: CreditTransfer) -> CreditTransfer:
    """Transliterated names/remittance/address, compact IBAN/BIC; same object when clean."""
    if (
        is_sepa(credit.creditor_name)
        and (credit.remittance is None or is_sepa(credit.remittance))
        and credit.creditor_address is None
        and _clean_account(credit.creditor_iban, credit.creditor_bic)
    ):
        return credit
    return credit._replace(
        creditor_name=_text(credit.creditor_name),
        remittance=_opt_text(credit.remittance),
        creditor_address=normalize_address(credit.creditor_address),
        creditor_iban=compact(credit.creditor_iban),
        creditor_bic=None if credit.creditor_bic is None else compact(credit.creditor_bic),
    )


def normalize_fund(fund: Fund) -> Fund:
    return dataclasses.replace(
        fund,
        name=_text(fund.name),
        address=normalize_address(fund.address),
        iban=compact(fund.iban),
        bic=None if fund.bic is None else compact(fund.bic),
        creditor_id=compact(fund.creditor_id),
    )
