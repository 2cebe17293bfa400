"""The adapter registry, and canonical field paths translated into each source's own paths."""

from __future__ import annotations

import pytest

from gateway.adapters import Adapter, adapter_for
from gateway.adapters.avocat import AvocatAdapter
from gateway.adapters.greffe import GreffeAdapter
from gateway.adapters.notaire import NotaireAdapter
from gateway.adapters.paths import PathTable, json_path
from gateway.domain.transmission import SourceKind


@pytest.mark.parametrize(
    ("canonical", "expected"),
    [
        ("reference", "Emetteur/ReferenceEnvoi"),
        ("title.kind", "Decision/TypeTitre"),
        ("title.nature", "Decision/Nature"),
        ("title.date", "Decision/Date"),
        ("title.is_divorce", "Decision/Divorce"),
        ("title.court", "Emetteur/Juridiction"),
        ("title.minute_number", "Decision/NumeroMinute"),
        ("title.reinstatement", "Decision/Retablissement"),
        ("intermediation", "Decision/Intermediation"),
        ("violence_alleged", "Decision/Violences"),
        ("end_date", "Decision/DateFin"),
        ("debtor", "Debiteur"),
        ("creditor", "Creancier"),
        ("debtor.birth_date", "Debiteur/DateNaissance"),
        ("creditor.birth_name", "Creancier/NomNaissance"),
        ("creditor.first_names", "Creancier/Prenoms"),
        ("debtor.nir", "Debiteur/NIR"),
        ("debtor.birth_place.country", "Debiteur/LieuNaissance/Pays"),
        ("children[0]", "Enfants/Enfant[1]"),
        ("children[1].monthly_amount", "Enfants/Enfant[2]/MontantMensuel"),
        ("children[2].effective_date", "Enfants/Enfant[3]/DateEffet"),
        ("children[0].birth_date", "Enfants/Enfant[1]/DateNaissance"),
        ("children[0].indexation.index_type", "Enfants/Enfant[1]/Revalorisation/Indice/@type"),
        ("children[3].indexation.index_value", "Enfants/Enfant[4]/Revalorisation/Indice/@valeur"),
        ("children[0].indexation.first_revaluation_date", "Enfants/Enfant[1]/Revalorisation/DatePremiere"),
        ("totals.children_count", "Totaux/NombreEnfants"),
        ("totals.monthly_total", "Totaux/MontantTotal"),
        ("attachments", "PiecesJointes"),
        # not in the greffe format: the canonical path is returned unchanged
        ("title.deposit_attestation", "title.deposit_attestation"),
        ("bank_details_consent", "bank_details_consent"),
        ("debtor.bank_account.iban", "debtor.bank_account.iban"),
        ("no.such[3].path", "no.such[3].path"),
    ],
)
def test_greffe(canonical: str, expected: str) -> None:
    assert adapter_for("greffe").field_path(canonical) == expected


@pytest.mark.parametrize(
    ("canonical", "expected"),
    [
        ("reference", "Office/ReferenceEnvoi"),
        ("title.kind", "Acte/TypeTitre"),
        ("title.date", "Acte/Date"),
        ("title.nature", "Acte/Nature"),
        ("intermediation", "Acte/Intermediation"),
        ("violence_alleged", "Acte/Violences"),
        ("end_date", "Acte/DateFin"),
        ("bank_details_consent", "ConsentementCoordonneesBancaires"),
        ("debtor.bank_account", "Debiteur/CoordonneesBancaires"),
        ("debtor.bank_account.iban", "Debiteur/CoordonneesBancaires/IBAN"),
        ("creditor.bank_account.bic", "Creancier/CoordonneesBancaires/BIC"),
        ("creditor.bank_account.rib_date", "Creancier/CoordonneesBancaires/DateRIB"),
        ("creditor.nir", "Creancier/NIR"),
        ("children[1].monthly_amount", "Enfants/Enfant[2]/MontantMensuel"),
        ("children[0].birth_date", "Enfants/Enfant[1]/DateNaissance"),
        ("totals.monthly_total", "Totaux/MontantTotal"),
        ("attachments", "PiecesJointes"),
        ("title.minute_number", "title.minute_number"),
        ("children[0].indexation.index_type", "children[0].indexation.index_type"),
    ],
)
def test_notaire(canonical: str, expected: str) -> None:
    assert adapter_for("notaire").field_path(canonical) == expected


@pytest.mark.parametrize(
    ("canonical", "expected"),
    [
        ("reference", "reference_envoi"),
        ("title.kind", "titre.type"),
        ("title.date", "titre.date"),
        ("title.deposit_attestation", "titre.attestation_depot"),
        ("title.deposit_attestation.date", "titre.attestation_depot.date"),
        ("title.executory_formula_date", "titre.date_formule_executoire"),
        ("intermediation", "titre.intermediation"),
        ("violence_alleged", "titre.violences"),
        ("end_date", "titre.date_fin"),
        ("bank_details_consent", "consentement_coordonnees_bancaires"),
        ("debtor", "debiteur"),
        ("creditor.birth_date", "creancier.date_naissance"),
        ("debtor.first_names", "debiteur.prenoms"),
        ("debtor.nir", "debiteur.nir"),
        ("debtor.bank_account", "debiteur.coordonnees_bancaires"),
        ("debtor.bank_account.iban", "debiteur.coordonnees_bancaires.iban"),
        ("creditor.bank_account.rib_date", "creancier.coordonnees_bancaires.date_rib"),
        ("children[0]", "enfants[0]"),
        ("children[0].monthly_amount", "enfants[0].montant_mensuel"),
        ("children[1].monthly_amount", "enfants[1].montant_mensuel"),
        ("children[2].effective_date", "enfants[2].date_effet"),
        ("children[1].birth_date", "enfants[1].date_naissance"),
        ("totals.children_count", "totaux.nombre_enfants"),
        ("totals.monthly_total", "totaux.montant_total"),
        ("attachments", "pieces_jointes"),
        ("title.court", "title.court"),
    ],
)
def test_avocat(canonical: str, expected: str) -> None:
    assert adapter_for("avocat").field_path(canonical) == expected


def test_table_fills_every_index_with_its_base() -> None:
    table = PathTable({"a[].b[].c": "A/B[]/C[]/D"}, index_base=1)
    assert table.translate("a[0].b[4].c") == "A/B[1]/C[5]/D"
    assert table.translate("a[0].b.c") == "a[0].b.c"


def test_json_path() -> None:
    assert json_path(["enfants", 1, "montant_mensuel"]) == "enfants[1].montant_mensuel"
    assert json_path([]) == ""
    assert json_path([0, "x"]) == "[0].x"


def test_unknown_source() -> None:
    with pytest.raises(ValueError):
        adapter_for("huissier")


# mypy checks here that each adapter satisfies the Adapter protocol
CONFORMING: tuple[Adapter, ...] = (GreffeAdapter(), NotaireAdapter(), AvocatAdapter())


@pytest.mark.parametrize("source", list(SourceKind))
def test_registry_gives_each_source_its_adapter(source: SourceKind) -> None:
    adapter = adapter_for(source.value)
    assert adapter.source is source
    assert adapter is adapter_for(source)
    expected = ("application/json",) if source is SourceKind.AVOCAT else ("application/xml", "text/xml")
    assert adapter.media_types == expected
