"""A debtor banking in Switzerland on a real store: the collection file carries the address the
title gave, in the hybrid form, and the BIC (SDD Core rulebook 2025 AT-09/AT-13); without an
address the debit is refused and reported, the others are collected. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from gateway.errors import Code, RuleViolation
from gateway.sepa.addresses import from_json
from gateway.services.collection import run_debits
from gateway.services.intake import receive
from gateway.services.mandates import sign_mandate
from gateway.services.payout import _creditor_address
from gateway.services.records import PayoutAccountRow
from gateway.store import schema
from gateway.store.payments import SqlPayments
from tests.integration.sepa.test_runs import EXAMPLES, FUND, NS8, RECEIVED, RUN_AT, Env, env, xmllint
from tests.pg import postgres_server, postgres_url
from tests.unit.sepa.test_addresses import xmllint_stream

__all__ = ["env", "postgres_server", "postgres_url"]

SWISS_IBAN, SWISS_BIC = "CH9300762011623852957", "UBSWCHZH80A"


def _greffe_dossier(env: Env) -> str:
    """The fixture's greffe title (no mandate yet): sent again, it answers with its dossier."""
    result = receive(env.intake, "greffe", (EXAMPLES / "greffe-1.xml").read_bytes(), sender="test")
    assert result.outcome == "duplicate"
    return str(result.receipt.dossier_id)


def _sign_swiss(env: Env, dossier_id: str) -> None:
    sign_mandate(
        env.store, dossier_id, holder="Paul Durand", iban=SWISS_IBAN, bic=SWISS_BIC,
        signed_on=RECEIVED.date().isoformat(), method="paper", debit_day=10, now=RECEIVED,
    )  # fmt: skip


def test_a_swiss_debtor_is_collected_with_the_titles_address_and_the_bic(env: Env) -> None:
    """# SDD Core rulebook 2025 AT-09/AT-13: non-EEA debtor bank -> address and BIC."""
    dossier_id = _greffe_dossier(env)
    _sign_swiss(env, dossier_id)
    report = env.debits("2026-12")
    assert report.refused == []
    assert report.count == 3
    sent = Path(str(report.channel_ref))
    xmllint(sent, "pain.008.001.08.xsd")
    assert xmllint_stream(sent, "pain.008.001.08").returncode == 0
    root = etree.parse(str(sent)).getroot()
    swiss = [
        tx
        for tx in root.iterfind(".//p:DrctDbtTxInf", NS8)
        if tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS8) == SWISS_IBAN
    ]
    assert len(swiss) == 1
    assert swiss[0].findtext("p:DbtrAgt/p:FinInstnId/p:BICFI", namespaces=NS8) == SWISS_BIC
    address = swiss[0].find("p:Dbtr/p:PstlAdr", NS8)
    assert address is not None
    assert [(child.tag.split("}")[1], child.text) for child in address] == [
        ("PstCd", "44000"),
        ("TwnNm", "Nantes"),
        ("Ctry", "FR"),
        ("AdrLine", "12 rue de la Fosse"),
    ]
    # the other (French) debtors carry no address: not required, so not written
    assert len(root.findall(".//p:Dbtr/p:PstlAdr", NS8)) == 1
    # SDD Core rulebook 2025 AT-05: the fund's own address in the Swiss debtor's batch only
    swiss_batch = swiss[0].getparent()
    assert swiss_batch is not None
    fund_address = swiss_batch.find("p:Cdtr/p:PstlAdr", NS8)
    assert fund_address is not None
    assert [(c.tag.split("}")[1], c.text) for c in fund_address] == [
        ("StrtNm", "Rue de la Demo"), ("BldgNb", "1"), ("PstCd", "75015"), ("TwnNm", "Paris"), ("Ctry", "FR"),
    ]  # fmt: skip
    others = [b for b in root.iterfind(".//p:PmtInf", NS8) if b is not swiss_batch]
    assert all(b.find("p:Cdtr/p:PstlAdr", NS8) is None for b in others)


def test_without_the_funds_address_a_swiss_debtor_stops_the_run_and_nothing_is_kept(env: Env) -> None:
    """# SDD Core rulebook 2025 AT-05: refused with `sepa-fund-address-required`, the run's
    transaction rolled back (no debit recorded, no file sent); with the address it goes through."""
    dossier_id = _greffe_dossier(env)
    _sign_swiss(env, dossier_id)
    with pytest.raises(RuleViolation) as caught:
        run_debits(
            env.store, period="2026-12", fund=dataclasses.replace(FUND, address=None), created_at=RUN_AT,
            staging_dir=env.tmp / "staging", signer=env.signer, archive=env.archive, channel=env.channel,
        )  # fmt: skip
    assert (caught.value.code, caught.value.field) == (Code.SEPA_FUND_ADDRESS_REQUIRED, "fund.address")
    assert not (env.tmp / "outbound").exists() or not any((env.tmp / "outbound").iterdir())
    with env.store.read() as uow:
        assert uow.connection.execute(select(func.count()).select_from(schema.debits)).scalar() == 0
    assert env.debits("2026-12").count == 3


def test_a_swiss_debtor_without_an_address_is_refused_and_the_others_collected(env: Env) -> None:
    title = json.loads((EXAMPLES / "avocat-1.json").read_text())
    title["debiteur"].pop("adresse")
    title["reference_envoi"] = "AV-2026-0043"  # another title: another dossier
    title["titre"]["date"] = "2026-11-05"
    dossier_id = env.ingest("avocat", json.dumps(title).encode())
    _sign_swiss(env, dossier_id)
    report = env.debits("2026-12")
    assert [(i.code, i.field) for i in report.refused] == [
        (Code.SEPA_ADDRESS_REQUIRED, f"dossiers[{dossier_id}].debtor_address")
    ]
    assert report.skipped["refused by the EPC rules"] == 1
    assert report.count == 2  # the notaire's and the avocat's first titles


def test_a_payout_account_outside_the_eea_takes_the_creditors_address(env: Env) -> None:
    """# SCT rulebook 2025 AT-22: the beneficiary's address when its bank is non-EEA."""
    dossier_id = _greffe_dossier(env)
    account = PayoutAccountRow(
        dossier_id, "Claire Durand", "MC5811222000010123456789030", "SGBTMCMCXXX", RECEIVED
    )
    french = PayoutAccountRow(dossier_id, "Claire Durand", "FR7630006000011234567890189", None, RECEIVED)
    with env.store.read() as uow:
        payments = SqlPayments(uow.connection)
        stored = from_json(_creditor_address(payments, dossier_id, account))
        assert _creditor_address(payments, dossier_id, french) is None
    assert stored is not None
    assert (stored.town, stored.postcode, stored.country) == ("Nantes", "44000", "FR")
    assert stored.lines == ("Appartement 4", "3 boulevard Guist'hau")
