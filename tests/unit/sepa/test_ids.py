"""Deterministic identifiers: same inputs, same ids; SEPA identifier format always."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.sepa import ids, rules


def _valid(identifier: str) -> bool:
    return list(rules.identifier_rule(identifier, "f")) == []


def test_ids_are_deterministic_and_readable() -> None:
    msg = ids.message_id("run-1", "DD", date(2026, 11, 1))
    assert msg == ids.message_id("run-1", "DD", date(2026, 11, 1))
    assert msg.startswith("DD20261101-")
    assert len(msg) == 27
    assert msg != ids.message_id("run-2", "DD", date(2026, 11, 1))
    pmt = ids.payment_info_id(msg, "FRST", date(2026, 11, 2))
    assert pmt.endswith("-FRST-20261102")
    assert pmt != ids.payment_info_id(msg, "RCUR", date(2026, 11, 2))
    assert ids.payment_info_id(msg, None, date(2026, 11, 3)).endswith("-20261103")


def test_end_to_end_id_depends_on_dossier_period_kind_not_run() -> None:
    e2e = ids.end_to_end_id("D-1", "DD", "2026-11")
    assert e2e == ids.end_to_end_id("D-1", "DD", "2026-11")
    assert e2e.startswith("DD202611-")
    assert len(e2e) == 33
    others = {
        ids.end_to_end_id("D-2", "DD", "2026-11"),
        ids.end_to_end_id("D-1", "DD", "2026-12"),
        ids.end_to_end_id("D-1", "CT", "2026-11"),
        ids.end_to_end_id("D-1", "DD", "2026-11", attempt=2),
    }
    assert e2e not in others
    assert len(others) == 4


def test_mandate_reference() -> None:
    ref = ids.mandate_reference("D-1")
    assert ref == ids.mandate_reference("D-1")
    assert ref.startswith("ARIPA-")
    assert ids.mandate_reference("D-1", 2) == f"{ref}-2"


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "26-11", "2026/11", "abcd-ef"])
def test_bad_period(period: str) -> None:
    with pytest.raises(ValueError, match="period"):
        ids.period_key(period)


@given(st.text(min_size=1, max_size=200), st.integers(min_value=1, max_value=99))
def test_every_id_is_a_valid_sepa_identifier(dossier: str, version: int) -> None:
    msg = ids.message_id(dossier, "CT", date(2026, 11, 3))
    for identifier in (
        msg,
        ids.payment_info_id(msg, "RCUR", date(2026, 11, 2)),
        ids.end_to_end_id(dossier, "DD", "2026-11"),
        ids.mandate_reference(dossier, version),
    ):
        assert _valid(identifier), identifier


def test_no_collision_on_many_dossiers() -> None:
    assert len({ids.end_to_end_id(f"D{i}", "DD", "2026-11") for i in range(20_000)}) == 20_000
