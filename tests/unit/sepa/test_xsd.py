"""Streaming XSD validation: files on disk, and bytes validated by a child while written."""

from __future__ import annotations

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
    assert "NEXT" in caught.value.message


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


def test_validating_sink_refuses_invalid_bytes(tmp_path: Path) -> None:
    data = (GOLDEN / "pain.008.001.08.xml").read_bytes().replace(b"<PmtMtd>DD", b"<PmtMtd>XX")
    with (
        pytest.raises(SchemaViolation) as caught,
        ValidatingSink(tmp_path / "bad.xml", "pain.008.001.08") as sink,
    ):
        sink.write(data)
    assert caught.value.code == Code.SEPA_XSD_INVALID
    assert "XX" in caught.value.message
