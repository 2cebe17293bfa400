"""Avocat JSON: schema errors with JSON paths, nullable optional keys, base64 content, impossible dates."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gateway.adapters import adapter_for
from gateway.adapters.jsoncheck import MAX_VALUES
from gateway.errors import RuleViolation, SchemaViolation
from tests.unit.adapters.helpers import avocat_doc, failure, found, json_bytes

SV = "schema-violation"
Doc = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return apply


def _delete(path: str) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return apply


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_delete("titre.date"), "titre.date"),
        (_delete("reference_envoi"), "reference_envoi"),
        (_delete("titre.attestation_depot.crpcen"), "titre.attestation_depot.crpcen"),
        (_delete("enfants.1.date_effet"), "enfants[1].date_effet"),
        (_set("totaux.nombre_enfants", "2"), "totaux.nombre_enfants"),
        (_set("enfants.0.montant_mensuel", 175.5), "enfants[0].montant_mensuel"),
        (_set("enfants.0.montant_mensuel", "175,00"), "enfants[0].montant_mensuel"),
        (_set("titre.type", 7), "titre.type"),
        (_set("titre.type", "3"), "titre.type"),
        (_set("titre.violences", "non"), "titre.violences"),
        (_set("titre.date", "2026-11-06\n"), "titre.date"),
        (_set("titre.date", "2026-11-0٦"), "titre.date"),  # an Arabic-Indic digit is not [0-9]
        (_set("titre.intermediation", "ECARTEE_JUGE"), "titre.intermediation"),
        (_set("version", 2), "version"),
        (_set("debiteur.surnom", "Nico"), "debiteur.surnom"),
        (_set("extra", 1), "extra"),
        (_set("creancier.nom_naissance", None), "creancier.nom_naissance"),
        (_set("creancier.nom_naissance", " Girard"), "creancier.nom_naissance"),
        (_set("debiteur.prenoms", []), "debiteur.prenoms"),
        (_set("debiteur.adresse", "27 quai de la Fosse"), "debiteur.adresse"),
        (_set("debiteur.adresse.pays", "France"), "debiteur.adresse.pays"),
        (
            _set("debiteur.coordonnees_bancaires.iban", "FR76 3000 4000"),
            "debiteur.coordonnees_bancaires.iban",
        ),
        (_set("debiteur.coordonnees_bancaires.swift", "BNPAFRPP"), "debiteur.coordonnees_bancaires.swift"),
        (_set("pieces_jointes.0.type", "EXTRAIT_EXECUTOIRE"), "pieces_jointes[0].type"),
        (_set("pieces_jointes.1.contenu", "pas du base64!"), "pieces_jointes[1].contenu"),
        (_set("pieces_jointes.1.contenu", "JVBE\nRi0x"), "pieces_jointes[1].contenu"),
        (_set("enfants", []), "enfants"),
    ],
)
def test_schema_violation_has_the_json_path(change: Callable[[Doc], None], field: str) -> None:
    doc = avocat_doc()
    change(doc)
    assert found("avocat", json_bytes(doc)) == [(SV, field)]


def test_not_an_object() -> None:
    assert found("avocat", b"[1, 2]") == [(SV, "")]


def test_every_error_is_listed_and_no_value_is_quoted() -> None:
    doc = avocat_doc()
    doc["debiteur"]["nom_naissance"] = "Petit" * 30
    doc["debiteur"]["date_naissance"] = "05/02/1983"
    doc["titre"]["violences"] = "oui"
    doc["creancier"]["coordonnees_bancaires"]["iban"] = "fr1420041010050500013m02606"
    error = failure("avocat", json_bytes(doc))
    assert isinstance(error, SchemaViolation)
    assert sorted(i.field for i in error.issues) == [
        "creancier.coordonnees_bancaires.iban",
        "debiteur.date_naissance",
        "debiteur.nom_naissance",
        "titre.violences",
    ]
    shown = " ".join(f"{i.field} {i.message}" for i in error.issues) + str(error)
    for value in ("PetitPetit", "05/02/1983", "oui", "fr1420041010050500013m02606"):
        assert value not in shown


def test_optional_keys_may_be_absent_or_null() -> None:
    doc = avocat_doc()
    for key in (
        "nom_usage",
        "nir",
        "regime_agricole",
        "adresse",
        "telephone",
        "courriel",
        "coordonnees_bancaires",
    ):
        doc["debiteur"][key] = None
        doc["creancier"].pop(key, None)
    doc["titre"]["violences"] = None
    del doc["titre"]["date_fin"]
    del doc["consentement_coordonnees_bancaires"]
    doc["enfants"][0]["lieu_naissance"] = None
    parsed = adapter_for("avocat").parse(json_bytes(doc))
    assert parsed.debtor.bank_account is None
    assert parsed.creditor.address is None
    assert parsed.violence_alleged is False  # absent or null: not produced by the creditor
    assert parsed.bank_details_consent is None
    assert parsed.end_date is None
    assert parsed.children[0].birth_place is None


def test_kind_specific_fields_are_left_to_the_rules() -> None:
    # a kind-6 title with a deposit attestation passes the schema; field-not-allowed is a rule
    doc = avocat_doc()
    doc["titre"]["type"] = 6
    doc["titre"]["date_formule_executoire"] = "2026-11-19"
    parsed = adapter_for("avocat").parse(json_bytes(doc))
    assert parsed.title.kind == 6
    assert parsed.title.deposit_attestation is not None
    assert parsed.title.executory_formula_date == dt.date(2026, 11, 19)


def test_a_title_kind_the_avocat_may_not_send_reaches_the_rules() -> None:
    doc = avocat_doc()
    doc["titre"]["type"] = 1
    assert adapter_for("avocat").parse(json_bytes(doc)).title.kind == 1


def test_impossible_dates_are_invalid_date_with_their_paths() -> None:
    doc = avocat_doc()
    doc["titre"]["attestation_depot"]["date"] = "2026-11-31"
    doc["enfants"][1]["date_naissance"] = "2018-02-30"
    doc["creancier"]["coordonnees_bancaires"]["date_rib"] = "2026-00-10"
    error = failure("avocat", json_bytes(doc))
    assert isinstance(error, RuleViolation)
    assert [(str(i.code), i.field) for i in error.issues] == [
        ("invalid-date", "titre.attestation_depot.date"),
        ("invalid-date", "creancier.coordonnees_bancaires.date_rib"),
        ("invalid-date", "enfants[1].date_naissance"),
    ]


def test_maps_every_key() -> None:
    t = adapter_for("avocat").parse(json_bytes(avocat_doc()))
    assert (t.sender.name, t.sender.code, t.sender.email) == (
        "Claire Bernard",
        "Nantes",
        "c.bernard@avocats-nantes.example.fr",
    )
    assert t.reference == "AV-2026-0042"
    assert t.title.deposit_attestation is not None
    assert t.title.deposit_attestation.crpcen == "44021"
    assert t.title.deposit_attestation.date == dt.date(2026, 11, 17)
    assert t.title.is_divorce is None
    assert t.title.court is None
    assert t.title.minute_number is None
    assert t.debtor.bank_account is not None
    assert t.debtor.bank_account.rib_date == dt.date(2026, 10, 29)
    assert t.creditor.usage_name == "Petit"
    assert t.creditor.address is not None
    assert t.creditor.address.lines == ("Résidence Les Mauves", "14 rue Paul Bellamy")
    assert all(c.indexation is None for c in t.children)
    assert t.children[1].first_names == ("Chloé", "Marie")
    assert (t.declared_children_count, t.declared_monthly_total) == (2, Decimal("350.00"))
    assert [a.kind for a in t.attachments] == ["COPIE_EXECUTOIRE", "ATTESTATION_DEPOT", "RIB"]
    assert t.attachments[0].content.startswith(b"%PDF-1.4")


def test_a_document_with_an_absurd_number_of_values_is_refused_before_validation() -> None:
    doc = avocat_doc()
    doc["enfants"] = [dict(doc["enfants"][0]) for _ in range(MAX_VALUES // 5)]
    started = time.perf_counter()
    # the hardened parser's shape limits (TITLE_LIMITS) cut it before the schema is even tried
    assert found("avocat", json_bytes(doc)) == [("limit-exceeded", "")]
    assert time.perf_counter() - started < 2


def test_a_document_with_many_children_is_validated_whole() -> None:
    doc = avocat_doc()
    doc["enfants"] = [dict(doc["enfants"][0]) for _ in range(99)]
    doc["enfants"][98]["montant_mensuel"] = 175
    assert found("avocat", json_bytes(doc)) == [(SV, "enfants[98].montant_mensuel")]
