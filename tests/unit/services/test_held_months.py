"""Months held for a missing index value, on the payments fake (the same listing on SQL:
tests/integration/test_revaluation_runs.py). The notary's example moved to a deed of 20 March 2023,
210.00 a month from April 2023: first revaluation on 20 March 2024 (L. 582-1 I CSS, the law's
default when the title is silent), from the INSEE 001763852 value of 2023-01 to that of 2024-01."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gateway.payments.indices import IndexTable, shipped_table
from gateway.services.held_months import held_months
from gateway.services.ports import DossierRow
from gateway.services.validation import validate
from tests.fake_payments import FakePaymentsStore
from tests.integration.test_revaluation_runs import notary_title_of_2023

RECEIVED = datetime(2023, 3, 24, 10, 0, tzinfo=UTC)


def stored_deed_of_2023(store: FakePaymentsStore, *, status: str = "accepted") -> str:
    validated = validate("notaire", notary_title_of_2023(), received_at=RECEIVED)
    dossier_id = str(validated.dossier["dossier_id"])
    store.add_dossier(
        DossierRow(
            dossier_id=dossier_id,
            dedupe_key=validated.dedupe_key,
            source_kind="notaire",
            sender="CN=notaire",
            reference=validated.transmission.reference,
            received_at=RECEIVED,
            canonical_json=json.dumps(validated.dossier),
            status=status,
        )
    )
    return dossier_id


def test_a_month_is_held_while_an_index_value_is_missing() -> None:
    store = FakePaymentsStore()
    dossier_id = stored_deed_of_2023(store)
    empty = IndexTable()  # nothing shipped, nothing imported

    assert held_months(store, "2024-03", empty) == []  # before the first revaluation: no index needed
    (held,) = held_months(store, "2024-04", empty)

    assert (held.dossier_id, held.period, held.child) == (dossier_id, "2024-04", 0)
    assert (held.series, held.index_period, held.revalued_on, held.code) == (
        "INSEE-001763852",
        "2023-01",
        "2024-03-20",
        "index-missing",
    )
    assert "2023-01" in held.message
    assert held.to_json()["index_period"] == "2023-01"


def test_nothing_is_held_once_the_values_are_known_or_for_a_dossier_not_accepted() -> None:
    store = FakePaymentsStore()
    stored_deed_of_2023(store)
    assert held_months(store, "2024-04", shipped_table()) == []
    assert held_months(store, "2024-04") == []  # the shipped values by default

    other = FakePaymentsStore()
    stored_deed_of_2023(other, status="refused")
    assert held_months(other, "2024-04", IndexTable()) == []
