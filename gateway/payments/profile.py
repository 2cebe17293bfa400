"""A dossier's collection profile: the terms the monthly schedule reads, kept in one short text.

The monthly run (gateway.services.collection) must not parse every canonical dossier (~3 KB of JSON) each
month to find the few values the schedule needs. At intake the store writes, next to the dossier,
its terms (gateway.payments.dues.DossierTerms: end date, and per child the amount in cents, the
effective date and the revaluation clause) as a compact JSON array, and the debtor's postal
address as the EPC rules would write it (docs/collection-run.md). The run decodes that text and
computes the month with the very function `child_dues` uses (`dues.terms_schedule`): the rules
are not copied here, only their input is stored. `encode` and `decode` are exact inverses on the
terms of every canonical dossier (property-tested, tests/unit/payments/test_profile.py), so the
fast path owes what `child_dues` owes, to the cent.

Format (version 1): `[1, end_date|null, [[cents, "YYYY-MM-DD", clause...], ...]]` where a clause
is `["x"]` (excluded), `["s", series, base_period|null, first_date|null]` (silent) or
`["i", series, "base value as written", first_date, rounding]` (indexed). A text of any other
version is not decoded: the run then reads the dossier itself (`ProfileOutdated`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.domain.transmission import IndexationMode
from gateway.payments.dues import ChildTerms, DossierTerms, dossier_terms
from gateway.payments.indices import IndexSource
from gateway.payments.revaluation import Clause, Revalued, Rounding, amount_in_force
from gateway.sepa import addresses

VERSION = 1
_MODES = {IndexationMode.EXCLUDED: "x", IndexationMode.SILENT: "s", IndexationMode.INDEXED: "i"}


class ProfileOutdated(ValueError):
    """A profile text this version of the gateway does not read (the dossier is read instead)."""


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _clause_json(clause: Clause) -> list[Any]:
    mode = _MODES[clause.mode]
    if clause.mode is IndexationMode.EXCLUDED:
        return [mode]
    if clause.mode is IndexationMode.SILENT:
        return [mode, clause.series, clause.base_period, _day(clause.first_date)]
    return [mode, clause.series, str(clause.base_value), _day(clause.first_date), clause.rounding.value]


def encode(terms: DossierTerms) -> str:
    """The profile text of `terms`."""
    children = [
        [child.title_cents, child.start.isoformat(), *_clause_json(child.clause)] for child in terms.children
    ]
    return json.dumps([VERSION, _day(terms.end), children], separators=(",", ":"))


class Decoder:
    """Decodes profile texts; clauses and dates repeat across dossiers, so each distinct one is
    parsed once per run (bounded: the memo is emptied when it grows past `limit` entries)."""

    def __init__(self, limit: int = 200_000) -> None:
        self._days: dict[str, date] = {}
        self._clauses: dict[tuple[Any, ...], Clause] = {}
        self._limit = limit

    def day(self, text: str) -> date:
        found = self._days.get(text)
        if found is None:
            if len(self._days) > self._limit:
                self._days.clear()
            found = self._days[text] = date.fromisoformat(text)
        return found

    def clause(self, key: tuple[Any, ...]) -> Clause:
        found = self._clauses.get(key)
        if found is None:
            if len(self._clauses) > self._limit:
                self._clauses.clear()
            found = self._clauses[key] = _clause(key, self)
        return found

    def decode(self, text: str) -> DossierTerms:
        """The terms a profile text holds; `ProfileOutdated` for another version."""
        data = json.loads(text)
        if not isinstance(data, list) or len(data) != 3 or data[0] != VERSION:
            raise ProfileOutdated("collection profile of another version")
        _version, end, children = data
        return DossierTerms(
            end=self.day(end) if end is not None else None,
            children=tuple(
                ChildTerms(position, child[0], self.day(child[1]), self.clause(tuple(child[2:])))
                for position, child in enumerate(children)
            ),
        )


def _clause(key: tuple[Any, ...], decoder: Decoder) -> Clause:
    mode = key[0]
    if mode == "x":
        return Clause(IndexationMode.EXCLUDED)
    if mode == "s":
        _mode, series, base_period, first = key
        return Clause(
            IndexationMode.SILENT,
            series=series,
            base_period=base_period,
            first_date=decoder.day(first) if first is not None else None,
        )
    if mode == "i":
        _mode, series, base_value, first, rounding = key
        return Clause(
            IndexationMode.INDEXED,
            series=series,
            base_value=Decimal(base_value),
            first_date=decoder.day(first) if first is not None else None,
            rounding=Rounding(rounding),
        )
    raise ProfileOutdated(f"unknown clause kind {mode!r}")


def decode(text: str) -> DossierTerms:
    """The terms of one profile text (a run uses one `Decoder` for all its dossiers)."""
    return Decoder().decode(text)


def debtor_address(dossier: Mapping[str, Any]) -> str | None:
    """The debtor's address as a debit carries it (hybrid, gateway.sepa.addresses), stored JSON;
    the run puts it on a debit only when the debtor's bank is in a non-EEA SEPA country."""
    return addresses.to_json(addresses.hybrid_address(dossier["debtor"].get("address")))


def profile_of(dossier: Mapping[str, Any]) -> tuple[str, str | None]:
    """(terms text, debtor address JSON) of a canonical dossier (its JSON form)."""
    return encode(dossier_terms(dossier)), debtor_address(dossier)


def profile_or_none(dossier: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """`profile_of`, or None for a document it cannot read (not a whole canonical dossier): a
    dossier without a profile is still collected, the run reading its JSON (the exact path)."""
    try:
        return profile_of(dossier)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
        return None


class InForceMemo:
    """`amount_in_force` asked once per (title amount, clause, month) of a run, for one index
    source: a national run has many dossiers but few distinct amounts, clauses and months. The
    memo returns what the function returned; a missing index value (`IndexMissing`) is not kept,
    so each dossier that needs it raises it with its own field. Exact by construction."""

    def __init__(self, limit: int = 500_000) -> None:
        self._found: dict[tuple[int, Clause, date, int], Revalued | None] = {}
        self._limit = limit

    def __call__(
        self, title_cents: int, clause: Clause, month_start: date, indices: IndexSource, *, field: str
    ) -> Revalued | None:
        if clause.mode is IndexationMode.EXCLUDED:
            return None
        key = (title_cents, clause, month_start, id(indices))
        try:
            return self._found[key]
        except KeyError:
            pass
        found = amount_in_force(title_cents, clause, month_start, indices, field=field)
        if len(self._found) >= self._limit:
            self._found.clear()
        self._found[key] = found
        return found
