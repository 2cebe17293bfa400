"""Bank report parsers: detection, typed records of each version, XSD enforcement, hostile input."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import Code, GatewayError, MalformedPayload, SchemaViolation
from gateway.sepa.reports import (
    EntryRecord,
    ReportHeader,
    StatusRecord,
    detect_message,
    parse_amount,
    read_report,
    reason_for,
)
from gateway.sepa.reports import stream as report_stream

GOLDEN = Path(__file__).resolve().parents[4] / "tests" / "golden" / "bank"


def _records(path: Path) -> tuple[ReportHeader, list[StatusRecord | EntryRecord]]:
    items = list(read_report(path))
    header = items[0]
    assert isinstance(header, ReportHeader)
    rest = [r for r in items[1:] if isinstance(r, StatusRecord | EntryRecord)]
    assert len(rest) == len(items) - 1
    return header, rest


def test_detects_each_version_from_the_root_namespace() -> None:
    assert detect_message(GOLDEN / "pain002_v10_rejects.xml") == "pain.002.001.10"
    assert detect_message(GOLDEN / "pain002_v03_reject.xml") == "pain.002.001.03"
    assert detect_message(GOLDEN / "camt054_v08_credits.xml") == "camt.054.001.08"
    assert detect_message(GOLDEN / "camt054_v02_partial.xml") == "camt.054.001.02"


def test_pain002_v10_records_transactions_then_batch_then_group() -> None:
    header, records = _records(GOLDEN / "pain002_v10_rejects.xml")
    assert (header.message, header.report_id) == ("pain.002.001.10", "STS-20261106-0001")
    assert [r.level for r in records if isinstance(r, StatusRecord)] == [
        "transaction",
        "transaction",
        "transaction",
        "payment",
        "group",
    ]
    first = records[0]
    assert isinstance(first, StatusRecord)
    assert (first.status, first.reason, first.amount_cents, first.currency) == ("RJCT", "AM04", 23000, "EUR")
    assert first.original_msg_id.startswith("DD20261105-")
    assert first.original_pmtinf_id is not None
    assert first.original_pmtinf_id.endswith("-RCUR-20261105")


def test_pain002_v03_record() -> None:
    _header, records = _records(GOLDEN / "pain002_v03_reject.xml")
    tx = records[0]
    assert isinstance(tx, StatusRecord)
    assert (tx.level, tx.status, tx.reason, tx.amount_cents) == ("transaction", "RJCT", "MD07", 18000)


def test_camt054_v08_batch_entry_gives_one_record_per_transaction() -> None:
    header, records = _records(GOLDEN / "camt054_v08_credits.xml")
    assert header.report_id == "NTF-20261105-0001"
    entries = [r for r in records if isinstance(r, EntryRecord)]
    assert [e.entry_ref for e in entries] == [
        "E20261105-001/1",
        "E20261105-001/2",
        "E20261105-001/3",
        "E20261105-002",
        "E20261105-003",
    ]
    assert [e.amount_cents for e in entries[:3]] == [15000, 12000, 25000]
    first = entries[0]
    assert (first.credit_debit, first.status, first.booking_date) == ("CRDT", "BOOK", date(2026, 11, 5))
    assert first.bank_tx_code == "PMNT/RDDT/ESDD"
    assert not first.is_return
    assert entries[-1].status == "PDNG"
    assert not entries[-1].is_booked


def test_camt054_v08_return_carries_the_reason() -> None:
    _header, records = _records(GOLDEN / "camt054_v08_returns.xml")
    first = records[0]
    assert isinstance(first, EntryRecord)
    assert (first.credit_debit, first.return_reason, first.bank_tx_code) == ("DBIT", "MD06", "PMNT/RDDT/UPDD")
    assert first.is_return


def test_camt054_v02_reads_amount_details() -> None:
    _header, records = _records(GOLDEN / "camt054_v02_partial.xml")
    assert [r.amount_cents for r in records if isinstance(r, EntryRecord)] == [9000, 19000, 15000]
    assert all(isinstance(r, EntryRecord) and r.status == "BOOK" for r in records)


def _break(tmp_path: Path, source: str, old: str, new: str) -> Path:
    text = (GOLDEN / source).read_text()
    assert old in text
    path = tmp_path / source
    path.write_text(text.replace(old, new, 1))
    return path


def test_xsd_violation_is_refused_with_its_line(tmp_path: Path) -> None:
    path = _break(
        tmp_path, "camt054_v08_credits.xml", "<CdtDbtInd>CRDT</CdtDbtInd>", "<CdtDbtInd>CREDIT</CdtDbtInd>"
    )
    with pytest.raises(SchemaViolation) as info:
        list(read_report(path))
    assert info.value.code == Code.SEPA_REPORT_XSD_INVALID
    assert info.value.field.startswith("line ")


def test_xsd_violation_is_also_caught_by_the_parallel_validator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_stream, "PARALLEL_MIN_BYTES", 0)
    ok = list(read_report(GOLDEN / "camt054_v02_partial.xml"))
    assert len(ok) == 4
    path = _break(tmp_path, "camt054_v02_partial.xml", "<Sts>BOOK</Sts>", "<Sts>BOOKED</Sts>")
    seen: list[object] = []
    with pytest.raises(SchemaViolation) as info:
        seen.extend(read_report(path))  # records come, the verdict ends the stream
    assert info.value.code == Code.SEPA_REPORT_XSD_INVALID
    assert seen  # which is why callers apply a report in one transaction


def test_unsupported_message_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "camt053.xml"
    path.write_text('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>')
    with pytest.raises(SchemaViolation) as info:
        detect_message(path)
    assert info.value.code == Code.SEPA_REPORT_UNSUPPORTED


@pytest.mark.parametrize(
    "content",
    [
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "boom">]><Document>&x;</Document>',
        b'<?xml version="1.0"?>\n<!DOCTYPE Document SYSTEM "http://example.invalid/x.dtd"><Document/>',
        '<?xml version="1.0" encoding="UTF-16"?><Document/>'.encode("utf-16"),
        b'<?xml version="1.0" encoding="ISO-8859-1"?><Document/>',
        b"",
        b"<Document",
    ],
    ids=["entity", "external-dtd", "utf16", "latin1", "empty", "truncated"],
)
def test_hostile_or_broken_input_is_refused_before_parsing(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "report.xml"
    path.write_bytes(content)
    with pytest.raises((MalformedPayload, SchemaViolation)) as info:
        list(read_report(path))
    assert isinstance(info.value, GatewayError)


@pytest.mark.parametrize(
    ("text", "cents"), [("123.45", 12345), ("7", 700), ("0.5", 50), ("12.500", 1250), ("0012.30", 1230)]
)
def test_amounts_are_exact_cents(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["12.505", "-1.00", "1e3", "abc", "", None, "١٢"])
def test_amounts_that_are_not_euro_cents_are_refused(text: str | None) -> None:
    with pytest.raises(SchemaViolation) as info:
        parse_amount(text)
    assert info.value.code == Code.SEPA_REPORT_INVALID_AMOUNT


@given(cents=st.integers(min_value=0, max_value=99_999_999_999), zeros=st.integers(min_value=0, max_value=3))
def test_amount_text_round_trip(cents: int, zeros: int) -> None:
    text = f"{cents // 100}.{cents % 100:02d}" + "0" * zeros
    assert parse_amount(text) == cents
    if cents % 100 == 0:
        assert parse_amount(str(cents // 100)) == cents


def test_reason_codes_have_epc_meanings_and_actions() -> None:
    for code in ("AC01", "AC04", "AC06", "AG01", "AG02", "AM04", "AM05", "BE05", "CNOR", "DNOR", "FF01"):
        assert reason_for(code) is not None
    for code in (
        "MD01",
        "MD02",
        "MD06",
        "MD07",
        "MS02",
        "MS03",
        "RC01",
        "RR01",
        "RR02",
        "RR03",
        "RR04",
        "SL01",
    ):
        reason = reason_for(code)
        assert reason is not None
        assert reason.meaning
        assert reason.action in ("recover", "fix-data", "retry")
    am04 = reason_for("AM04")
    assert am04 is not None
    assert (am04.meaning, am04.action) == ("Insufficient funds", "recover")
    unknown = reason_for("ZZ99")
    assert unknown is not None
    assert unknown.action == "recover"
    assert reason_for(None) is None
