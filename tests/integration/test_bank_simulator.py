"""The stand-in bank answers an emitted pain.008 with reports valid against the official XSDs,
which the gateway imports and reconciles."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.devtools.bank_simulator import answer_collection, read_collection
from gateway.errors import Code, RuleViolation

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "tests" / "golden" / "sepa" / "collection-2026-12.xml"
XSD = ROOT / "schemas" / "iso20022"
AT = datetime(2026, 12, 11, tzinfo=UTC)


def test_answers_are_valid_and_split_rejects_from_credits(tmp_path: Path) -> None:
    msg_id, iban, debits = read_collection(COLLECTION)
    assert len(debits) == 2
    assert iban.startswith("FR76")
    rejected = debits[0].end_to_end_id
    paths = answer_collection(
        COLLECTION, tmp_path, rejects={rejected: "AM04"}, at=datetime(2026, 12, 11, tzinfo=UTC)
    )
    assert [p.name.split("-")[0] for p in paths] == ["pain002", "camt054"]
    for path, xsd in zip(paths, ("pain.002.001.10.xsd", "camt.054.001.08.xsd"), strict=True):
        done = subprocess.run(
            ["xmllint", "--noout", "--schema", str(XSD / xsd), str(path)], capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr.decode()
    status, notification = (p.read_text() for p in paths)
    assert rejected in status
    assert "<Cd>AM04</Cd>" in status
    assert debits[1].end_to_end_id in notification
    assert rejected not in notification
    assert msg_id in notification


def test_nothing_rejected_means_no_status_report(tmp_path: Path) -> None:
    paths = answer_collection(COLLECTION, tmp_path, rejects={}, at=datetime(2026, 12, 11, tzinfo=UTC))
    assert [p.name.split("-")[0] for p in paths] == ["camt054"]


def test_an_end_to_end_id_not_in_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleViolation) as refused:
        answer_collection(COLLECTION, tmp_path, rejects={"UNKNOWN": "AM04"}, at=AT)
    assert refused.value.code == Code.UNKNOWN_END_TO_END_ID
    assert refused.value.field == "--reject"
    assert "UNKNOWN" in refused.value.message
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_invented_reason_code_is_refused(tmp_path: Path) -> None:
    # Only the EPC's codes for R-transactions (EPC173-14): ZZ99 is none of them.
    _, _, debits = read_collection(COLLECTION)
    with pytest.raises(RuleViolation) as refused:
        answer_collection(COLLECTION, tmp_path, rejects={debits[0].end_to_end_id: "ZZ99"}, at=AT)
    assert refused.value.code == Code.UNKNOWN_REASON_CODE
    assert "ZZ99" in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_a_rerun_replaces_the_earlier_answers(tmp_path: Path) -> None:
    _, _, debits = read_collection(COLLECTION)
    first = answer_collection(COLLECTION, tmp_path, rejects={debits[0].end_to_end_id: "AM04"}, at=AT)
    assert len(first) == 2
    again = answer_collection(COLLECTION, tmp_path, rejects={}, at=AT)
    assert sorted(tmp_path.iterdir()) == again  # the old pain.002 is gone, no .part left
    assert debits[0].end_to_end_id in again[0].read_text()


@pytest.mark.parametrize(
    ("reject", "code"),
    [
        ("UNKNOWN=AM04", "unknown-end-to-end-id"),
        ("{e2e}=ZZ99", "unknown-reason-code"),
        ("AM04", "usage-error"),
    ],
)
def test_the_command_refuses_in_one_line(tmp_path: Path, reject: str, code: str) -> None:
    _, _, debits = read_collection(COLLECTION)
    out = tmp_path / "bank"
    done = CliRunner().invoke(
        main,
        [
            "bank",
            "simulate",
            str(COLLECTION),
            "--out",
            str(out),
            "--reject",
            reject.format(e2e=debits[0].end_to_end_id),
        ],
    )
    assert done.exit_code != 0
    (line,) = done.output.splitlines()
    assert line.startswith("gateway bank simulate: " + code), line
    assert "Traceback" not in done.output
    assert not out.exists() or list(out.iterdir()) == []
