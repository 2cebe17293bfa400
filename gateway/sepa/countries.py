"""The countries in the SEPA schemes' geographical scope, and which of them are outside the EEA.

Data: `sepa_countries.json` next to this module, taken from EPC409-09 "EPC list of countries in
the SEPA schemes' geographical scope" (its source, date and notes are in the file). It is the
authority for "is this IBAN in SEPA" (`rules.iban_rule`): schwifty's registry, behind in that
respect, still lacks Albania, Moldova, Montenegro, North Macedonia and Serbia, and counts the
French Pacific territories (NC, PF, WF, TF: CFP franc, outside the schemes) as SEPA.

Why non-EEA matters: the 2025 SDD Core and SCT rulebooks (in force from 5 October 2025) make
the payer's and payee's postal address and the BIC mandatory when a PSP is in a non-EEA SEPA
country (the funds-transfer information rules of Regulation (EU) 2023/1113 apply there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class SepaCountries:
    """The list as loaded: ISO 3166 alpha-2 codes, the non-EEA ones, and where they come from."""

    source: str
    as_of: str
    all: frozenset[str]
    non_eea: frozenset[str]


def _load() -> SepaCountries:
    raw = json.loads(resources.files("gateway.sepa").joinpath("sepa_countries.json").read_text("utf-8"))
    countries: dict[str, dict[str, object]] = raw["countries"]
    return SepaCountries(
        source=str(raw["source"]),
        as_of=str(raw["as_of"]),
        all=frozenset(countries),
        non_eea=frozenset(code for code, entry in countries.items() if entry["eea"] is False),
    )


SEPA = _load()


def in_sepa(country: str) -> bool:
    """# EPC409-09: `country` (ISO alpha-2, e.g. an IBAN's first two letters) is in SEPA."""
    return country in SEPA.all


def bank_outside_eea(iban: str, bic: str | None) -> bool:
    """# SDD Core / SCT rulebooks 2025: the account's bank is in a non-EEA SEPA country.

    Judged on the IBAN's country and, when given, the BIC's (letters 5-6): the Crown
    dependencies' banks use GB IBANs but JE/GG/IM BICs, both non-EEA anyway."""
    return iban[:2] in SEPA.non_eea or (bic is not None and bic[4:6] in SEPA.non_eea)
