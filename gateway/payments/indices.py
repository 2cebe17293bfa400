"""Price index values, as data with their source (docs/revaluation.md, "Data").

A revaluation (gateway.payments.revaluation) reads index values through an `IndexSource`: the
values shipped with the gateway (`data/indices.csv`, loaded with importlib.resources) under the
values operators imported into the database (`gateway indices import`, gateway.store.indices), so
that every replica computes with the same numbers. Nothing here guesses: a value that is not in
the table is `None`, and the month that needs it is held (`index-missing`).

Series are named `INSEE-<idBank>` (the INSEE series identifier, nine digits), the way the greffe's
`Revalorisation/Indice/@type` names them; `series_key` accepts the bare idBank too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib.resources import files
from typing import Protocol

#: The index of a title silent on revaluation (L. 582-1 I CSS as applied by the fund): consumer
#: prices, all households, France, all items excluding tobacco (INSEE idBank 001763852).
SILENT_SERIES = "INSEE-001763852"

_IDBANK = re.compile(r"(?i)^\s*(?:insee[\s:_-]*)?(\d{9})\s*$")
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def series_key(name: str) -> str:
    """The series' name as the tables key it: `INSEE-001763852` for `001763852`, `insee 001763852`..."""
    match = _IDBANK.match(name)
    return f"INSEE-{match.group(1)}" if match else name.strip()


def is_period(text: str) -> bool:
    """`YYYY-MM` with a real month."""
    return _PERIOD.match(text) is not None


def month_shift(period: str, months: int) -> str:
    """`period` (YYYY-MM) moved by `months` (negative: back)."""
    year, month = int(period[:4]), int(period[5:7])
    ordinal = year * 12 + (month - 1) + months
    return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class IndexValue:
    """One published value of a series for one month."""

    series: str
    period: str  # YYYY-MM
    value: Decimal
    source: str  # where it comes from: a URL, or the imported file's name and date

    def __post_init__(self) -> None:
        if not is_period(self.period):
            raise ValueError(f"period must be YYYY-MM, not {self.period!r}")
        if not self.value.is_finite() or self.value <= 0:
            raise ValueError("an index value is a positive number")


class IndexSource(Protocol):
    """Where revaluation reads index values; `None` when the value is not known."""

    def value(self, series: str, period: str) -> Decimal | None: ...


class IndexTable:
    """Index values in memory; later values for the same (series, period) replace earlier ones."""

    def __init__(self, values: Iterable[IndexValue] = ()) -> None:
        self._values: dict[tuple[str, str], IndexValue] = {}
        for item in values:
            self._values[(series_key(item.series), item.period)] = item

    def value(self, series: str, period: str) -> Decimal | None:
        found = self._values.get((series_key(series), period))
        return found.value if found is not None else None

    def entry(self, series: str, period: str) -> IndexValue | None:
        return self._values.get((series_key(series), period))

    def over(self, values: Iterable[IndexValue]) -> IndexTable:
        """A new table: these values, then `values` on top (imported over shipped)."""
        return IndexTable([*self._values.values(), *values])

    def __iter__(self) -> Iterator[IndexValue]:
        return iter(sorted(self._values.values(), key=lambda v: (v.series, v.period)))

    def __len__(self) -> int:
        return len(self._values)


def parse_shipped(text: str) -> tuple[IndexValue, ...]:
    """The shipped file: `#` comments, a header `series;period;value;source`, one value a line."""
    rows: list[IndexValue] = []
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split(";", 3)
        if not header_seen:
            if cells != ["series", "period", "value", "source"]:
                raise ValueError(f"line {number}: the header must be series;period;value;source")
            header_seen = True
            continue
        if len(cells) != 4 or not cells[3].strip():
            raise ValueError(f"line {number}: expected series;period;value;source")
        try:
            value = Decimal(cells[2])
        except InvalidOperation:
            raise ValueError(f"line {number}: the value is not a decimal number") from None
        rows.append(IndexValue(series_key(cells[0]), cells[1], value, cells[3].strip()))
    return tuple(rows)


@cache
def shipped_values() -> tuple[IndexValue, ...]:
    """The values shipped as package data (`gateway/payments/data/indices.csv`)."""
    text = files("gateway.payments").joinpath("data/indices.csv").read_text(encoding="utf-8")
    return parse_shipped(text)


def shipped_table() -> IndexTable:
    return IndexTable(shipped_values())


def as_table(source: IndexSource | Mapping[tuple[str, str], Decimal]) -> IndexSource:
    """Accept a plain mapping {(series, period): value} where an IndexSource is expected (tests)."""
    if isinstance(source, Mapping):
        return IndexTable(IndexValue(s, p, v, "given") for (s, p), v in source.items())
    return source
