"""The ledger reader (gateway.services.ledger): the day it reads "as of", and an unknown dossier."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gateway.errors import NotFound
from gateway.services.ledger import Ledgers
from tests.fake_payments import FakePaymentsStore


def test_an_unknown_dossier_is_not_found_naming_the_field() -> None:
    store = FakePaymentsStore()
    ledgers = Ledgers(store, clock=lambda: datetime(2026, 12, 31, 23, 30, tzinfo=UTC))

    with pytest.raises(NotFound) as missing:
        ledgers.of("DOS-NOSUCHDOSSIER")

    assert missing.value.issues[0].field == "dossier_id"
    # 23:30 UTC on 31 December is already 1 January in Paris: the legal day (gateway.payments.follow_up)
    assert store.ledgers.asked == [("DOS-NOSUCHDOSSIER", date(2027, 1, 1))]


def test_a_day_named_by_the_caller_is_the_one_read() -> None:
    store = FakePaymentsStore()

    with pytest.raises(NotFound):
        Ledgers(store).of("DOS-X", as_of=date(2027, 3, 1))

    assert store.ledgers.asked == [("DOS-X", date(2027, 3, 1))]
