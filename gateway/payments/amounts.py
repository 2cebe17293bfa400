"""The dated table of the amounts the law indexes on the BMAF (ASF gross and net, penalty, RSA).

The table is data with its source: `gateway/payments/data/amounts.json` (shipped with the package,
read with `importlib.resources`), plus the rows an operator adds with `gateway amounts add` (kept
in the store so that every replica shares them: gateway.store.amounts). Nothing else in the code
writes one of these amounts as a literal. docs/money.md describes the rules.

- One row per yearly revaluation of the BMAF on 1 April (art. L. 551-1 and L. 161-25 CSS). A row
  from 1 April of year Y covers every day until 31 March of Y + 1. Rows follow each other year by
  year without a gap.
- Before the first row: `amounts-unknown`. After the last row's year: `amounts-not-published`.
  Old amounts are never reused silently for a year whose revaluation nobody entered.
- ASF per child and month (art. R. 523-7 CSS): 42.20 % of the BMAF when one parent fails (2°),
  56.25 % when both do (1°). Gross = round_half_up(BMAF × rate), to the cent.
- Families receive the ASF net of the 0.5 % CRDS: net = round_half_up(BMAF × rate × 0.995), from
  the unrounded product (this reproduces the published 195.85 € of 2024-04-01 and 200.98 € of
  2026-04-01; rounding the gross first would give 195.86 € in 2024). Seed 001 gives the same rule
  on the 2000 amounts: 485 F gross, 482.58 F after CRDS.
- Penalty: 25 % of the BMAF, rounded up to the euro.
- RSA for one person alone: only where a source gives it, else unknown (`amounts-unknown`).

>>> row = amounts_on(date(2026, 5, 1))
>>> row.asf_one_parent_gross_cents, row.asf_one_parent_net_cents
(20199, 20098)
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any

from gateway.domain.money import format_euros, parse_decimal, to_cents
from gateway.errors import Code, ConfigurationError, RuleViolation

#: A computed ASF complement below this is not paid: CAF practice (the fund's threshold for paying
#: a monthly amount), not a rule of the code. See gateway.payments.asf.
ASF_COMPLEMENT_MIN_CENTS = 1500

#: What families receive of a benefit subject to the 0.5 % CRDS.
NET_OF_CRDS = Decimal("0.995")
#: The penalty is a quarter of the BMAF, rounded up to the euro.
PENALTY_SHARE = Decimal("0.25")
#: ASF shares of the BMAF in force since 1 November 2022 (R. 523-7 CSS); a new row inherits them.
ASF_RATE_ONE_PARENT = Decimal("0.4220")
ASF_RATE_BOTH_PARENTS = Decimal("0.5625")
#: Longest source text kept with a row.
SOURCE_MAX_CHARS = 1000


def round_half_up(cents: Decimal) -> int:
    """An exact amount in cents to whole cents, halves away from zero (the CAF's rounding)."""
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def one_year_later(day: date) -> date:
    """The same calendar day one year later (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


@dataclass(frozen=True, slots=True)
class AmountsRow:
    """The amounts in force from `since` (1 April) to the next 31 March, in euro cents."""

    since: date
    bmaf_cents: int
    asf_rate_one_parent: Decimal
    asf_rate_both_parents: Decimal
    asf_one_parent_gross_cents: int
    asf_one_parent_net_cents: int
    asf_both_parents_gross_cents: int
    asf_both_parents_net_cents: int
    penalty_cents: int
    rsa_single_cents: int | None
    source: str

    @property
    def until(self) -> date:
        """The last day the row covers (31 March of the next year)."""
        return date.fromordinal(one_year_later(self.since).toordinal() - 1)

    def asf_rate(self, both_parents: bool = False) -> Decimal:
        return self.asf_rate_both_parents if both_parents else self.asf_rate_one_parent

    def asf_exact_cents(self, both_parents: bool = False) -> Decimal:
        """BMAF × rate, unrounded, in cents: what the net and a complement's net are computed from."""
        return Decimal(self.bmaf_cents) * self.asf_rate(both_parents)

    def asf_gross_cents(self, both_parents: bool = False) -> int:
        return self.asf_both_parents_gross_cents if both_parents else self.asf_one_parent_gross_cents

    def asf_net_cents(self, both_parents: bool = False) -> int:
        return self.asf_both_parents_net_cents if both_parents else self.asf_one_parent_net_cents

    def to_json(self) -> dict[str, Any]:
        """The row as in the data file (euros as decimal strings)."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "bmaf": format_euros(self.bmaf_cents),
            "asf_rate_one_parent": str(self.asf_rate_one_parent),
            "asf_rate_both_parents": str(self.asf_rate_both_parents),
            "asf_one_parent_gross": format_euros(self.asf_one_parent_gross_cents),
            "asf_one_parent_net": format_euros(self.asf_one_parent_net_cents),
            "asf_both_parents_gross": format_euros(self.asf_both_parents_gross_cents),
            "asf_both_parents_net": format_euros(self.asf_both_parents_net_cents),
            "penalty": format_euros(self.penalty_cents),
            "rsa_single": None if self.rsa_single_cents is None else format_euros(self.rsa_single_cents),
            "source": self.source,
        }


def derive_row(
    since: date,
    bmaf_cents: int,
    source: str,
    *,
    rsa_single_cents: int | None = None,
    asf_rate_one_parent: Decimal = ASF_RATE_ONE_PARENT,
    asf_rate_both_parents: Decimal = ASF_RATE_BOTH_PARENTS,
) -> AmountsRow:
    """A row computed from its BMAF and rates with the rules of the module docstring."""
    bmaf = Decimal(bmaf_cents)
    one, both = bmaf * asf_rate_one_parent, bmaf * asf_rate_both_parents
    penalty_euros = (bmaf * PENALTY_SHARE / 100).quantize(Decimal(1), rounding=ROUND_CEILING)
    return AmountsRow(
        since=since,
        bmaf_cents=bmaf_cents,
        asf_rate_one_parent=asf_rate_one_parent,
        asf_rate_both_parents=asf_rate_both_parents,
        asf_one_parent_gross_cents=round_half_up(one),
        asf_one_parent_net_cents=round_half_up(one * NET_OF_CRDS),
        asf_both_parents_gross_cents=round_half_up(both),
        asf_both_parents_net_cents=round_half_up(both * NET_OF_CRDS),
        penalty_cents=int(penalty_euros) * 100,
        rsa_single_cents=rsa_single_cents,
        source=source,
    )


def _problem(message: str, field: str, code: str = Code.AMOUNTS_INVALID_ROW) -> ConfigurationError:
    return ConfigurationError(message, code=code, field=field)


def _euros(raw: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> int | None:
    value = raw.get(key)
    if value is None and optional:
        return None
    amount = parse_decimal(value) if isinstance(value, str) else None
    if amount is None or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise _problem(f"{where}: {key} must be a positive euro amount with two decimals", f"{where}.{key}")
    return to_cents(amount)


def _rate(raw: Mapping[str, Any], key: str, where: str) -> Decimal:
    value = raw.get(key)
    rate = parse_decimal(value) if isinstance(value, str) else None
    if rate is None or not Decimal(0) < rate < Decimal(1):
        raise _problem(f"{where}: {key} must be a share of the BMAF between 0 and 1", f"{where}.{key}")
    return rate


def row_from_json(raw: Mapping[str, Any], where: str) -> AmountsRow:
    """A row of the data file, checked: every amount must be the one the rules compute."""
    try:
        since = date.fromisoformat(str(raw.get("since")))
    except ValueError:
        raise _problem(f"{where}: since must be a date YYYY-MM-DD", f"{where}.since") from None
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _problem(f"{where}: every row names its source", f"{where}.source")
    bmaf = _euros(raw, "bmaf", where)
    assert bmaf is not None
    derived = derive_row(
        since,
        bmaf,
        source.strip(),
        rsa_single_cents=_euros(raw, "rsa_single", where, optional=True),
        asf_rate_one_parent=_rate(raw, "asf_rate_one_parent", where),
        asf_rate_both_parents=_rate(raw, "asf_rate_both_parents", where),
    )
    expected = derived.to_json()
    for key in (
        "asf_one_parent_gross",
        "asf_one_parent_net",
        "asf_both_parents_gross",
        "asf_both_parents_net",
        "penalty",
    ):
        if _euros(raw, key, where) != to_cents(Decimal(expected[key])):
            raise _problem(
                f"{where}: {key} is {raw.get(key)} but the BMAF and its rate give {expected[key]}",
                f"{where}.{key}",
            )
    return derived


@dataclass(frozen=True, slots=True)
class AmountsTable:
    """Rows oldest first, one a year from 1 April, with no gap (checked when built)."""

    rows: tuple[AmountsRow, ...]

    def __post_init__(self) -> None:
        if not self.rows:
            raise _problem("the amounts table has no row", "rows")
        for before, after in zip(self.rows, self.rows[1:], strict=False):
            if after.since != one_year_later(before.since):
                raise _problem(
                    f"the amounts table jumps from {before.since} to {after.since}: one row a year, "
                    "from 1 April, without a gap",
                    "rows",
                )

    @property
    def last(self) -> AmountsRow:
        return self.rows[-1]

    def on(self, day: date) -> AmountsRow:
        """The row in force on `day`; an error before the first row or after the last row's year."""
        if day > self.last.until:
            raise ConfigurationError(
                f"no amounts published for {day.isoformat()}: the table ends on "
                f"{self.last.until.isoformat()}; add the revaluation of 1 April {self.last.since.year + 1} "
                "with its source (gateway amounts add)",
                code=Code.AMOUNTS_NOT_PUBLISHED,
                field="day",
            )
        index = bisect_right([row.since for row in self.rows], day) - 1
        if index < 0:
            raise ConfigurationError(
                f"no amounts known for {day.isoformat()} (the table starts on "
                f"{self.rows[0].since.isoformat()})",
                code=Code.AMOUNTS_UNKNOWN,
                field="day",
            )
        return self.rows[index]

    def with_rows(self, extra: Iterable[AmountsRow]) -> AmountsTable:
        """This table with rows added by an operator; a shipped row wins over an added one of the
        same date (a newer release carries what an operator had to enter before)."""
        by_date = {row.since: row for row in extra}
        by_date.update({row.since: row for row in self.rows})
        return AmountsTable(tuple(by_date[since] for since in sorted(by_date)))


def check_next_since(table: AmountsTable, since: date) -> None:
    """Refuse a row an operator adds unless it starts the year right after the table's last row
    (`amounts-row-out-of-sequence`, field `since`): the BMAF is revalued each 1 April
    (art. L. 551-1 CSS) and the table has no gap."""
    wanted = one_year_later(table.last.since)
    if since != wanted:
        raise RuleViolation(
            f"the next row of the amounts table starts on {wanted.isoformat()} (the BMAF is revalued "
            f"on 1 April, art. L. 551-1 CSS, and the table ends on {table.last.until.isoformat()}), "
            f"not on {since.isoformat()}",
            code=Code.AMOUNTS_ROW_OUT_OF_SEQUENCE,
            field="since",
        )


def next_row_check(table: AmountsTable, row: AmountsRow) -> None:
    """`check_next_since`, and the row names its source (`missing-field`, field `source`)."""
    check_next_since(table, row.since)
    if len(row.source.strip()) == 0 or len(row.source) > SOURCE_MAX_CHARS:
        raise RuleViolation(
            f"a row names its source (1 to {SOURCE_MAX_CHARS} characters)",
            code=Code.MISSING_FIELD,
            field="source",
        )


def load_table(text: str, where: str = "amounts.json") -> AmountsTable:
    """Parse and check a data file's text (see `row_from_json`)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _problem(f"{where} is not JSON: {exc.msg}", "") from None
    rows = document.get("rows") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise _problem(f"{where} has no list of rows", "rows")
    return AmountsTable(
        tuple(row_from_json(raw if isinstance(raw, dict) else {}, f"rows[{i}]") for i, raw in enumerate(rows))
    )


@cache
def shipped_table() -> AmountsTable:
    """The table shipped with the package (`gateway/payments/data/amounts.json`)."""
    text = resources.files("gateway.payments").joinpath("data/amounts.json").read_text(encoding="utf-8")
    return load_table(text)


def amounts_on(day: date, table: AmountsTable | None = None) -> AmountsRow:
    """The row in force on `day` (the shipped table unless one is given)."""
    return (table or shipped_table()).on(day)


def bmaf_for(day: date, table: AmountsTable | None = None) -> int:
    """The BMAF in force on `day`, in cents."""
    return amounts_on(day, table).bmaf_cents


def asf_for(day: date, both_parents: bool = False, table: AmountsTable | None = None) -> int:
    """The monthly gross ASF per child on `day`, in cents (R. 523-7 CSS)."""
    return amounts_on(day, table).asf_gross_cents(both_parents)


def asf_net_for(day: date, both_parents: bool = False, table: AmountsTable | None = None) -> int:
    """The monthly ASF per child families receive on `day`, net of the 0.5 % CRDS, in cents."""
    return amounts_on(day, table).asf_net_cents(both_parents)


def penalty_for(day: date, table: AmountsTable | None = None) -> int:
    """The penalty amount (25 % of the BMAF, rounded up to the euro) on `day`, in cents."""
    return amounts_on(day, table).penalty_cents


def rsa_single_for(day: date, table: AmountsTable | None = None) -> int:
    """The RSA amount for a person alone on `day`, in cents; `amounts-unknown` when no source we
    hold gives it for that year (it is never guessed)."""
    row = amounts_on(day, table)
    if row.rsa_single_cents is None:
        raise ConfigurationError(
            f"the RSA amount in force on {day.isoformat()} is not in the amounts table (row of "
            f"{row.since.isoformat()}): no source we hold publishes it",
            code=Code.AMOUNTS_UNKNOWN,
            field="rsa_single",
        )
    return row.rsa_single_cents
