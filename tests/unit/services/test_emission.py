"""Emission (gateway.services.emission): the bank gets only the bytes that were signed and recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import BankChannelError
from gateway.services.emission import hand_off, hand_off_pending
from tests.fake_payments import FakeChannel, FakePaymentsStore
from tests.unit.services.support import accepted, runs, signed


def _recorded_not_sent(tmp_path: Path) -> tuple[FakePaymentsStore, str, Path]:
    """A collection whose hand-off failed: the file is recorded, pending, in the staging folder."""
    store = FakePaymentsStore()
    signed(store, accepted(store))
    sepa, _, channel = runs(store, tmp_path)
    channel.fail = True
    with pytest.raises(BankChannelError):
        sepa.debits("2026-12")
    [row] = store.state.outbox.values()
    return store, row.message_id, Path(row.path)


def test_a_recorded_file_that_changed_is_never_sent(tmp_path: Path) -> None:
    store, message_id, path = _recorded_not_sent(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"<InstdAmt", b"<InstdAmt "))  # one byte more
    channel = FakeChannel()

    with pytest.raises(BankChannelError, match="changed since it was signed") as refused:
        hand_off(store, channel, message_id)

    assert refused.value.issues[0].field == "message_id"
    assert channel.sent == []
    row = store.state.outbox[message_id]
    assert (row.status, row.last_error) == ("pending", "recorded file changed")


def test_a_pending_file_is_sent_once_then_only_its_reference_is_answered(tmp_path: Path) -> None:
    store, message_id, path = _recorded_not_sent(tmp_path)
    recorded = path.read_bytes()
    channel = FakeChannel()

    assert hand_off_pending(store, channel) == [message_id]
    assert hand_off(store, channel, message_id) == f"fake://{message_id}.xml"  # sent already: no resend

    assert [data for _, data, _ in channel.sent] == [recorded]
    assert not path.exists()  # the bank, the archive and the outbound folder have it now
    assert hand_off_pending(store, channel) == []


def test_a_recorded_file_that_vanished_is_never_sent(tmp_path: Path) -> None:
    store, message_id, path = _recorded_not_sent(tmp_path)
    path.unlink()
    channel = FakeChannel()

    with pytest.raises(BankChannelError, match="cannot be read") as refused:
        hand_off(store, channel, message_id)

    assert refused.value.issues[0].field == "message_id"
    assert channel.sent == []
    row = store.state.outbox[message_id]
    assert row.status == "pending"
    assert (row.last_error or "").startswith("recorded file unreadable: cannot read the file to send")
