"""Deterministic identifiers: same inputs, same ids; SEPA identifier format always."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.canonical.dossier import dossier_id_for
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


GATEWAY_IDS = st.builds(dossier_id_for, st.text(max_size=40))


def test_a_gateway_dossier_id_is_written_into_the_end_to_end_id() -> None:
    dossier = dossier_id_for("greffe|TJ PARIS|RG 26/001|2026-11-20")
    assert ids.end_to_end_id(dossier, "DD", "2026-11") == f"DD202611-{dossier}"
    assert ids.end_to_end_id(dossier, "CT", "2026-11") == f"CT202611-{dossier}"
    assert ids.end_to_end_id(dossier, "DD", "2026-11", attempt=2) == f"DD202611-{dossier}-2"
    assert len(ids.end_to_end_id(dossier, "DD", "2026-11", attempt=99_999)) == 35
    # beyond what fits in 35 characters: hashed, still distinct and valid
    far = ids.end_to_end_id(dossier, "DD", "2026-11", attempt=100_000)
    assert len(far) == 33
    assert _valid(far)


@given(st.lists(GATEWAY_IDS, min_size=2, max_size=50, unique=True), st.sampled_from(["DD", "CT"]))
def test_gateway_dossiers_end_to_end_ids_sort_like_the_dossiers(dossiers: list[str], kind: ids.Kind) -> None:
    """The run issues a month's debits in dossier order: their keys then append to the index."""
    month = [ids.end_to_end_id(d, kind, "2027-01") for d in sorted(dossiers)]
    assert month == sorted(month)
    assert max(ids.end_to_end_id(d, kind, "2026-12") for d in dossiers) < min(month)


@given(GATEWAY_IDS, st.text(max_size=64), st.integers(1, 120_000), st.integers(1, 120_000))
def test_the_two_forms_never_meet(gateway: str, other: str, attempt: int, other_attempt: int) -> None:
    """A gateway id's EndToEndId is never another dossier's hashed one, whatever the attempts."""
    mine = ids.end_to_end_id(gateway, "DD", "2026-11", attempt)
    assert _valid(mine)
    assert len(mine) <= 35
    if other != gateway:
        assert mine != ids.end_to_end_id(other, "DD", "2026-11", other_attempt)


@pytest.mark.parametrize(
    "near", ["dos-ABCDEFGHIJ234567", "DOS-ABCDEFGHIJ234568", "DOS-ABCDEFGHIJ23456", "DOS-ABCDEFGHIJ234567\n"]
)
def test_an_id_that_only_looks_like_a_gateway_one_is_hashed(near: str) -> None:
    e2e = ids.end_to_end_id(near, "DD", "2026-11")
    assert len(e2e) == 33
    assert near not in e2e
