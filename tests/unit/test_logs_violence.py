"""The violence flag never reaches the logs, not even through a code that implies it.

A joint refusal together with the violence flag (art. 373-2-2 II last paragraph C. civ.) is answered
with a code that says violence was alleged; receipts and dossiers carry it, log lines mask it
(docs/rules.md "Privacy of the violence flag").
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.errors import REVEALS_VIOLENCE, Code, loggable_code
from gateway.services.intake import IntakeServices, receive
from gateway.signing.cms import Signer
from gateway.store import MemoryStore
from tests.fakes import FakeArchive

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "greffe-1.xml"


def test_codes_that_reveal_violence_are_masked_in_logs() -> None:
    assert loggable_code("violence-with-joint-refusal") == "[masked]"
    assert loggable_code("joint-refusal-set-aside") == "[masked]"
    assert loggable_code(Code.LATE_TRANSMISSION) == "late-transmission"
    assert all(loggable_code(code) == "[masked]" for code in REVEALS_VIOLENCE)


def test_a_joint_refusal_with_violence_alleged_leaves_no_trace_in_the_logs(
    dev_pki: Path, caplog: pytest.LogCaptureFixture
) -> None:
    services = IntakeServices(
        store=MemoryStore(),
        signer=Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem"),
        archive=FakeArchive(),
        clock=lambda: datetime(2026, 11, 23, tzinfo=UTC),
    )
    data = (
        EXAMPLE.read_bytes()
        .replace(b"<Violences>false</Violences>", b"<Violences>true</Violences>")
        .replace(b"<Intermediation>MISE_EN_PLACE<", b"<Intermediation>REFUS_CONJOINT<")
    )
    with caplog.at_level(logging.DEBUG):
        result = receive(services, "greffe", data, sender="greffe:test")
    issues = [*result.receipt.get("errors", []), *result.receipt.get("warnings", [])]
    assert {i["code"] for i in issues} & REVEALS_VIOLENCE  # the receipt says it, for the sender
    assert result.receipt["receipt_id"] in caplog.text  # the intake did log this title
    for code in REVEALS_VIOLENCE:
        assert code not in caplog.text
    assert "[masked]" in caplog.text
