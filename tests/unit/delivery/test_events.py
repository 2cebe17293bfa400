"""The events helper: known types only, tz-aware times, JSON payloads written with the transaction."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from gateway.services import events
from gateway.store.memory import MemoryStore
from tests.unit.delivery.support import T0


def test_every_state_change_of_the_issue_has_a_type() -> None:
    assert {
        "dossier.accepted",
        "file.emitted",
        "debit.settled",
        "debit.rejected",
        "debit.returned",
        "arrears.changed",
        "asf.differential_computed",
        "mandate.signed",  # issue 11: signed mandates and payout accounts (docs/mandates.md)
        "mandate.amended",
        "payout_account.recorded",
        "pension.revalued",  # issue 11: once per child and revaluation (L. 582-1 I CSS)
    } == events.EVENT_TYPES


def test_publish_appends_in_the_callers_transaction() -> None:
    store = MemoryStore()
    with store.transaction() as uow:
        events.publish(uow.events, events.DEBIT_SETTLED, {"amount_cents": 12_345}, at=T0, dossier_id="DOS-1")
    with store.read() as uow:
        (row,) = uow.events.read_after(0, 10)
    assert (row.type, row.dossier_id, row.created_at) == ("debit.settled", "DOS-1", T0)
    assert json.loads(row.payload_json) == {"amount_cents": 12_345}


def test_a_rolled_back_change_publishes_nothing() -> None:
    store = MemoryStore()

    def change() -> None:
        with store.transaction() as uow:
            events.publish(uow.events, events.FILE_EMITTED, {"file": "x"}, at=T0)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change()
    with store.read() as uow:
        assert uow.events.last_id() == 0


def test_unknown_types_naive_times_and_non_json_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        events.new_event("dossier.acepted", {}, at=T0)
    with pytest.raises(ValueError, match="naive"):
        events.new_event(events.DOSSIER_ACCEPTED, {}, at=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError):
        events.new_event(events.ARREARS_CHANGED, {"x": float("nan")}, at=T0)
    with pytest.raises(TypeError):
        events.new_event(events.ARREARS_CHANGED, {"x": object()}, at=T0)
