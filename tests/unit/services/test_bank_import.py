"""Bank reports in (gateway.services.bank_import) on the in-memory ports: a debit the bank
rejected or settled changes state once, with its events, and the report is archived either way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.devtools.bank_simulator import answer_collection
from gateway.errors import GatewayError
from gateway.services.bank_import import import_report
from gateway.services.events import ARREARS_CHANGED, ASF_DIFFERENTIAL_COMPUTED, DEBIT_REJECTED, DEBIT_SETTLED
from tests.fake_payments import FakeChannel, FakePaymentsStore
from tests.fakes import FakeArchive, FakeSigner
from tests.unit.services.support import accepted, runs, signed

ANSWERED = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)


@dataclass
class Ports:
    """What import_report needs (gateway.services.bank_import.BankImportPorts)."""

    store: FakePaymentsStore
    signer: FakeSigner
    archive: FakeArchive


def _collected(tmp_path: Path) -> tuple[Ports, Path, str]:
    """A December collection of one dossier; the file as the bank got it and the debit's id."""
    store = FakePaymentsStore()
    signed(store, accepted(store))
    sepa, _, channel = runs(store, tmp_path)
    sepa.debits("2026-12")
    sent = _written(tmp_path, channel)
    [debit] = store.state.debits
    return Ports(store, FakeSigner(), FakeArchive()), sent, debit


def _written(tmp_path: Path, channel: FakeChannel) -> Path:
    [(name, data, _)] = channel.sent
    path = tmp_path / "bank" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_rejected_debit_is_recorded_once_with_its_reason_events_and_evidence(tmp_path: Path) -> None:
    ports, sent, debit = _collected(tmp_path)
    [report] = answer_collection(sent, tmp_path / "answers", rejects={debit: "AM04"}, at=ANSWERED)

    result = import_report(ports, report, now=lambda: ANSWERED)

    assert (result.message, result.duplicate, result.anomalies) == ("pain.002.001.10", False, [])
    assert result.summary.counts == {"rejected": 1}
    row = ports.store.state.debits[debit]
    assert (row.status, row.reason) == ("rejected", "AM04")
    types = ports.store.event_types()
    assert types.count(DEBIT_REJECTED) == 1
    assert ARREARS_CHANGED in types
    assert ASF_DIFFERENTIAL_COMPUTED in types  # nothing paid: the ASF complement is due (L. 523-1 CSS)
    assert ports.archive.kinds() == ["inbound-bank-report"]
    assert ports.archive.items[0].blob == report.read_bytes()
    assert ports.archive.items[0].signature == ports.signer.sign_detached(report.read_bytes())

    again = import_report(ports, report, now=lambda: ANSWERED)

    assert again.duplicate
    assert ports.store.event_types().count(DEBIT_REJECTED) == 1  # nothing changed the second time
    assert ports.archive.kinds() == ["inbound-bank-report"] * 2  # but what the bank sent is kept


def test_a_credit_settles_the_debit_and_the_payout_can_follow(tmp_path: Path) -> None:
    ports, sent, debit = _collected(tmp_path)
    [report] = answer_collection(sent, tmp_path / "answers", rejects={}, at=ANSWERED)

    result = import_report(ports, report, now=lambda: ANSWERED)

    assert result.message.startswith("camt.054")
    assert ports.store.state.debits[debit].status == "settled"
    assert DEBIT_SETTLED in ports.store.event_types()
    sepa, _, _ = runs(ports.store, tmp_path)
    assert sepa.credits(datetime(2027, 1, 5, tzinfo=UTC).date()).count == 1


def test_a_file_that_is_no_bank_report_is_refused_and_still_archived(tmp_path: Path) -> None:
    ports, _, debit = _collected(tmp_path)
    stray = tmp_path / "stray.xml"
    stray.write_bytes(b"<Document xmlns='urn:example:not-a-report'/>")

    with pytest.raises(GatewayError) as refused:
        import_report(ports, stray, now=lambda: ANSWERED)

    assert ports.archive.kinds() == ["inbound-bank-report"]
    assert ports.archive.items[0].metadata["refused"] == refused.value.code
    assert ports.store.state.debits[debit].status == "issued"
