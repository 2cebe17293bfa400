"""The golden inputs of each source parse into the expected Transmission and pass the rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.adapters import adapter_for
from gateway.domain import rules
from gateway.domain.transmission import (
    Attachment,
    Child,
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
from tests.support.sources import render
from tests.unit.adapters.helpers import EXAMPLES, GOLDEN

TODAY = dt.date(2026, 11, 23)
LATE = {
    "reinstatement-msa-late.xml",
    "deed-violence-late.xml",
    "divorce-msa-violence-late.json",
    "deed-violence-joint-refusal.xml",  # copies of the two above with a joint refusal
    "divorce-violence-joint-refusal.json",
}


def inputs(source: SourceKind) -> list[Path]:
    """The golden inputs of a source (the lead's `*.expected.json` canonical outputs sit beside them)."""
    suffix = ".json" if source is SourceKind.AVOCAT else ".xml"
    found = (GOLDEN / source.value).glob(f"*{suffix}")
    return sorted(p for p in found if not p.name.endswith(".expected.json"))


INPUTS = [p for source in SourceKind for p in inputs(source)]
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def parse(path: Path) -> Transmission:
    return adapter_for(path.parent.name).parse(path.read_bytes())


def test_there_are_at_least_three_inputs_per_source() -> None:
    for source in SourceKind:
        assert len(inputs(source)) >= 3


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_input_passes_the_rules_and_only_the_late_one_is_late(path: Path) -> None:
    found = rules.check(parse(path), TODAY)
    assert [i for i in found if i.severity == "error"] == []
    late = any(i.code == "late-transmission" for i in found)
    assert late == (path.name in LATE)


@pytest.mark.parametrize("path", [*INPUTS, *sorted(EXAMPLES.glob("*-1.*"))], ids=lambda p: p.name)
def test_parse_render_parse_is_stable(path: Path) -> None:
    first = (
        parse(path)
        if path.parent != EXAMPLES
        else adapter_for(path.name.split("-")[0]).parse(path.read_bytes())
    )
    assert adapter_for(first.source).parse(render(first)) == first


def test_greffe_minimal() -> None:
    assert parse(GOLDEN / "greffe" / "ordonnance-minimal.xml") == Transmission(
        source=SourceKind.GREFFE,
        sender=Sender(name="Tribunal judiciaire de Rennes"),
        reference="TJR-2026-11-0093",
        title=Title(
            kind=1,
            nature="ordonnance du juge aux affaires familiales",
            date=dt.date(2026, 11, 19),
            is_divorce=False,
            court="Tribunal judiciaire de Rennes",
            minute_number="26/02210",
            reinstatement=False,
        ),
        intermediation=Intermediation.IN_PLACE,
        violence_alleged=False,
        debtor=Parent(
            birth_name="Robert",
            first_names=("Kevin",),
            birth_date=dt.date(1994, 10, 3),
            birth_place=Place(commune="Rennes", country="FR"),
        ),
        creditor=Parent(
            birth_name="Le Gall",
            first_names=("Morgane",),
            birth_date=dt.date(1996, 1, 27),
            birth_place=Place(commune="Quimper", country="FR"),
        ),
        children=(
            Child(
                birth_name="Le Gall",
                first_names=("Nolan",),
                monthly_amount=Decimal("120.00"),
                effective_date=dt.date(2026, 12, 1),
                indexation=Indexation(mode=IndexationMode.EXCLUDED),
            ),
        ),
        declared_children_count=1,
        declared_monthly_total=Decimal("120.00"),
        bank_details_consent=None,
        attachments=(),
    )


def test_greffe_reinstatement_msa() -> None:
    t = parse(GOLDEN / "greffe" / "reinstatement-msa-late.xml")
    assert t.sender == Sender(name="Tribunal judiciaire d'Angers", code="TJ-49007")
    assert t.title.court == "Tribunal judiciaire d'Angers"
    assert t.title.reinstatement is True
    assert t.title.minute_number == "RG 26/00412"
    assert t.violence_alleged is True
    assert t.end_date == dt.date(2038, 8, 31)
    assert t.debtor.agricultural_scheme is True
    assert t.creditor.agricultural_scheme is None
    assert t.creditor.birth_place == Place(commune="Dakar", country="SN")
    assert [c.indexation.mode for c in t.children if c.indexation] == [
        IndexationMode.EXCLUDED,
        IndexationMode.INDEXED,
        IndexationMode.SILENT,
    ]
    assert t.children[1].indexation == Indexation(
        mode=IndexationMode.INDEXED,
        index_type="INSEE-001763852",
        index_value=Decimal("119.62"),
        first_revaluation_date=dt.date(2027, 11, 15),
    )
    assert (t.declared_children_count, t.declared_monthly_total) == (3, Decimal("301.00"))
    assert [a.kind for a in t.attachments] == ["EXTRAIT_EXECUTOIRE", "AVIS_SIGNIFICATION"]
    assert t.attachments[0] == Attachment("EXTRAIT_EXECUTOIRE", "application/pdf", PDF)


def test_greffe_approved_agreement() -> None:
    t = parse(GOLDEN / "greffe" / "approved-agreement.xml")
    assert (t.title.kind, t.title.is_divorce, t.title.nature) == (2, False, "convention homologuée")
    assert t.debtor.nir == "190086912312380"
    assert t.creditor.birth_place == Place(commune="Ajaccio", country="FR", insee_code="2A004")
    assert t.children[0].indexation is not None
    assert t.children[0].indexation.rounding == "au centime inférieur"


def test_notaire_minimal() -> None:
    assert parse(GOLDEN / "notaire" / "deed-minimal.xml") == Transmission(
        source=SourceKind.NOTAIRE,
        sender=Sender(name="SCP Rousseau et Associés", code="35012", email="scp.rousseau@notaires.fr"),
        reference="SCPR-2026-1120",
        title=Title(
            kind=4,
            nature="acte authentique de contribution à l'entretien des enfants",
            date=dt.date(2026, 11, 20),
        ),
        intermediation=Intermediation.IN_PLACE,
        violence_alleged=False,
        debtor=Parent(
            birth_name="Bernard",
            first_names=("Olivier",),
            birth_date=dt.date(1978, 9, 12),
            birth_place=Place(commune="Bruxelles", country="BE"),
        ),
        creditor=Parent(
            birth_name="Leroy",
            first_names=("Nathalie",),
            birth_date=dt.date(1980, 2, 29),
            birth_place=Place(commune="Rennes", country="FR"),
        ),
        children=tuple(
            Child(
                birth_name="Bernard",
                first_names=(name,),
                monthly_amount=Decimal("140.00"),
                effective_date=dt.date(2026, 12, 1),
            )
            for name in ("Lucas", "Manon")
        ),
        declared_children_count=2,
        declared_monthly_total=Decimal("280.00"),
        bank_details_consent=None,
        attachments=(Attachment("COPIE_EXECUTOIRE", "application/pdf", PDF),),
    )


def test_notaire_bank_details() -> None:
    t = parse(GOLDEN / "notaire" / "deed-bank-details-msa.xml")
    assert t.sender == Sender(
        name="Office notarial de la Cathédrale",
        code="44021",
        email="office.cathedrale@notaires.fr",
        phone="02 40 12 34 56",
    )
    assert t.bank_details_consent is True
    assert t.debtor.bank_account is not None
    assert t.creditor.bank_account is not None
    assert (t.debtor.bank_account.iban, t.debtor.bank_account.bic) == (
        "FR7630006000011234567890189",
        "AGRIFRPP",
    )
    assert t.creditor.bank_account.rib_date == dt.date(2026, 10, 30)
    assert t.debtor.agricultural_scheme is True
    assert all(c.indexation is None for c in t.children)


def test_notaire_one_bank_account_and_violence() -> None:
    t = parse(GOLDEN / "notaire" / "deed-violence-late.xml")
    assert t.violence_alleged is True
    assert t.debtor.bank_account is None
    assert t.creditor.bank_account is not None
    assert t.creditor.bank_account.iban.startswith("DE")
    assert t.attachments[1].media_type == "image/jpeg"
    assert t.attachments[1].content.startswith(b"\xff\xd8")


def test_avocat_minimal_kind_6() -> None:
    t = parse(GOLDEN / "avocat" / "mediation-agreement-minimal.json")
    assert t.sender == Sender(name="Marc Lambert", code="Rennes", email="m.lambert@barreau-rennes.example.fr")
    assert t.title == Title(
        kind=6,
        nature="accord issu d'une médiation conventionnelle",
        date=dt.date(2026, 11, 3),
        executory_formula_date=dt.date(2026, 11, 19),
    )
    assert t.violence_alleged is False
    assert t.end_date is None
    assert t.bank_details_consent is None
    assert t.debtor == Parent(
        birth_name="Garnier",
        first_names=("Antoine",),
        birth_date=dt.date(1992, 7, 7),
        birth_place=Place(commune="Vannes", country="FR"),
    )


def test_avocat_kind_3_with_nulls() -> None:
    t = parse(GOLDEN / "avocat" / "divorce-msa-violence-late.json")
    assert t.title.deposit_attestation is not None
    assert t.title.deposit_attestation.date == dt.date(2026, 11, 5)
    assert t.title.executory_formula_date is None
    assert t.sender.phone is None
    assert t.sender.name == "Hélène Da Silva"
    assert t.debtor.agricultural_scheme is True
    assert t.debtor.email is None
    assert t.debtor.nir is None
    assert t.bank_details_consent is False
    assert [c.monthly_amount for c in t.children] == [Decimal("200.00"), Decimal("180.00"), Decimal("150.00")]
