"""Mandates and payout accounts (gateway.services.mandates) on the in-memory ports: what is
recorded, what is published, what is refused (docs/mandates.md)."""

from __future__ import annotations

import pytest

from gateway.errors import RecordViolation
from gateway.services.events import MANDATE_SIGNED, PAYOUT_ACCOUNT_RECORDED
from gateway.services.mandates import change_debtor_account, show_mandate, sign_mandate, waiting
from tests.fake_payments import FakePaymentsStore
from tests.unit.services.support import NOW, accepted, signed


def test_a_dossier_waits_until_its_mandate_is_signed_and_its_payout_account_recorded() -> None:
    store = FakePaymentsStore()
    dossier_id = accepted(store)
    assert [w.dossier_id for w in waiting(store, today=NOW.date())] == [dossier_id]
    assert show_mandate(store, dossier_id)["status"] == "pending"

    signed(store, dossier_id)

    assert list(waiting(store, today=NOW.date())) == []
    mandate = store.state.mandates[dossier_id]
    assert (mandate.status, mandate.method, mandate.chosen_day) == ("signed", "paper", 10)
    assert store.event_types() == [MANDATE_SIGNED, PAYOUT_ACCOUNT_RECORDED]


def test_a_bad_iban_is_refused_naming_the_field_and_nothing_is_recorded() -> None:
    store = FakePaymentsStore()
    dossier_id = accepted(store)

    with pytest.raises(RecordViolation) as refused:
        sign_mandate(
            store, dossier_id, holder="Jean Martin", iban="FR7630006000011234567890180", bic=None,
            signed_on="2026-11-20", method="paper", debit_day=10, now=NOW,
        )  # fmt: skip

    assert [i.field for i in refused.value.issues] == ["iban"]
    assert "FR763000600001123456789018" not in refused.value.issues[0].message  # never echoes the IBAN
    assert (store.state.mandates, store.event_types()) == ({}, [])


def test_a_new_debtor_account_before_the_signature_is_refused_as_mandate_pending() -> None:
    store = FakePaymentsStore()
    dossier_id = accepted(store)

    with pytest.raises(RecordViolation) as refused:
        change_debtor_account(
            store, dossier_id, iban="DE89370400440532013000", bic=None, holder=None, now=NOW
        )

    assert refused.value.code == "mandate-pending"
