"""The dated amounts table: data with its source, the net-of-CRDS rule, coverage from 1 April to 31 March,
errors before the first row and past the last row's year, rows that break the rules refused."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from gateway.errors import Code, ConfigurationError
from gateway.payments.amounts import (
    ASF_COMPLEMENT_MIN_CENTS,
    AmountsTable,
    amounts_on,
    asf_for,
    asf_net_for,
    bmaf_for,
    derive_row,
    load_table,
    penalty_for,
    round_half_up,
    rsa_single_for,
    shipped_table,
)


def _data() -> dict[str, Any]:
    text = resources.files("gateway.payments").joinpath("data/amounts.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def test_2026_amounts_bmaf_478_64() -> None:
    # Revaluation of 1 April 2026, +0.9 %: BMAF 478.64; ASF 201.99 / 269.24 gross; penalty 120
    day = date(2026, 11, 23)
    assert bmaf_for(day) == 47864
    assert asf_for(day) == 20199
    assert asf_for(day, both_parents=True) == 26924
    assert asf_net_for(day) == 20098  # published 200.98
    assert penalty_for(day) == 12000


@pytest.mark.parametrize(
    ("bmaf", "rate", "published_net"),
    [
        (Decimal("466.44"), Decimal("0.4220"), 19585),  # 2024-04-01: published 195.85
        (Decimal("478.64"), Decimal("0.4220"), 20098),  # 2026-04-01: published 200.98
        (Decimal("485"), Decimal(1), 48258),  # seed 001: 485 F hors CRDS, 482.58 F après CRDS
        (Decimal("647"), Decimal(1), 64377),  # seed 001: 647 F hors CRDS, 643.77 F après CRDS
    ],
)
def test_net_is_bmaf_times_rate_times_0_995_rounded_half_up(
    bmaf: Decimal, rate: Decimal, published_net: int
) -> None:
    # Families receive the ASF net of the 0.5 % CRDS: net = round_half_up(BMAF × rate × 0.995),
    # computed from the unrounded product
    assert round_half_up(bmaf * 100 * rate * Decimal("0.995")) == published_net


def test_rounding_the_gross_first_would_miss_the_published_2024_net() -> None:
    gross = round_half_up(Decimal(46644) * Decimal("0.4220"))
    assert gross == 19684
    assert round_half_up(gross * Decimal("0.995")) == 19586  # 195.86, not the published 195.85
    assert amounts_on(date(2024, 4, 1)).asf_one_parent_net_cents == 19585


def test_the_shipped_table_carries_gross_and_net_with_a_source_per_row() -> None:
    rows = _data()["rows"]
    assert [row["since"] for row in rows] == ["2024-04-01", "2025-04-01", "2026-04-01"]
    for row in rows:
        assert row["source"].strip()
        assert {
            "asf_one_parent_gross",
            "asf_one_parent_net",
            "asf_both_parents_gross",
            "asf_both_parents_net",
        } <= set(row)
    assert [r.source for r in shipped_table().rows] == [row["source"] for row in rows]


def test_every_shipped_row_is_what_its_bmaf_and_rates_give() -> None:
    # R. 523-7 CSS: 42.20 % and 56.25 % of the BMAF, to the cent; penalty 25 % rounded up to the euro
    for row in shipped_table().rows:
        derived = derive_row(
            row.since,
            row.bmaf_cents,
            row.source,
            rsa_single_cents=row.rsa_single_cents,
            asf_rate_one_parent=row.asf_rate_one_parent,
            asf_rate_both_parents=row.asf_rate_both_parents,
        )
        assert derived == row
        assert row.penalty_cents == -(-row.bmaf_cents * 25 // 10000) * 100


@pytest.mark.parametrize(
    ("day", "one", "both"),
    [
        (date(2024, 4, 1), 19684, 26237),
        (date(2025, 3, 31), 19684, 26237),  # the day before the revaluation
        (date(2025, 4, 1), 20018, 26683),
        (date(2026, 3, 31), 20018, 26683),
        (date(2026, 4, 1), 20199, 26924),
        (date(2027, 3, 31), 20199, 26924),  # the last day the 2026 row covers
    ],
)
def test_row_in_force_changes_on_first_of_april(day: date, one: int, both: int) -> None:
    assert asf_for(day) == one
    assert asf_for(day, both_parents=True) == both


def test_past_the_last_rows_year_is_refused_never_reused() -> None:
    with pytest.raises(ConfigurationError) as info:
        amounts_on(date(2027, 4, 1))
    assert info.value.code == Code.AMOUNTS_NOT_PUBLISHED
    assert info.value.field == "day"
    assert "2027-03-31" in info.value.message
    assert "gateway amounts add" in info.value.message


def test_before_the_table_is_an_error_with_a_stable_code() -> None:
    with pytest.raises(ConfigurationError) as info:
        amounts_on(date(2024, 3, 31))
    assert info.value.code == Code.AMOUNTS_UNKNOWN


def test_rsa_is_given_where_a_source_has_it_and_never_guessed() -> None:
    assert rsa_single_for(date(2024, 6, 1)) == 63571
    assert rsa_single_for(date(2025, 6, 1)) == 64652
    with pytest.raises(ConfigurationError) as info:
        rsa_single_for(date(2026, 6, 1))  # 1 April 2026: not in the sources we hold
    assert (info.value.code, info.value.field) == (Code.AMOUNTS_UNKNOWN, "rsa_single")


def test_threshold_is_fifteen_euros() -> None:
    assert ASF_COMPLEMENT_MIN_CENTS == 1500


def _row(**change: object) -> dict[str, object]:
    row: dict[str, object] = dict(_data()["rows"][0])
    row.update(change)
    return row


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (_row(asf_one_parent_net="195.86"), "rows[0].asf_one_parent_net"),  # not what the rule gives
        (_row(penalty="116.00"), "rows[0].penalty"),
        (_row(bmaf="466.445"), "rows[0].bmaf"),
        (_row(bmaf=466.44), "rows[0].bmaf"),  # a JSON number: no float near money
        (_row(asf_rate_one_parent="1.5"), "rows[0].asf_rate_one_parent"),
        (_row(source=" "), "rows[0].source"),
        (_row(since="2024-13-01"), "rows[0].since"),
    ],
)
def test_a_data_file_row_that_breaks_the_rules_is_refused(row: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_table(json.dumps({"rows": [row]}))
    assert (info.value.code, info.value.field) == (Code.AMOUNTS_INVALID_ROW, field)


def test_a_table_with_a_gap_is_refused() -> None:
    rows = shipped_table().rows
    with pytest.raises(ConfigurationError) as info:
        AmountsTable((rows[0], rows[2]))
    assert info.value.code == Code.AMOUNTS_INVALID_ROW
    with pytest.raises(ConfigurationError):
        load_table("not json")
    with pytest.raises(ConfigurationError):
        load_table('{"rows": []}')


def test_a_shipped_row_wins_over_an_added_row_of_the_same_year() -> None:
    table = shipped_table()
    added = derive_row(date(2026, 4, 1), 50000, "typo")
    assert table.with_rows([added]).on(date(2026, 5, 1)) == table.on(date(2026, 5, 1))
    nxt = derive_row(date(2027, 4, 1), 48300, "next year")
    assert table.with_rows([nxt]).on(date(2028, 3, 31)).bmaf_cents == 48300
