"""The dated amounts table: rows in force by date, ASF percentages of the BMAF, no amount before the table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gateway.errors import Code, ConfigurationError
from gateway.payments.amounts import (
    ASF_DIFFERENTIAL_MIN_CENTS,
    TABLE,
    amounts_on,
    asf_for,
    bmaf_for,
    penalty_for,
    rsa_single_for,
)


def test_today_amounts_from_domain_table() -> None:
    # the 2026 row as recorded: from 2026-04-01, BMAF 478.16, ASF 201.78 / 268.97, penalty 120, RSA 651.69
    day = date(2026, 11, 23)
    assert bmaf_for(day) == 47816
    assert asf_for(day) == 20178
    assert asf_for(day, both_parents=True) == 26897
    assert penalty_for(day) == 12000
    assert rsa_single_for(day) == 65169


@pytest.mark.parametrize(
    ("day", "one", "both"),
    [
        (date(2024, 4, 1), 19684, 26237),
        (date(2025, 3, 31), 19684, 26237),  # the day before the revaluation
        (date(2025, 4, 1), 20018, 26683),
        (date(2026, 3, 31), 20018, 26683),
        (date(2026, 4, 1), 20178, 26897),
        (date(2031, 1, 1), 20178, 26897),  # the last row stays in force until a new one is added
    ],
)
def test_row_in_force_changes_on_first_of_april(day: date, one: int, both: int) -> None:
    assert asf_for(day) == one
    assert asf_for(day, both_parents=True) == both


def test_asf_is_the_legal_share_of_the_bmaf() -> None:
    # R. 523-7 CSS: 42.20 % and 56.25 % of the BMAF, to the cent (the table must not drift)
    for row in TABLE:
        assert abs(row.asf_one_parent_cents - row.bmaf_cents * 4220 / 10000) < 1
        assert abs(row.asf_both_parents_cents - row.bmaf_cents * 5625 / 10000) < 1
        # penalty: 25 % of the BMAF rounded UP to the euro
        assert row.penalty_cents == -(-row.bmaf_cents * 25 // 10000) * 100


def test_table_is_sorted_and_net_of_crds_where_known() -> None:
    assert [r.since for r in TABLE] == sorted(r.since for r in TABLE)
    first = TABLE[0]
    assert first.asf_one_parent_net_cents == 19585  # 196.84 gross, 195.85 net of 0.5 % CRDS


def test_before_the_table_is_an_error_with_a_stable_code() -> None:
    with pytest.raises(ConfigurationError) as info:
        amounts_on(TABLE[0].since - timedelta(days=1))
    assert info.value.code == Code.AMOUNTS_UNKNOWN


def test_threshold_is_fifteen_euros() -> None:
    assert ASF_DIFFERENTIAL_MIN_CENTS == 1500
