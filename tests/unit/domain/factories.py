"""Valid transmissions to start from; each rule test changes one thing with dataclasses.replace."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from gateway.domain.transmission import (
    Attachment,
    BankAccount,
    Child,
    DepositAttestation,
    Indexation,
    IndexationMode,
    Intermediation,
    Parent,
    Place,
    Sender,
    SourceKind,
    Title,
    Transmission,
)

TODAY = date(2026, 11, 23)
PDF = b"%PDF-1.4 minimal"


def debtor(**kw: object) -> Parent:
    base = Parent(
        birth_name="MARTIN",
        first_names=("Paul", "Henri"),
        birth_date=date(1985, 4, 12),
        birth_place=Place("Nantes", "FR", "44109"),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def creditor(**kw: object) -> Parent:
    base = Parent(
        birth_name="DURAND",
        usage_name="MARTIN",
        first_names=("Claire",),
        birth_date=date(1987, 9, 3),
        birth_place=Place("Rennes", "FR", "35238"),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def child(amount: str = "150.00", **kw: object) -> Child:
    base = Child(
        birth_name="MARTIN",
        first_names=("Léa",),
        monthly_amount=Decimal(amount),
        effective_date=date(2026, 11, 1),
        birth_date=date(2015, 6, 1),
        indexation=Indexation(IndexationMode.SILENT),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def greffe(**kw: object) -> Transmission:
    base = Transmission(
        source=SourceKind.GREFFE,
        sender=Sender("Tribunal judiciaire de Nantes", code="TJ44109"),
        reference="GR-2026-000123",
        title=Title(
            kind=1,
            nature="jugement de divorce",
            date=date(2026, 11, 18),
            is_divorce=True,
            court="Tribunal judiciaire de Nantes",
            minute_number="26/01234",
        ),
        intermediation=Intermediation.IN_PLACE,
        violence_alleged=False,
        debtor=debtor(),
        creditor=creditor(),
        children=(child("150.00"), child("120.50", first_names=("Hugo",))),
        declared_children_count=2,
        declared_monthly_total=Decimal("270.50"),
        attachments=(Attachment("EXTRAIT_EXECUTOIRE", "application/pdf", PDF),),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def account(**kw: object) -> BankAccount:
    base = BankAccount("Paul MARTIN", "FR7630006000011234567890189", date(2026, 10, 1), bic="AGRIFRPP")
    return replace(base, **kw)  # type: ignore[arg-type]


def notaire(**kw: object) -> Transmission:
    base = greffe(
        source=SourceKind.NOTAIRE,
        sender=Sender("Office notarial du Port", code="44021", email="office@notaires.fr"),
        reference="NOT-2026-77",
        title=Title(kind=4, nature="acte authentique", date=date(2026, 11, 17)),
        debtor=debtor(bank_account=account()),
        creditor=creditor(bank_account=account(holder="Claire DURAND", iban="FR1420041010050500013M02606")),
        bank_details_consent=True,
        children=(child(indexation=None),),
        declared_children_count=1,
        declared_monthly_total=Decimal("150.00"),
        attachments=(
            Attachment("COPIE_EXECUTOIRE", "application/pdf", PDF),
            Attachment("RIB", "application/pdf", PDF),
        ),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def avocat(**kw: object) -> Transmission:
    base = notaire(
        source=SourceKind.AVOCAT,
        sender=Sender("Anne LEGRAND", code="Nantes", email="a.legrand@avocats.fr"),
        reference="AV-2026-0042",
        title=Title(
            kind=3,
            nature="convention de divorce par consentement mutuel",
            date=date(2026, 11, 10),
            deposit_attestation=DepositAttestation("Me Dupont", "44021", date(2026, 11, 18)),
        ),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def with_title(t: Transmission, **kw: object) -> Transmission:
    return replace(t, title=replace(t.title, **kw))  # type: ignore[arg-type]
