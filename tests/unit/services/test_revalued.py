"""`pension.revalued` recorded and published once per child and revaluation, on the in-memory store
(gateway.services.revalued; docs/revaluation.md)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from gateway.domain.transmission import IndexationMode
from gateway.payments.dues import ChildDue, IndexUse
from gateway.payments.indices import IndexTable, IndexValue
from gateway.payments.revaluation import Clause, revalued_on
from gateway.services.events import PENSION_REVALUED
from gateway.services.revalued import amount_before, record_revaluations
from tests.fake_payments import FakePaymentsStore

AT = datetime(2027, 3, 5, 9, 0, tzinfo=UTC)
SERIES = "INSEE-TEST"
# revaluation each 1 March from 2026 (art. 208 C. civ.: the title's clause); base value 100
CLAUSE = Clause(IndexationMode.INDEXED, series=SERIES, base_value=Decimal("100"), first_date=date(2026, 3, 1))
INDICES = IndexTable(
    [
        IndexValue(SERIES, "2026-01", Decimal("102"), "test"),  # for 2026-03-01
        IndexValue(SERIES, "2027-01", Decimal("105"), "test"),  # for 2027-03-01
    ]
)


def due(revaluation: date, period: str, *, title_cents: int = 15_000) -> ChildDue:
    """A child's due for `period`, revalued on `revaluation` as gateway.payments.dues computes it."""
    amount = revalued_on(title_cents, CLAUSE, revaluation, INDICES, field="").cents
    index_period = f"{revaluation.year}-01"
    value = INDICES.value(SERIES, index_period)
    assert value is not None
    use = IndexUse(
        series=SERIES, base_value=Decimal("100"), value=value, value_period=index_period,
        revalued_on=revaluation, revalued_cents=amount,
    )  # fmt: skip
    return ChildDue(child=0, period=period, title_cents=title_cents, due_cents=amount, index=use)


def record(store: FakePaymentsStore, dues: list[ChildDue], indices: IndexTable = INDICES) -> int:
    with store.transaction() as uow:
        return record_revaluations(
            uow.indices, uow.events, dossier_id="D1", clauses=[CLAUSE], dues=dues, indices=indices, at=AT
        )


def published(store: FakePaymentsStore) -> list[dict[str, Any]]:
    return [json.loads(e.payload_json) for e in store.state.base.events if e.type == PENSION_REVALUED]


def test_the_first_revaluation_is_published_once_with_the_title_amount_before() -> None:
    store = FakePaymentsStore()
    first = due(date(2026, 3, 1), "2026-03")
    assert first.due_cents == 15_300  # 150.00 x 102 / 100
    assert record(store, [first]) == 1
    [event] = published(store)
    assert (event["old_cents"], event["new_cents"]) == (15_000, 15_300)
    assert (event["first_period"], event["revalued_on"]) == ("2026-03", "2026-03-01")
    assert event["new_index"] == {"value": "102", "period": "2026-01"}
    # the same month again, or a later month at the same amount: nothing new
    assert record(store, [first]) == 0
    assert record(store, [due(date(2026, 3, 1), "2026-04")]) == 0
    assert len(published(store)) == 1


def test_the_next_revaluation_names_the_previous_revalued_amount_as_before() -> None:
    store = FakePaymentsStore()
    record(store, [due(date(2026, 3, 1), "2026-03")])
    second = due(date(2027, 3, 1), "2027-03")
    assert second.due_cents == 15_750  # 150.00 x 105 / 100
    assert record(store, [second]) == 1
    changes = [(e["old_cents"], e["new_cents"]) for e in published(store)]
    assert changes == [(15_000, 15_300), (15_300, 15_750)]


def test_an_amount_before_that_cannot_be_computed_is_none_never_guessed() -> None:
    second = due(date(2027, 3, 1), "2027-03")
    without_2026 = IndexTable([IndexValue(SERIES, "2027-01", Decimal("105"), "test")])
    assert amount_before(CLAUSE, second, without_2026) is None
    store = FakePaymentsStore()
    assert record(store, [second], without_2026) == 1
    assert published(store)[0]["old_cents"] is None


def test_a_due_without_revaluation_publishes_nothing() -> None:
    store = FakePaymentsStore()
    plain = ChildDue(child=0, period="2026-02", title_cents=15_000, due_cents=15_000)
    assert record(store, [plain]) == 0
    assert published(store) == []
    assert store.state.revaluations == {}
