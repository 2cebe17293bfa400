"""Revaluation of a child's monthly amount by the title's clause (docs/revaluation.md).

The fund revalues the pension it intermediates (art. L. 582-1 I CSS) as the title says (art.
1074-4 II 6° CPC: a) silent, b) expressly excluded, c) provided, with the index, its base value,
the first revaluation date and the rounding):

- `indexed` (greffe `PREVUE`): on the first revaluation date, then every year on that day, with the
  title's series; the base is the title's value;
- `silent` (`SILENCE`, and titles whose format carries no clause: notaire, avocat): every year on
  the anniversary of the title's date, with INSEE series 001763852; the base is the value of that
  series for the title's reference month;
- `excluded` (`EXCLUE`): never.

new amount = title amount × new index / base index, computed in Decimal and rounded once, to the
cent (half up) or by the title's rounding rule. Each revaluation starts again from the title's
amount (the title fixes the base), so that roundings never compound.

Which index values (our reading, docs/revaluation.md "Which index values"): the value for a date is
the one of its reference month, two months before the date's month (the latest value INSEE has
published on the first day of that month: the index of month M comes out in the middle of M+1).
A revaluation dated in month M applies to the months that start on or after that date: an
instalment already due keeps its amount.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from gateway.domain.transmission import IndexationMode
from gateway.errors import Code, GatewayError
from gateway.payments.indices import SILENT_SERIES, IndexSource, month_shift, series_key

CENT = Decimal("0.01")
EURO = Decimal("1")


class Rounding(StrEnum):
    """How a revalued amount is rounded: to the cent unless the title says otherwise."""

    CENT = "cent"  # half up, the default
    EURO_NEAREST = "euro-nearest"  # "à l'euro le plus proche"
    EURO_UP = "euro-up"  # "à l'euro supérieur"
    EURO_DOWN = "euro-down"  # "à l'euro inférieur"

    def apply(self, amount: Decimal) -> Decimal:
        if self is Rounding.EURO_NEAREST:
            return amount.quantize(EURO, rounding=ROUND_HALF_UP)
        if self is Rounding.EURO_UP:
            return amount.quantize(EURO, rounding=ROUND_CEILING)
        if self is Rounding.EURO_DOWN:
            return amount.quantize(EURO, rounding=ROUND_FLOOR)
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)


_ROUNDING_WORDS = (
    (re.compile(r"euro.*(sup[ée]rieur|exc[ée]s)"), Rounding.EURO_UP),
    (re.compile(r"euro.*(inf[ée]rieur|d[ée]faut)"), Rounding.EURO_DOWN),
    (re.compile(r"euro"), Rounding.EURO_NEAREST),
)


def parse_rounding(text: str | None) -> Rounding:
    """The title's rounding rule (free text, `Revalorisation/Arrondi`): the euro (nearest, up or
    down) when it names the euro, else the cent."""
    if not text:
        return Rounding.CENT
    folded = text.casefold()
    for pattern, rounding in _ROUNDING_WORDS:
        if pattern.search(folded):
            return rounding
    return Rounding.CENT


class IndexMissing(GatewayError):
    """An index value a revaluation needs is not known: the month is held, never guessed."""

    default_code = Code.INDEX_MISSING

    def __init__(self, series: str, period: str, *, revalued_on: date, field: str) -> None:
        super().__init__(
            f"no value of index {series} for {period} (needed for the revaluation of "
            f"{revalued_on.isoformat()}): the month is held, not debited; import the index "
            "with `gateway indices import`",
            field=field,
        )
        self.series, self.period, self.revalued_on = series, period, revalued_on


@dataclass(frozen=True, slots=True)
class Clause:
    """A child's revaluation clause, ready to apply."""

    mode: IndexationMode
    series: str | None = None
    base_value: Decimal | None = None  # given by the title (`indexed`)
    base_period: str | None = None  # looked up in the series (`silent`)
    first_date: date | None = None
    rounding: Rounding = Rounding.CENT


def reference_period(day: date) -> str:
    """The month whose index value applies on `day`: two months before `day`'s month."""
    return month_shift(f"{day.year:04d}-{day.month:02d}", -2)


def anniversary(day: date, years: int) -> date:
    """`day` moved by whole years; 29 February becomes 28 February in a common year."""
    year = day.year + years
    try:
        return day.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def clause_of(child: Mapping[str, Any], title_date: date | None) -> Clause:
    """The clause of a canonical dossier's child (`children[i]`), with the title's date. Without a
    title date (not a whole canonical dossier: a test's or a tool's terms) a silent clause has no
    anniversary, so nothing is revalued."""
    indexation = child.get("indexation")
    mode = IndexationMode(indexation["mode"]) if indexation else IndexationMode.SILENT
    if mode is IndexationMode.EXCLUDED:
        return Clause(mode)
    if mode is IndexationMode.SILENT:
        if title_date is None:
            return Clause(mode, series=SILENT_SERIES)
        return Clause(
            mode,
            series=SILENT_SERIES,
            base_period=reference_period(title_date),
            first_date=anniversary(title_date, 1),
        )
    assert indexation is not None
    return Clause(
        mode,
        series=series_key(indexation["index_type"]),
        base_value=Decimal(indexation["index_value"]),
        first_date=date.fromisoformat(indexation["first_revaluation_date"]),
        rounding=parse_rounding(indexation.get("rounding")),
    )


@dataclass(frozen=True, slots=True)
class Revalued:
    """A revalued amount and everything it was computed from."""

    cents: int
    series: str
    base_value: Decimal
    base_period: str | None  # None when the title gives the base value
    value: Decimal
    value_period: str
    revalued_on: date
    rounding: Rounding


def revaluation_dates(clause: Clause, until: date) -> list[date]:
    """The clause's revaluation dates on or before `until`, oldest first."""
    if clause.mode is IndexationMode.EXCLUDED or clause.first_date is None:
        return []
    found: list[date] = []
    years = 0
    while (day := anniversary(clause.first_date, years)) <= until:
        found.append(day)
        years += 1
    return found


def revalued_on(
    title_cents: int, clause: Clause, revaluation: date, indices: IndexSource, *, field: str
) -> Revalued:
    """The amount from the revaluation of `revaluation` on: title × new / base, rounded once."""
    assert clause.series is not None
    base = clause.base_value
    if base is None:
        assert clause.base_period is not None
        base = indices.value(clause.series, clause.base_period)
        if base is None:
            raise IndexMissing(clause.series, clause.base_period, revalued_on=revaluation, field=field)
    period = reference_period(revaluation)
    value = indices.value(clause.series, period)
    if value is None:
        raise IndexMissing(clause.series, period, revalued_on=revaluation, field=field)
    exact = Decimal(title_cents) / 100 * value / base
    rounded = clause.rounding.apply(exact)
    return Revalued(
        cents=int(rounded * 100),
        series=clause.series,
        base_value=base,
        base_period=clause.base_period,
        value=value,
        value_period=period,
        revalued_on=revaluation,
        rounding=clause.rounding,
    )


def amount_in_force(
    title_cents: int, clause: Clause, month_start: date, indices: IndexSource, *, field: str
) -> Revalued | None:
    """The revalued amount for the month starting `month_start`, or None when no revaluation
    applies yet (or ever): the latest revaluation dated on or before the month's first day."""
    dates = revaluation_dates(clause, month_start)
    if not dates:
        return None
    return revalued_on(title_cents, clause, dates[-1], indices, field=field)
