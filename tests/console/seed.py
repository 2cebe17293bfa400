"""A small but complete gateway for the console's tests: titles accepted and refused, a collection
file answered by the bank with a reject, a dead webhook delivery, a signed archive."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import insert

from gateway.bootstrap import Gateway, bank_channel, build, fund
from gateway.config import Settings
from gateway.console import ConsoleServices
from gateway.devtools.bank_simulator import answer_collection
from gateway.sepa.ids import end_to_end_id
from gateway.services.bank_import import import_report
from gateway.services.collection import run_debits
from gateway.services.intake import IntakeServices, receive
from gateway.services.mandates import sign_mandate
from gateway.signing.cms import load_trust_anchors
from gateway.store import schema
from gateway.transport.http.app import create_app
from gateway.transport.http.identity import Authenticator, RoleMap

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "schemas" / "examples"
RECEIVED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
RUN_AT = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 15, 9, 30, tzinfo=UTC)  # the console's "now"
GOOD_IBAN = "FR1420041010050500013M02606"
BAD_IBAN = "FR0020041010050500013M02606"  # wrong check digits: the title is refused
NEW_IBAN = "FR7630006000011234567890189"


@dataclass
class Seeded:
    gateway: Gateway
    console: ConsoleServices
    app: FastAPI
    accepted: dict[str, str]  # source -> dossier id
    refused_receipt: str
    rejected_dossier: str
    dead_delivery: int

    def close(self) -> None:
        self.gateway.close()


def _received(services: IntakeServices, at: datetime) -> IntakeServices:
    return dataclasses.replace(services, clock=lambda: at)


def seed(tmp: Path, pki: Path, *, database_url: str | None = None) -> Seeded:
    settings = Settings(data_dir=tmp / "var", certs_dir=pki, database_url=database_url)
    gateway = build(settings)
    accepted: dict[str, str] = {}
    intake = _received(gateway.intake, RECEIVED)
    for source, name in (
        ("notaire", "notaire-1.xml"),
        ("avocat", "avocat-1.json"),
        ("greffe", "greffe-1.xml"),
    ):
        result = receive(intake, source, (EXAMPLES / name).read_bytes(), sender=f"CN={source}")
        assert result.outcome == "accepted", result.error
        accepted[source] = str(result.receipt["dossier_id"])
    for source in ("notaire", "avocat"):  # the debtors signed their mandates; the greffe's waits
        dossier_id = accepted[source]
        with gateway.store.read() as uow:
            row = uow.dossiers.get(dossier_id)
        assert row is not None
        account = json.loads(row.canonical_json)["debtor"]["bank_account"]
        sign_mandate(
            gateway.store, dossier_id, holder=account["holder"], iban=account["iban"], bic=account["bic"],
            signed_on=RECEIVED.date().isoformat(), method="paper", debit_day=10, now=RECEIVED,
        )  # fmt: skip
    bad = (EXAMPLES / "notaire-1.xml").read_bytes().replace(GOOD_IBAN.encode(), BAD_IBAN.encode())
    refused = receive(
        _received(gateway.intake, NOW - timedelta(hours=1)), "notaire", bad, sender="CN=notaire"
    )
    assert refused.outcome == "rejected"
    report = run_debits(
        gateway.store, period="2026-12", fund=fund(settings), created_at=RUN_AT,
        staging_dir=tmp / "staging", signer=gateway.signer, archive=gateway.archive,
        channel=bank_channel(settings),
    )  # fmt: skip
    assert report.file is not None, report
    assert report.count == 2, report
    rejected = accepted["notaire"]
    end_to_end = end_to_end_id(rejected, "DD", "2026-12")
    outbound = settings.effective_outbound_dir / report.file.name
    for path in answer_collection(outbound, tmp / "bank", rejects={end_to_end: "AM04"}, at=RUN_AT):
        import_report(gateway, path, now=lambda: RUN_AT + timedelta(days=10))
    with gateway.store.transaction() as uow:
        conn = uow.connection
        event_id = conn.execute(
            insert(schema.events).returning(schema.events.c.event_id),
            {"type": "dossier.accepted", "dossier_id": rejected, "payload_json": "{}", "created_at": RUN_AT},
        ).scalar_one()
        dead = conn.execute(
            insert(schema.webhook_deliveries).returning(schema.webhook_deliveries.c.delivery_id),
            {
                "subscription": "back-office-1", "event_id": event_id, "dossier_id": rejected,
                "status": "dead", "attempts": 8, "next_attempt_at": RUN_AT, "last_status_code": 503,
                "last_error": "HTTP 503", "created_at": RUN_AT, "updated_at": RUN_AT,
            },
        ).scalar_one()  # fmt: skip
    gateway.archive.checkpoint()
    console = ConsoleServices(
        store=gateway.store,
        archive=gateway.archive,
        signer=gateway.signer,
        trust_anchors=load_trust_anchors(pki / "ca.pem"),
        csrf_key=b"console-test-key",
        clock=lambda: NOW,
    )
    console.forecast.refresh_now()
    app = create_app(
        authenticator=Authenticator(RoleMap()),
        services={ConsoleServices: console, IntakeServices: gateway.intake},
    )
    return Seeded(gateway, console, app, accepted, str(refused.receipt["receipt_id"]), rejected, int(dead))
