"""Streaming XSD validation: files on disk, and bytes validated by a child while written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gateway.errors import Code, ConfigurationError, SchemaViolation
from gateway.sepa.pain008 import write_pain008
from gateway.sepa.xsd import ValidatingSink, detect_version, validate_file
from tests.unit.sepa.samples import DEBIT_HEADER, FUND, GOLDEN, golden_debits, source


@pytest.mark.parametrize("name", ["pain.008.001.08", "pain.008.001.02", "pain.001.001.09", "pain.001.001.03"])
def test_golden_files_validate(name: str) -> None:
    path = GOLDEN / f"{name}.xml"
    assert detect_version(path) == name
    assert validate_file(path) == name


def test_invalid_file_is_reported_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    text = (GOLDEN / "pain.008.001.08.xml").read_text()
    bad.write_text(text.replace("<SeqTp>RCUR</SeqTp>", "<SeqTp>NEXT</SeqTp>", 1))
    with pytest.raises(SchemaViolation) as caught:
        validate_file(bad)
    assert caught.value.code == Code.SEPA_XSD_INVALID
    # the reason names the element and what it allows, never the value (it may be a name or an IBAN)
    assert "SeqTp" in caught.value.message
    assert "'FRST'" in caught.value.message
    assert "NEXT" not in caught.value.message


def test_not_iso20022(tmp_path: Path) -> None:
    other = tmp_path / "other.xml"
    other.write_text("<Document xmlns='urn:example'/>")
    with pytest.raises(SchemaViolation) as caught:
        validate_file(other)
    assert caught.value.code == Code.SEPA_XSD_INVALID


def test_unknown_version() -> None:
    with pytest.raises(ConfigurationError):
        validate_file(GOLDEN / "pain.008.001.08.xml", version="pain.008.001.99")


def test_validating_sink_accepts_what_the_writer_writes(tmp_path: Path) -> None:
    out = tmp_path / "dd.xml"
    with ValidatingSink(out, "pain.008.001.08") as sink:
        write_pain008(sink, DEBIT_HEADER, FUND, source(golden_debits()))
    assert out.read_bytes() == (GOLDEN / "pain.008.001.08.xml").read_bytes()


def test_validating_sink_hashes_what_it_writes_for_the_signature(tmp_path: Path) -> None:
    """digest=True: the SHA-256 of the file, computed while written, signs it (RFC 5652)."""
    out = tmp_path / "dd.xml"
    with ValidatingSink(out, "pain.008.001.08", digest=True) as sink:
        with pytest.raises(ValueError, match="closed"):
            _ = sink.sha256
        write_pain008(sink, DEBIT_HEADER, FUND, source(golden_debits()))
    assert sink.sha256 == hashlib.sha256(out.read_bytes()).digest()
    with ValidatingSink(tmp_path / "plain.xml", "pain.008.001.08") as plain:
        plain.write(out.read_bytes())
    with pytest.raises(ValueError, match="digest=True"):
        _ = plain.sha256


def test_validating_sink_refuses_invalid_bytes(tmp_path: Path) -> None:
    data = (GOLDEN / "pain.008.001.08.xml").read_bytes().replace(b"<PmtMtd>DD", b"<PmtMtd>XX")
    with (
        pytest.raises(SchemaViolation) as caught,
        ValidatingSink(tmp_path / "bad.xml", "pain.008.001.08") as sink,
    ):
        sink.write(data)
    assert caught.value.code == Code.SEPA_XSD_INVALID
    assert "PmtMtd" in caught.value.message
    assert "XX" not in caught.value.message  # libxml2 quoted the value: masked


@pytest.mark.parametrize("native", [True, False], ids=["libxml2", "lxml"])
def test_both_engines_agree(native: bool, tmp_path: Path) -> None:
    good = GOLDEN / "pain.001.001.09.xml"
    assert validate_file(good, native=native) == "pain.001.001.09"
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b"<Cd>ALMY</Cd>", b"<Cd>ALIMONY</Cd>", 1))
    with pytest.raises(SchemaViolation) as caught:
        validate_file(bad, native=native)
    assert caught.value.code == Code.SEPA_XSD_INVALID
    assert "maxLength" in caught.value.message


@pytest.mark.parametrize("native", [True, False], ids=["libxml2", "lxml"])
def test_validating_sink_engines(native: bool, tmp_path: Path) -> None:
    data = (GOLDEN / "pain.008.001.02.xml").read_bytes()
    with ValidatingSink(tmp_path / "ok.xml", "pain.008.001.02", native=native) as sink:
        for start in range(0, len(data), 100):  # many small writes, like the writers
            sink.write(data[start : start + 100])
    assert (tmp_path / "ok.xml").read_bytes() == data
    with (
        pytest.raises(SchemaViolation),
        ValidatingSink(tmp_path / "ko.xml", "pain.008.001.02", native=native) as sink,
    ):
        sink.write(data.replace(b"<PmtMtd>DD", b"<PmtMtd>XX", 1))


def test_libxml2_engine_is_available_here() -> None:
    # xmllint is installed on this machine, so is libxml2.so.2: the fast engine is exercised
    from gateway.sepa import libxml2

    assert libxml2.available()


def test_a_refused_run_leaves_no_validator_behind(tmp_path: Path) -> None:
    import threading

    from gateway.errors import RuleViolation
    from tests.unit.sepa.samples import debit

    before = threading.active_count()
    with pytest.raises(RuleViolation), ValidatingSink(tmp_path / "x.xml", "pain.008.001.08") as sink:
        write_pain008(sink, DEBIT_HEADER, FUND, source([debit(currency="USD")]))
    assert threading.active_count() == before
    assert (tmp_path / "x.xml").read_bytes() == b""  # the rules refused before any byte
