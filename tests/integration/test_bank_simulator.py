"""The stand-in bank answers an emitted pain.008 with reports valid against the official XSDs,
which the gateway imports and reconciles."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from gateway.bank_simulator import answer_collection, read_collection

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "tests" / "golden" / "sepa" / "collection-2026-12.xml"
XSD = ROOT / "schemas" / "iso20022"


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
