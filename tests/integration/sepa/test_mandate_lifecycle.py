"""A dossier's mandate from pending to signed to amended, on a real store (SQLite and PostgreSQL):
not debited while pending (listed), debited FRST once signed, then RCUR with the amendment details
after a change of account (golden pain.008, valid against the official XSD); paid out only to the
payout account the back-office recorded. docs/mandates.md."""

# ruff: noqa: E501  (IBAN and XPath literals read best unbroken)
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import NotFound, RuleViolation
from gateway.services.mandates import (
    Recorded,
    change_debtor_account,
    record_payout_account,
    show_mandate,
    show_payout_account,
    sign_mandate,
    waiting,
)
from gateway.services.records import MandateRow
from gateway.store import open_sql_store
from gateway.store.payments import SqlPayments
from tests.integration.sepa.test_runs import EXAMPLES, GOLDEN, NS8, RECEIVED, Env, xmllint
from tests.pg import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

SIGNED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DEBTOR = {"holder": "M. Julien Martin", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP"}
# another bank (La Banque Postale): the amendment is SMNDA (EPC130-08 AT-24)
NEW_BANK = {"holder": "M. Julien Martin", "iban": "FR1420041010050500013M02606", "bic": "PSSTFRPPXXX"}
PAYEE = {"holder": "Mme Claire Durand", "iban": "FR7630004000031234567890143", "bic": "BNPAFRPP"}


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path, dev_pki: Path) -> Iterator[tuple[Env, str]]:
    url = (
        f"sqlite:///{tmp_path / 'g.sqlite3'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store = open_sql_store(url)
    found = Env(store, tmp_path, dev_pki)
    # the greffe's title brings no bank details: before, this dossier could never be collected
    yield found, found.ingest("greffe", (EXAMPLES / "greffe-1.xml").read_bytes())
    store.close()


def sign(
    env: Env, dossier_id: str, account: dict[str, str], *, on: str, day: int = 15, at: datetime = SIGNED_AT
) -> Recorded:
    return sign_mandate(
        env.store, dossier_id, holder=account["holder"], iban=account["iban"], bic=account["bic"],
        signed_on=on, method="paper", debit_day=day, now=at,
    )  # fmt: skip


def events(env: Env, type_: str) -> list[dict[str, object]]:
    with env.store.read() as uow:
        return [json.loads(e.payload_json) for e in uow.events.read_after(0, 1000) if e.type == type_]


def transactions(path: Path) -> list[etree._Element]:
    return list(etree.parse(str(path)).getroot().iterfind(".//p:DrctDbtTxInf", namespaces=NS8))


def test_pending_then_signed_then_amended(env: tuple[Env, str]) -> None:
    gw, dossier_id = env
    # 1. pending: not debited, listed by reason, in the run's summary and in `mandates pending`
    assert show_mandate(gw.store, dossier_id)["status"] == "pending"
    december = gw.debits("2026-12")
    assert (december.count, december.skipped) == (0, {"mandate-pending": 1})
    assert december.waiting["mandate-pending"].dossiers == [dossier_id]
    listed = list(waiting(gw.store, today=date(2026, 11, 25)))
    assert [(w.dossier_id, w.reasons, w.prefilled) for w in listed] == [
        (dossier_id, ("mandate-pending", "no-payout-account"), False)
    ]

    # 2. signed: the next month is debited FRST, on the day the debtor chose
    recorded = sign(gw, dossier_id, DEBTOR, on="2026-11-24")
    assert recorded.changed
    assert recorded.view["status"] == "signed"
    assert [e["mandate"]["signed_on"] for e in events(gw, "mandate.signed")] == ["2026-11-24"]  # type: ignore[index]
    january = gw.debits("2027-01")
    assert january.count == 1
    assert january.waiting["no-payout-account"].dossiers == [dossier_id]  # collected; payout waits
    (tx,) = transactions(Path(str(january.channel_ref)))
    root = etree.parse(str(january.channel_ref)).getroot()
    assert root.findtext(".//p:SeqTp", namespaces=NS8) == "FRST"
    assert root.findtext(".//p:ReqdColltnDt", namespaces=NS8) == "2027-01-15"  # a Friday
    assert tx.findtext(".//p:MndtRltdInf/p:DtOfSgntr", namespaces=NS8) == "2026-11-24"
    assert tx.find(".//p:AmdmntInd", NS8) is None

    # 3. amended: the debtor signs a change to another bank; same reference and date of signature
    amended = sign(gw, dossier_id, NEW_BANK, on="2027-01-20", at=datetime(2027, 1, 20, 9, tzinfo=UTC))
    assert amended.view["pending_amendment"] == {
        "original_mandate_id": None, "original_debtor_iban": None, "new_debtor_agent": True
    }  # fmt: skip
    assert (amended.view["signed_on"], amended.view["amended_on"]) == ("2026-11-24", "2027-01-20")
    assert len(events(gw, "mandate.amended")) == 1
    february = gw.debits("2027-02", at=datetime(2027, 1, 25, 6, tzinfo=UTC))
    path = Path(str(february.channel_ref))
    xmllint(path, "pain.008.001.08.xsd")
    root = etree.parse(str(path)).getroot()
    assert root.findtext(".//p:SeqTp", namespaces=NS8) == "RCUR"  # an amendment does not reset it
    assert root.findtext(".//p:AmdmntInd", namespaces=NS8) == "true"
    assert root.findtext(".//p:OrgnlDbtrAcct/p:Id/p:Othr/p:Id", namespaces=NS8) == "SMNDA"
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS8) == NEW_BANK["iban"]
    golden = GOLDEN / "collection-amended-2027-02.xml"
    if os.environ.get("GOLDEN_UPDATE") == "1":
        golden.write_bytes(path.read_bytes())
    assert path.read_bytes() == golden.read_bytes()
    # carried once: the next month's debit has no amendment any more
    march = gw.debits("2027-03", at=datetime(2027, 2, 25, 6, tzinfo=UTC))
    assert b"AmdmntInd" not in Path(str(march.channel_ref)).read_bytes()


def test_a_change_at_the_same_bank_carries_the_original_iban(env: tuple[Env, str]) -> None:
    gw, dossier_id = env
    sign(gw, dossier_id, DEBTOR, on="2026-11-24")
    gw.debits("2027-01")
    same_bank = {**DEBTOR, "iban": "FR7630006000000001987654327"}
    pending = change_debtor_account(
        gw.store, dossier_id, iban=same_bank["iban"], bic="AGRIFRPP", holder=None, now=SIGNED_AT
    )
    assert pending == {
        "original_mandate_id": None,
        "original_debtor_iban": DEBTOR["iban"],
        "new_debtor_agent": False,
    }
    path = Path(str(gw.debits("2027-02").channel_ref))
    xmllint(path, "pain.008.001.08.xsd")
    assert (
        etree.parse(str(path)).getroot().findtext(".//p:OrgnlDbtrAcct/p:Id/p:IBAN", namespaces=NS8)
        == DEBTOR["iban"]
    )


def test_recording_the_same_signature_again_changes_nothing(env: tuple[Env, str]) -> None:
    gw, dossier_id = env
    assert sign(gw, dossier_id, DEBTOR, on="2026-11-24").changed
    again = sign(gw, dossier_id, {**DEBTOR, "iban": "FR76 3000 6000 0112 3456 7890 189"}, on="2026-11-24")
    assert not again.changed
    assert len(events(gw, "mandate.signed")) == 1


def test_before_any_collection_a_new_record_corrects_the_mandate(env: tuple[Env, str]) -> None:
    gw, dossier_id = env
    sign(gw, dossier_id, DEBTOR, on="2026-11-24")
    corrected = sign(gw, dossier_id, NEW_BANK, on="2026-11-23", day=1)
    assert (corrected.view["signed_on"], corrected.view["pending_amendment"]) == ("2026-11-23", None)
    assert len(events(gw, "mandate.signed")) == 2
    assert not events(gw, "mandate.amended")
    root = etree.parse(str(gw.debits("2027-01").channel_ref)).getroot()  # the bank never saw the first
    assert root.findtext(".//p:SeqTp", namespaces=NS8) == "FRST"
    assert root.find(".//p:AmdmntInd", NS8) is None
    assert (
        root.findtext(".//p:ReqdColltnDt", namespaces=NS8) == "2027-01-04"
    )  # 1 Jan: TARGET holiday; 2-3: weekend


def test_a_mandate_made_from_the_consent_is_pending_and_never_debited(env: tuple[Env, str]) -> None:
    gw, dossier_id = env
    # what migration 0005_mandates leaves of a mandate the gateway used to make from the consent
    with gw.store.transaction() as uow:
        SqlPayments(uow.connection).save_mandate(
            MandateRow(
                dossier_id=dossier_id, reference="ARIPA-FROM-CONSENT", signed_on=None, debtor_name=DEBTOR["holder"],
                iban=DEBTOR["iban"], bic=DEBTOR["bic"], collection_day=None, chosen_day=10,
                first_collection_done=True, pending_amendment=None, updated_at=RECEIVED, status="pending",
            )
        )  # fmt: skip
    view = show_mandate(gw.store, dossier_id)
    assert (view["status"], view["account"]["iban"], view["prefilled_from_title"]) == (
        "pending",
        DEBTOR["iban"],
        True,
    )
    assert gw.debits("2026-12").skipped == {"mandate-pending": 1}
    sign(gw, dossier_id, DEBTOR, on="2026-11-24")  # a real signature: a new mandate for the bank, FRST
    root = etree.parse(str(gw.debits("2027-01").channel_ref)).getroot()
    assert root.findtext(".//p:SeqTp", namespaces=NS8) == "FRST"
    assert root.findtext(".//p:MndtId", namespaces=NS8) == "ARIPA-FROM-CONSENT"


def test_payouts_go_only_to_the_recorded_account(env: tuple[Env, str]) -> None:
    gw, dossier_id = env
    sign(gw, dossier_id, DEBTOR, on="2026-11-24")
    report = gw.debits("2027-01")
    with gw.store.transaction() as uow:
        payments = SqlPayments(uow.connection)
        (debit,) = payments.debits_of_message(str(report.message_id))
        payments.set_debit_status(debit.end_to_end_id, "settled", None)
    unpaid = gw.credits(date(2027, 1, 18))
    assert (unpaid.count, unpaid.skipped) == (0, {"no-payout-account": 1})
    assert unpaid.waiting["no-payout-account"].dossiers == [dossier_id]
    assert show_payout_account(gw.store, dossier_id)["status"] == "pending"
    recorded = record_payout_account(gw.store, dossier_id, **PAYEE, now=SIGNED_AT)
    assert recorded.changed
    assert recorded.view["status"] == "recorded"
    assert [e["payout_account"]["account"] for e in events(gw, "payout_account.recorded")] == [PAYEE]  # type: ignore[index]
    assert not record_payout_account(gw.store, dossier_id, **PAYEE, now=SIGNED_AT).changed
    paid = gw.credits(date(2027, 1, 18))
    assert paid.count == 1
    assert (
        etree.parse(str(paid.channel_ref)).getroot().findtext(".//{*}CdtrAcct/{*}Id/{*}IBAN") == PAYEE["iban"]
    )
    assert list(waiting(gw.store, today=date(2027, 1, 18))) == []


def test_refusals_name_the_dossier_or_the_field(env: tuple[Env, str]) -> None:
    gw, dossier_id = env
    with pytest.raises(NotFound) as unknown:
        sign(gw, "DOS-AAAAAAAAAAAAAAAA", DEBTOR, on="2026-11-24")
    assert (unknown.value.code, unknown.value.field) == ("not-found", "dossier_id")
    assert "no such dossier" in unknown.value.message
    with pytest.raises(RuleViolation) as before_title:
        sign(gw, dossier_id, DEBTOR, on="2026-11-15")  # the title is dated 2026-11-16
    assert (before_title.value.code, before_title.value.field) == ("invalid-date", "signed_on")
    with pytest.raises(RuleViolation) as pending:
        change_debtor_account(
            gw.store, dossier_id, iban=NEW_BANK["iban"], bic=None, holder=None, now=SIGNED_AT
        )
    assert pending.value.code == "mandate-pending"
    with pytest.raises(NotFound):
        record_payout_account(gw.store, "DOS-AAAAAAAAAAAAAAAA", **PAYEE, now=SIGNED_AT)
    assert show_mandate(gw.store, dossier_id)["status"] == "pending"  # nothing was recorded


def test_several_changes_between_two_debits_amend_from_the_account_last_debited(env: tuple[Env, str]) -> None:
    gw, dossier_id = env
    sign(gw, dossier_id, DEBTOR, on="2026-11-24")
    gw.debits("2027-01")  # the bank now knows DEBTOR's account

    def change(iban: str, bic: str) -> dict[str, object] | None:
        return change_debtor_account(gw.store, dossier_id, iban=iban, bic=bic, holder=None, now=SIGNED_AT)

    same_bank = change("FR7630006000000001987654327", "AGRIFRPP")
    assert same_bank == {
        "original_mandate_id": None,
        "original_debtor_iban": DEBTOR["iban"],
        "new_debtor_agent": False,
    }
    # then to another bank before any debit: from the bank's view, the account left AGRIFRPP
    assert change(NEW_BANK["iban"], NEW_BANK["bic"]) == {
        "original_mandate_id": None, "original_debtor_iban": None, "new_debtor_agent": True
    }  # fmt: skip
    assert change(DEBTOR["iban"], DEBTOR["bic"]) is None  # back to the account last debited: nothing to amend
    assert b"AmdmntInd" not in Path(str(gw.debits("2027-02").channel_ref)).read_bytes()
