"""Dossiers, mandates and the ports of the SEPA services, all in memory (tests/fake_payments.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

from gateway.resources import EXAMPLES_DIR
from gateway.sepa.model import Fund
from gateway.services.mandates import record_payout_account, show_mandate, show_payout_account, sign_mandate
from gateway.services.ports import DossierRow
from gateway.services.sepa_runs import SepaRuns
from gateway.services.validation import validate
from tests.fake_payments import FakeChannel, FakePaymentsStore
from tests.fakes import FakeArchive, FakeSigner

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the examples' dates and RIBs are recent then
FUND = Fund("CAF DEMO ARIPA", "FR7630006000011234567890189", "AGRIFRPPXXX", "FR72ZZZ123456")


def accepted(store: FakePaymentsStore, example: str = "avocat-1.json", *, source: str = "avocat") -> str:
    """Store the example's canonical dossier as accepted (avocat-1: two children at 175 EUR from
    2026-12-01, both parents' bank details); its id."""
    validated = validate(source, (Path(EXAMPLES_DIR) / example).read_bytes(), received_at=NOW)
    dossier_id = str(validated.dossier["dossier_id"])
    store.add_dossier(
        DossierRow(
            dossier_id=dossier_id,
            dedupe_key=hashlib.sha256(validated.dedupe_key.encode()).hexdigest(),
            source_kind=source,
            sender=f"CN={source}",
            reference=validated.transmission.reference,
            received_at=NOW,
            canonical_json=json.dumps(validated.dossier),
            status="accepted",
        )
    )
    return dossier_id


def signed(store: FakePaymentsStore, dossier_id: str, *, payout: bool = True, day: int = 10) -> None:
    """The debtor signs a mandate on the account the title brought; the creditor's account is
    recorded for payouts unless `payout` is False."""
    account = show_mandate(store, dossier_id)["account"]
    sign_mandate(
        store, dossier_id, holder=account["holder"], iban=account["iban"], bic=account["bic"],
        signed_on=date(2026, 11, 20).isoformat(), method="paper", debit_day=day, now=NOW,
    )  # fmt: skip
    payee = show_payout_account(store, dossier_id)["account"]
    if payout and payee is not None:
        record_payout_account(
            store, dossier_id, holder=payee["holder"], iban=payee["iban"], bic=payee["bic"], now=NOW
        )


def runs(
    store: FakePaymentsStore, tmp_path: Path, *, at: datetime = NOW
) -> tuple[SepaRuns, FakeArchive, FakeChannel]:
    archive, channel = FakeArchive(), FakeChannel()
    sepa = SepaRuns(
        store=store, fund=FUND, signer=FakeSigner(), archive=archive, channel=channel,
        staging_dir=tmp_path / "staging", clock=lambda: at,
    )  # fmt: skip
    return sepa, archive, channel


def settle(store: FakePaymentsStore, end_to_end_id: str, collected_cents: int | None = None) -> None:
    """The bank credited the debit (in full, or `collected_cents`): what a bank report's import
    records (gateway.services.bank_import, tested on the SQL store in tests/golden/bank)."""
    state = store.state
    debit = state.debits[end_to_end_id]
    state.debits[end_to_end_id] = debit._replace(status="settled")
    if collected_cents is not None:
        state.collected[end_to_end_id] = collected_cents
