"""The schedule service on the payments fake: the document the route and `gateway schedule` print,
and its two refusals (no such dossier, a bad month)."""

from __future__ import annotations

import pytest

from gateway.errors import NotFound
from gateway.payments.schedule_view import InvalidPeriod
from gateway.services.schedule import Schedules
from tests.fake_payments import FakePaymentsStore
from tests.unit.services.support import accepted


def test_the_schedule_of_a_stored_dossier_month_by_month() -> None:
    store = FakePaymentsStore()
    dossier_id = accepted(store)  # avocat-1: two children at 175 EUR from 2026-12-01

    document = Schedules(store).of(dossier_id, "2026-11", "2027-01")

    assert (document["dossier_id"], document["from"], document["to"]) == (dossier_id, "2026-11", "2027-01")
    assert [m["period"] for m in document["months"]] == ["2026-11", "2026-12", "2027-01"]
    assert document["months"][0]["due_cents"] == 0  # before the title's first month
    assert document["months"][1]["due_cents"] == 2 * 17500
    assert [c["due_cents"] for c in document["months"][1]["children"]] == [17500, 17500]


def test_an_unknown_dossier_is_not_found_before_the_months_are_read() -> None:
    with pytest.raises(NotFound) as raised:
        Schedules(FakePaymentsStore()).of("DOS-NOPE", "not-a-month", None)
    assert raised.value.field == "dossier_id"


@pytest.mark.parametrize(
    ("start", "end", "field"), [("2026-13", "2027-01", "from"), ("2027-01", "2026-12", "to")]
)
def test_a_bad_month_names_its_parameter(start: str, end: str, field: str) -> None:
    store = FakePaymentsStore()
    dossier_id = accepted(store)
    with pytest.raises(InvalidPeriod) as raised:
        Schedules(store).of(dossier_id, start, end)
    assert raised.value.field == field
