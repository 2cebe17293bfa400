"""The payout run (gateway.services.payout) on the in-memory ports: only what the bank credited is
paid on, once, to the payout account the back-office recorded (docs/payment-cycle.md "Payouts")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from lxml import etree

from tests.fake_payments import FakePaymentsStore
from tests.unit.services.support import accepted, runs, settle, signed

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


def _collected(tmp_path: Path, *, payout: bool = True) -> tuple[FakePaymentsStore, str]:
    store = FakePaymentsStore()
    dossier_id = accepted(store)
    signed(store, dossier_id, payout=payout)
    sepa, _, _ = runs(store, tmp_path)
    sepa.debits("2026-12")
    [debit] = store.state.debits.values()
    return store, debit.end_to_end_id


def test_a_settled_debit_is_paid_once_to_the_recorded_account_the_day_after(tmp_path: Path) -> None:
    store, debit = _collected(tmp_path)
    settle(store, debit)
    sepa, archive, channel = runs(store, tmp_path)
    collected_on = store.state.debits[debit].collection_date

    report = sepa.credits(date.fromordinal(collected_on.toordinal() + 1))

    assert (report.count, report.total_cents) == (1, 35000)
    [credit] = store.state.credits.values()
    account = store.state.payout_accounts[credit.dossier_id]
    assert (credit.debit_end_to_end_id, credit.creditor_iban) == (debit, account.iban)
    [(_, data, _)] = channel.sent
    assert etree.fromstring(data).findtext(".//p:Purp/p:Cd", namespaces=NS) == "ALMY"
    assert archive.kinds() == ["outbound-pain.001"]
    again = sepa.credits(date.fromordinal(collected_on.toordinal() + 2))
    assert again.count == 0
    assert len(channel.sent) == 1


def test_the_payout_is_what_the_bank_credited_not_what_was_instructed(tmp_path: Path) -> None:
    store, debit = _collected(tmp_path)
    settle(store, debit, collected_cents=20000)
    sepa, _, _ = runs(store, tmp_path)

    report = sepa.credits(date(2027, 1, 31))

    assert report.total_cents == 20000
    assert [c.amount_cents for c in store.state.credits.values()] == [20000]


def test_a_debit_only_issued_or_collected_today_is_not_paid_yet(tmp_path: Path) -> None:
    store, debit = _collected(tmp_path)
    sepa, _, channel = runs(store, tmp_path)
    assert sepa.credits(date(2027, 1, 31)).count == 0  # issued, not settled: nothing was received
    settle(store, debit)

    same_day = sepa.credits(store.state.debits[debit].collection_date)

    assert same_day.count == 0
    assert (store.state.credits, channel.sent) == ({}, [])


def test_a_creditor_without_a_payout_account_waits(tmp_path: Path) -> None:
    store, debit = _collected(tmp_path, payout=False)
    settle(store, debit)
    sepa, _, channel = runs(store, tmp_path)

    report = sepa.credits(date(2027, 1, 31))

    assert report.count == 0
    assert report.waiting["no-payout-account"].dossiers == [store.state.debits[debit].dossier_id]
    assert channel.sent == []
