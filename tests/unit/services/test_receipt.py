"""The typed receipt (gateway.services.intake.Receipt) and its wire form (docs/http-api.md)."""

from __future__ import annotations

import json

import pytest

from gateway.services.intake import Receipt, receipt_bytes

ACCEPTED = {
    "dossier_id": "DOS-SJY6AOBVQJWTYNNQ",
    "payload_sha256": "ab" * 32,
    "received_at": "2026-11-23T10:00:00Z",
    "receipt_id": "RCT-0001",
    "reference": "TJNANTES-2026-004217",
    "sender": "CN=greffe",
    "source": "greffe",
    "status": "accepted",
    "warnings": [
        {"code": "late-transmission", "field": "DateDecision", "message": "…", "severity": "warning"}
    ],
}


def test_the_wire_form_is_the_stored_json_key_for_key_and_in_order() -> None:
    receipt = Receipt.from_json(ACCEPTED)

    assert receipt.to_json() == ACCEPTED
    assert list(receipt.to_json()) == sorted(ACCEPTED)  # no "errors" key on an acceptance
    assert (
        receipt_bytes(receipt)
        == json.dumps(ACCEPTED, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


def test_a_rejection_carries_its_errors_and_no_dossier() -> None:
    errors = [{"code": "schema-violation", "field": "Titre", "message": "…", "severity": "error"}]
    rejected = {**ACCEPTED, "status": "rejected", "dossier_id": None, "reference": None, "warnings": []}
    rejected["errors"] = errors

    receipt = Receipt.from_json(rejected)

    assert (receipt.status, receipt.dossier_id, receipt.errors) == ("rejected", None, tuple(errors))
    assert receipt.to_json() == rejected


def test_a_stored_receipt_with_a_field_this_version_does_not_know_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown fields \['signed_by'\]"):
        Receipt.from_json({**ACCEPTED, "signed_by": "x"})
