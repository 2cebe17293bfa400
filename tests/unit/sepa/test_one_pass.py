"""The one-pass pain.008 writer of the collection run: plan (counts, sums) given beforehand, each
debit checked and rendered once; any rule error or count that differs from the plan stops it."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from gateway.errors import Code, RuleViolation
from gateway.sepa.batches import Batch, Plan, plan
from gateway.sepa.model import DirectDebit, Pain008Version
from gateway.sepa.pain008 import DEBIT_SPEC, DebitKey, write_pain008, write_pain008_planned
from tests.unit.sepa.samples import DEBIT_HEADER, FUND, debit, golden_debits, source


@pytest.mark.parametrize("version", list(Pain008Version))
def test_one_pass_writes_the_same_bytes_as_the_two_pass_writer(version: Pain008Version) -> None:
    debits = golden_debits()
    two, one = io.BytesIO(), io.BytesIO()
    expected = write_pain008(two, DEBIT_HEADER, FUND, source(debits), version=version)
    planned = plan(source(debits), DEBIT_SPEC)
    reads = 0

    def counted() -> Iterator[DirectDebit]:
        nonlocal reads
        for item in debits:
            reads += 1
            yield item

    written = write_pain008_planned(one, DEBIT_HEADER, FUND, planned, counted(), version=version)
    assert one.getvalue() == two.getvalue()
    assert written == expected
    assert reads == len(debits)  # each debit read once


def test_a_debit_a_rule_refuses_stops_the_writing() -> None:
    debits = golden_debits()
    planned = plan(source(debits), DEBIT_SPEC)
    bad = [*debits[:3], debit("D-0004", debtor_name="x" * 71), *debits[4:]]
    with pytest.raises(RuleViolation) as caught:
        write_pain008_planned(io.BytesIO(), DEBIT_HEADER, FUND, planned, bad)
    assert [(i.code, i.field) for i in caught.value.issues] == [
        (Code.SEPA_NAME_TOO_LONG, "debits[3].debtor_name")
    ]


def test_a_source_that_differs_from_the_plan_is_refused() -> None:
    debits = golden_debits()
    planned = plan(source(debits), DEBIT_SPEC)
    with pytest.raises(RuleViolation) as fewer:
        write_pain008_planned(io.BytesIO(), DEBIT_HEADER, FUND, planned, debits[:-1])
    assert fewer.value.code == Code.TOTALS_MISMATCH
    with pytest.raises(RuleViolation) as reordered:
        write_pain008_planned(io.BytesIO(), DEBIT_HEADER, FUND, planned, list(reversed(debits)))
    assert reordered.value.code == Code.TOTALS_MISMATCH
    more = Plan(planned.batches[:-1], planned.count, planned.total_cents, grouped=True)
    with pytest.raises(RuleViolation) as extra:
        write_pain008_planned(io.BytesIO(), DEBIT_HEADER, FUND, more, debits)
    assert extra.value.code == Code.TOTALS_MISMATCH


def test_an_empty_plan_is_refused() -> None:
    empty: Plan[DebitKey] = Plan((), 0, 0, grouped=True)
    with pytest.raises(RuleViolation) as caught:
        write_pain008_planned(io.BytesIO(), DEBIT_HEADER, FUND, empty, iter(()))
    assert caught.value.code == Code.MISSING_FIELD


def test_a_plan_batch_is_counted_and_summed() -> None:
    debits = golden_debits()
    planned = plan(source(debits), DEBIT_SPEC)
    for batch in planned.batches:
        members = [d for d in debits if d.batch_key == batch.key]
        assert batch == Batch(batch.key, len(members), sum(d.amount_cents for d in members))
