"""Small deterministic SEPA inputs shared by the writer, golden and rule tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from lxml import etree

from gateway.sepa import ids
from gateway.sepa.model import (
    Amendment,
    CreditTransfer,
    DirectDebit,
    Fund,
    MessageHeader,
    PostalAddress,
    SequenceType,
)

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "schemas" / "iso20022"
GOLDEN = ROOT / "tests" / "golden" / "sepa"

# the fund's own address (written only in a batch with a party banking outside the EEA)
FUND_ADDRESS = PostalAddress("FR", "Paris", "75015", "Rue de la Demo", "1")
FUND = Fund("CAF DEMO ARIPA", "FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP", "FR72ZZZ123456", FUND_ADDRESS)
CREATED = datetime(2026, 10, 27, 9, 30, tzinfo=UTC)
DEBIT_HEADER = MessageHeader(ids.message_id("run-2026-11", "DD", date(2026, 11, 1)), CREATED)
CREDIT_HEADER = MessageHeader(ids.message_id("run-2026-11", "CT", date(2026, 11, 3)), CREATED)
PERIOD = "2026-11"
SIGNED = date(2026, 9, 14)

T = TypeVar("T")


def debit(dossier: str = "D-0001", **changes: object) -> DirectDebit:
    """A valid RCUR debit; keyword arguments replace fields."""
    values: dict[str, object] = {
        "end_to_end_id": ids.end_to_end_id(dossier, "DD", PERIOD),
        "amount_cents": 15_000,
        "mandate_id": ids.mandate_reference(dossier),
        "mandate_signed_on": SIGNED,
        "sequence": SequenceType.RCUR,
        "collection_date": date(2026, 11, 2),
        "debtor_name": "Jean Martin",
        "debtor_iban": "FR7630006000011234567890189",
        "debtor_bic": "AGRIFRPP",
        "remittance": f"Pension alimentaire {PERIOD}",
    }
    values.update(changes)
    return DirectDebit(**values)  # type: ignore[arg-type]


def credit(dossier: str = "D-0001", **changes: object) -> CreditTransfer:
    """A valid ALMY payout; keyword arguments replace fields."""
    values: dict[str, object] = {
        "end_to_end_id": ids.end_to_end_id(dossier, "CT", PERIOD),
        "amount_cents": 15_000,
        "execution_date": date(2026, 11, 3),
        "creditor_name": "Marie Dupont",
        "creditor_iban": "DE89370400440532013000",
        "creditor_bic": "COBADEFFXXX",
        "remittance": f"Pension alimentaire {PERIOD}",
    }
    values.update(changes)
    return CreditTransfer(**values)  # type: ignore[arg-type]


def golden_debits() -> list[DirectDebit]:
    """A small run covering every branch of the writer: FRST and RCUR, two dates, accents,
    no BIC (NOTPROVIDED), a structured address, both kinds of amendment, no remittance."""
    return [
        debit("D-0001", sequence=SequenceType.FRST, debtor_name="Zoë Lefèvre-Œdipe"),
        debit("D-0002", sequence=SequenceType.FRST, debtor_bic=None, amount_cents=1),
        debit(
            "D-0003",
            debtor_name="Jürgen Straße & Söhne",
            debtor_iban="DE89370400440532013000",
            debtor_bic="COBADEFFXXX",
            debtor_address=PostalAddress("DE", "Berlin", "10115", "Hauptstraße", "5a"),
        ),
        debit(
            "D-0004",
            amount_cents=99_999_999_999,
            amendment=Amendment(original_debtor_iban="FR1420041010050500013M02606"),
        ),
        debit(
            "D-0005",
            collection_date=date(2026, 11, 10),
            remittance=None,
            amendment=Amendment(
                original_mandate_id=ids.mandate_reference("D-0005-old"), new_debtor_agent=True
            ),
        ),
        debit("D-0006", collection_date=date(2026, 11, 10), amount_cents=48_550),
    ]


def golden_credits() -> list[CreditTransfer]:
    """Payouts on two execution dates, one without BIC, one with an address."""
    return [
        credit("D-0001", creditor_name="Éloïse Garçon"),
        credit("D-0002", creditor_bic=None, amount_cents=1),
        credit(
            "D-0003",
            execution_date=date(2026, 11, 4),
            creditor_address=PostalAddress("FR", "Lyon", "69002", "Rue de la République", "12"),
            amount_cents=99_999_999_999,
        ),
    ]


def source(items: Sequence[T]) -> Callable[[], Iterator[T]]:
    """A re-readable source over a list (the writers read it twice)."""
    return lambda: iter(items)


def xmllint(path: Path, version: str) -> subprocess.CompletedProcess[str]:
    """The real `xmllint --noout --schema <official xsd> file`."""
    return subprocess.run(
        ["xmllint", "--noout", "--schema", str(SCHEMAS / f"{version}.xsd"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def texts(node: etree._Element | etree._ElementTree, path: str) -> list[str]:
    """XPath text results under the message's default namespace, prefix `p`."""
    root = node.getroot() if isinstance(node, etree._ElementTree) else node
    result = node.xpath(path, namespaces={"p": root.nsmap[None] or ""})
    assert isinstance(result, list)
    return [str(item) for item in result]


def elements(node: etree._Element | etree._ElementTree, path: str) -> list[etree._Element]:
    """XPath element results under the message's default namespace, prefix `p`."""
    root = node.getroot() if isinstance(node, etree._ElementTree) else node
    result = node.xpath(path, namespaces={"p": root.nsmap[None] or ""})
    assert isinstance(result, list)
    return [item for item in result if isinstance(item, etree._Element)]
