"""The monthly collection run (gateway.services.collection) on the in-memory ports: which debits
are issued, which dossiers wait, what is signed, archived, recorded and handed to the bank."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lxml import etree

from gateway.services.events import FILE_EMITTED
from gateway.services.sepa_runs import SepaRuns
from tests.fake_payments import FakeChannel, FakePaymentsStore
from tests.unit.services.support import accepted, runs, signed

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}


def test_a_signed_mandate_is_debited_once_in_a_signed_archived_file_handed_to_the_bank(
    tmp_path: Path,
) -> None:
    store = FakePaymentsStore()
    dossier_id = accepted(store)
    signed(store, dossier_id)
    sepa, archive, channel = runs(store, tmp_path)

    report = sepa.debits("2026-12")

    assert (report.count, report.total_cents, report.refused, report.waiting) == (1, 35000, [], {})
    debit = next(iter(store.state.debits.values()))
    assert (debit.dossier_id, debit.period, debit.sequence, debit.amount_cents) == (
        dossier_id,
        "2026-12",
        "FRST",
        35000,
    )
    # the file the bank got is the one signed and archived, with this debit in it
    [(name, data, signature)] = channel.sent
    assert name == f"{report.message_id}.xml"
    assert report.channel_ref == f"fake://{name}"
    assert signature == b"SIG:" + hashlib.sha256(data).digest()
    assert archive.kinds() == ["outbound-pain.008"]
    assert archive.items[0].blob == data
    assert archive.items[0].signature == signature
    assert archive.uows[0] is not None
    doc = etree.fromstring(data)
    assert doc.findtext(".//p:EndToEndId", namespaces=NS) == debit.end_to_end_id
    assert doc.findtext(".//p:SeqTp", namespaces=NS) == "FRST"
    # recorded, sent, announced; the mandate moved on to RCUR
    assert [(f.kind, f.count, f.total_cents) for f in store.state.files] == [("pain.008", 1, 35000)]
    assert store.state.outbox[debit.message_id].status == "sent"
    assert FILE_EMITTED in store.event_types()
    assert store.state.mandates[dossier_id].first_collection_done


def _december_collected(tmp_path: Path) -> tuple[FakePaymentsStore, SepaRuns, FakeChannel]:
    store = FakePaymentsStore()
    signed(store, accepted(store))
    sepa, _, channel = runs(store, tmp_path)
    sepa.debits("2026-12")
    return store, sepa, channel


def test_running_the_same_month_again_issues_nothing_and_sends_nothing(tmp_path: Path) -> None:
    store, sepa, channel = _december_collected(tmp_path)

    again = sepa.debits("2026-12")

    assert (again.count, again.message_id, again.skipped) == (0, None, {"already issued for the period": 1})
    assert len(channel.sent) == 1
    assert len(store.state.debits) == 1


def test_the_next_month_is_a_recurring_debit(tmp_path: Path) -> None:
    store, sepa, _ = _december_collected(tmp_path)

    january = sepa.debits("2027-01")

    assert january.count == 1
    assert sorted((d.period, d.sequence) for d in store.state.debits.values()) == [
        ("2026-12", "FRST"),
        ("2027-01", "RCUR"),
    ]


def test_a_dossier_without_a_signed_mandate_waits_and_nothing_is_emitted(tmp_path: Path) -> None:
    store = FakePaymentsStore()
    dossier_id = accepted(store)
    sepa, archive, channel = runs(store, tmp_path)

    report = sepa.debits("2026-12")

    assert report.count == 0
    assert report.message_id is None
    assert report.waiting["mandate-pending"].dossiers == [dossier_id]
    assert (store.state.debits, channel.sent, archive.items, store.state.files) == ({}, [], [], [])


def test_a_debited_dossier_without_a_payout_account_is_listed_for_its_payout(tmp_path: Path) -> None:
    store = FakePaymentsStore()
    dossier_id = accepted(store)
    signed(store, dossier_id, payout=False)
    sepa, _, _ = runs(store, tmp_path)

    report = sepa.debits("2026-12")

    assert report.count == 1
    assert report.waiting["no-payout-account"].dossiers == [dossier_id]


def test_a_month_before_the_pension_starts_owes_nothing(tmp_path: Path) -> None:
    store = FakePaymentsStore()
    signed(store, accepted(store))
    sepa, _, channel = runs(store, tmp_path)

    report = sepa.debits("2026-11")  # the children's pension starts on 2026-12-01

    assert (report.count, report.skipped) == (0, {"nothing due this period": 1})
    assert channel.sent == []


def test_a_refused_hand_off_leaves_the_file_pending_and_the_next_run_resends_it(tmp_path: Path) -> None:
    # outbox (docs/robustness.md): the run commits its debits and file, the bank gets that very file later
    from gateway.errors import BankChannelError

    store = FakePaymentsStore()
    signed(store, accepted(store))
    sepa, _, channel = runs(store, tmp_path)
    channel.fail = True
    with pytest.raises(BankChannelError, match="HTTP 503"):
        sepa.debits("2026-12")
    [row] = store.state.outbox.values()
    assert (row.status, row.attempts, len(store.state.debits)) == ("pending", 1, 1)

    channel.fail = False
    later = sepa.debits("2026-12")  # every run first hands over what is pending

    assert later.count == 0
    assert [name for name, _, _ in channel.sent] == [row.file_name]
    assert store.state.outbox[row.message_id].status == "sent"
