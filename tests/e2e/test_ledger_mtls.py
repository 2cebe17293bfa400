"""The ledger over real mutual TLS: a two-child title posted by a lawyer, its first debit rejected, the
back-office reads one full ASF per child (L. 523-1 I 4° CSS); other roles may not."""

from __future__ import annotations

from datetime import date

from gateway.payments.reconcile import DebitState, DebitStatus
from tests.e2e.harness import Clients
from tests.e2e.test_intake_e2e import JSON, NOW, PATHS, Gateway, example, served
from tests.support.debits import add_answered_debit

__all__ = ["served"]  # the fixture: the intake tests' gateway served over mutual TLS


def test_back_office_reads_one_asf_per_child_over_mtls(served: tuple[Gateway, Clients]) -> None:
    gw, clients = served
    posted = clients.as_("avocat").post(PATHS["avocat"][0], content=example("avocat-1.json"), headers=JSON)
    assert posted.status_code == 201, posted.text
    dossier_id = posted.json()["receipt"]["dossier_id"]
    rejected = DebitStatus(DebitState.REJECTED, reason="AM04")  # two children at 175 €, effective 2026-12-01
    add_answered_debit(
        gw.store, dossier_id, "2026-12", 35000, collection_date=date(2026, 12, 10), status=rejected, at=NOW
    )

    answer = clients.get("backoffice", f"/v1/dossiers/{dossier_id}/ledger")
    assert answer.status_code == 200, answer.text
    ledger = answer.json()
    month = ledger["months"][0]
    assert [
        (c["child"], c["due_cents"], c["asf_complement_cents"], c["recoverable_cents"])
        for c in month["children"]
    ] == [
        (0, 17500, 20199, 17500),
        (1, 17500, 20199, 17500),
    ]
    assert (ledger["arrears_cents"], ledger["asf_complement_net_cents"], ledger["recoverable_cents"]) == (
        35000,
        2 * 20098,
        35000,
    )
    assert (month["due_on"], month["prescription_date"]) == ("2026-12-10", "2031-12-10")
    assert clients.get("avocat", f"/v1/dossiers/{dossier_id}/ledger").status_code == 403
    missing = clients.get("backoffice", "/v1/dossiers/DOS-NOSUCHDOSSIER/ledger")
    assert (missing.status_code, missing.json()["errors"][0]["code"]) == (404, "not-found")
