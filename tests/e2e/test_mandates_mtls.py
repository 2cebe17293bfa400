"""Mandates and payout accounts over real mutual TLS: the back-office records a signature and a
payout account (events in the feed); every bad field is a problem+json naming it; other roles and
unknown dossiers are refused. docs/mandates.md."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Clients, served_gateway

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "greffe-1.xml"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # the fund's today: 2026-11-25 in Paris
SIGNED = {
    "holder": "M. Julien Martin",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "bic": "AGRIFRPP",
    "signed_on": "2026-11-24",
    "method": "electronic",
    "debit_day": 1,
}
PAYEE = {"holder": "Mme Claire Durand", "iban": "FR7630004000031234567890143", "bic": "BNPAFRPP"}


@pytest.fixture
def served(tmp_path: Path, dev_pki: Path) -> Iterator[tuple[Clients, str]]:
    with served_gateway(tmp_path, dev_pki, now=NOW) as (clients, _, _):
        posted = clients.as_("greffe").post(
            "/v1/greffe/transmissions",
            content=EXAMPLE.read_bytes(),
            headers={"content-type": "application/xml"},
        )
        assert posted.status_code == 201, posted.text
        yield clients, posted.json()["receipt"]["dossier_id"]


def test_the_back_office_records_a_signature_and_a_payout_account(served: tuple[Clients, str]) -> None:
    clients, dossier_id = served
    office = clients.as_("backoffice")
    pending = office.get(f"/v1/dossiers/{dossier_id}/mandate")
    assert pending.status_code == 200
    assert {k: pending.json()[k] for k in ("status", "account", "prefilled_from_title")} == {
        "status": "pending", "account": None, "prefilled_from_title": False
    }  # fmt: skip
    signed = office.put(f"/v1/dossiers/{dossier_id}/mandate", json=SIGNED)
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert (body["status"], body["signed_on"], body["method"], body["debit_day"]) == (
        "signed", "2026-11-24", "electronic", 1
    )  # fmt: skip
    assert body["account"] == {
        "holder": "M. Julien Martin",
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP",
    }
    assert office.get(f"/v1/dossiers/{dossier_id}/mandate").json() == body
    paid_to = office.put(f"/v1/dossiers/{dossier_id}/payout-account", json=PAYEE)
    assert paid_to.status_code == 200
    assert paid_to.json()["account"] == PAYEE
    assert office.put(f"/v1/dossiers/{dossier_id}/mandate", json=SIGNED).status_code == 200  # same again
    feed = office.get("/v1/feed", params={"after": "0"}).json()["events"]
    assert [e["type"] for e in feed] == ["dossier.accepted", "mandate.signed", "payout_account.recorded"]
    assert feed[1]["data"]["mandate"]["reference"] == body["reference"]


def problem(answer: Any) -> tuple[int, set[tuple[str, str]]]:
    assert answer.headers["content-type"] == "application/problem+json"
    return answer.status_code, {(e["code"], e["field"]) for e in answer.json()["errors"]}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"iban": "FR7630006000011234567890188"}, (422, ("invalid-iban", "iban"))),
        ({"iban": "BR1800360305000010009795493C1"}, (422, ("sepa-iban-outside-sepa", "iban"))),
        ({"bic": "AGRI"}, (422, ("invalid-bic", "bic"))),
        ({"signed_on": "2026-11-26"}, (422, ("invalid-date", "signed_on"))),  # tomorrow
        ({"signed_on": "2026-11-15"}, (422, ("invalid-date", "signed_on"))),  # before the title
        ({"signed_on": "24/11/2026"}, (422, ("invalid-date", "signed_on"))),
        ({"debit_day": 5}, (422, ("invalid-debit-day", "debit_day"))),
        ({"method": "phone"}, (422, ("invalid-mandate-method", "method"))),
        ({"debit_day": "tenth"}, (400, ("malformed-payload", "body.debit_day"))),
        ({"colour": "blue"}, (400, ("malformed-payload", "body.colour"))),
    ],
)
def test_each_bad_field_is_a_problem_naming_it(
    served: tuple[Clients, str], changes: dict[str, Any], expected: tuple[int, tuple[str, str]]
) -> None:
    clients, dossier_id = served
    office = clients.as_("backoffice")
    status, found = problem(office.put(f"/v1/dossiers/{dossier_id}/mandate", json={**SIGNED, **changes}))
    assert (status, expected[1] in found) == (expected[0], True), found
    assert office.get(f"/v1/dossiers/{dossier_id}/mandate").json()["status"] == "pending"  # nothing recorded


def test_unknown_dossiers_other_roles_and_bad_payout_accounts_are_refused(
    served: tuple[Clients, str],
) -> None:
    clients, dossier_id = served
    office = clients.as_("backoffice")
    assert problem(office.put("/v1/dossiers/DOS-AAAAAAAAAAAAAAAA/mandate", json=SIGNED)) == (
        404, {("not-found", "dossier_id")}
    )  # fmt: skip
    assert problem(office.get("/v1/dossiers/DOS-AAAAAAAAAAAAAAAA/payout-account"))[0] == 404
    refused = clients.as_("greffe").put(f"/v1/dossiers/{dossier_id}/mandate", json=SIGNED)
    assert problem(refused)[0] == 403
    bad = office.put(
        f"/v1/dossiers/{dossier_id}/payout-account", json={**PAYEE, "iban": "FR7630004000031234567890144"}
    )
    assert problem(bad) == (422, {("invalid-iban", "iban")})
    assert "30004000031234567890144" not in bad.text  # the problem never quotes the account
    assert bad.json()["title"] == "The record breaks a rule"
