"""Avocat adapter: lawyers' JSON (docs/contract.md "Avocat"; R. 582-4-1 CSS; kinds 3, 6) -> Transmission."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from gateway.adapters.jsoncheck import schema_issues
from gateway.adapters.paths import PathTable, nest
from gateway.domain.transmission import (
    Address,
    Attachment,
    BankAccount,
    Child,
    DepositAttestation,
    Intermediation,
    Parent,
    Place,
    Sender,
    SourceKind,
    Title,
    Transmission,
)
from gateway.errors import Code, Issue, MalformedPayload, RuleViolation, SchemaViolation
from gateway.safeparse import DEFAULT_MAX_BYTES, TITLE_LIMITS, parse_json

PLACE = {"commune": "commune", "insee_code": "code_insee", "country": "pays"}
ADDRESS = {"lines": "lignes", "postal_code": "code_postal", "commune": "commune", "country": "pays"}
BANK_ACCOUNT = {"holder": "titulaire", "iban": "iban", "bic": "bic", "rib_date": "date_rib"}
PARENT = {
    "birth_name": "nom_naissance",
    "usage_name": "nom_usage",
    "first_names": "prenoms",
    "birth_date": "date_naissance",
    **nest("birth_place", "lieu_naissance", PLACE, "."),
    "nir": "nir",
    "agricultural_scheme": "regime_agricole",
    **nest("address", "adresse", ADDRESS, "."),
    "phone": "telephone",
    "email": "courriel",
    **nest("bank_account", "coordonnees_bancaires", BANK_ACCOUNT, "."),
}
CHILD = {
    "birth_name": "nom_naissance",
    "first_names": "prenoms",
    "birth_date": "date_naissance",
    **nest("birth_place", "lieu_naissance", PLACE, "."),
    "monthly_amount": "montant_mensuel",
    "effective_date": "date_effet",
}
ATTESTATION = {"notary": "notaire", "crpcen": "crpcen", "date": "date"}
ATTACHMENT = {"kind": "type", "media_type": "media_type", "content": "contenu"}

PATHS = PathTable(
    {
        "sender": "avocat",
        "sender.code": "avocat.barreau",
        "sender.email": "avocat.courriel",
        "sender.phone": "avocat.telephone",
        "reference": "reference_envoi",
        "title": "titre",
        "title.kind": "titre.type",
        "title.nature": "titre.nature",
        "title.date": "titre.date",
        **nest("title.deposit_attestation", "titre.attestation_depot", ATTESTATION, "."),
        "title.executory_formula_date": "titre.date_formule_executoire",
        "intermediation": "titre.intermediation",
        "violence_alleged": "titre.violences",
        "end_date": "titre.date_fin",
        **nest("debtor", "debiteur", PARENT, "."),
        **nest("creditor", "creancier", PARENT, "."),
        "bank_details_consent": "consentement_coordonnees_bancaires",
        "children": "enfants",
        **nest("children[]", "enfants[]", CHILD, "."),
        "totals": "totaux",
        "totals.children_count": "totaux.nombre_enfants",
        "totals.monthly_total": "totaux.montant_total",
        "attachments": "pieces_jointes",
        **nest("attachments[]", "pieces_jointes[]", ATTACHMENT, "."),
    },
    index_base=0,
)


class _Reader:
    """Typed access to a schema-valid avocat document; collects impossible dates."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def date(self, value: str, path: str) -> dt.date:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.issues.append(Issue(Code.INVALID_DATE, path, "not a real calendar date (YYYY-MM-DD)"))
            return dt.date.min  # never used: parse() raises when any date was impossible

    def opt_date(self, value: str | None, path: str) -> dt.date | None:
        return None if value is None else self.date(value, path)

    def place(self, data: Mapping[str, Any] | None) -> Place | None:
        if data is None:
            return None
        return Place(commune=data["commune"], country=data["pays"], insee_code=data.get("code_insee"))

    def parent(self, data: Mapping[str, Any], path: str) -> Parent:
        """A parent (1074-4 II 1°, 7°, 8° CPC; bank details R. 582-4-1 CSS)."""
        place = self.place(data["lieu_naissance"])
        assert place is not None
        address = data.get("adresse")
        bank = data.get("coordonnees_bancaires")
        return Parent(
            birth_name=data["nom_naissance"],
            usage_name=data.get("nom_usage"),
            first_names=tuple(data["prenoms"]),
            birth_date=self.date(data["date_naissance"], f"{path}.date_naissance"),
            birth_place=place,
            nir=data.get("nir"),
            agricultural_scheme=data.get("regime_agricole"),
            address=None
            if address is None
            else Address(
                lines=tuple(address["lignes"]),
                postal_code=address["code_postal"],
                commune=address["commune"],
                country=address["pays"],
            ),
            phone=data.get("telephone"),
            email=data.get("courriel"),
            bank_account=None
            if bank is None
            else BankAccount(
                holder=bank["titulaire"],
                iban=bank["iban"],
                bic=bank.get("bic"),
                rib_date=self.date(bank["date_rib"], f"{path}.coordonnees_bancaires.date_rib"),
            ),
        )

    def child(self, data: Mapping[str, Any], path: str) -> Child:
        return Child(
            birth_name=data["nom_naissance"],
            first_names=tuple(data["prenoms"]),
            monthly_amount=Decimal(data["montant_mensuel"]),
            effective_date=self.date(data["date_effet"], f"{path}.date_effet"),
            birth_date=self.opt_date(data.get("date_naissance"), f"{path}.date_naissance"),
            birth_place=self.place(data.get("lieu_naissance")),
            indexation=None,  # no revaluation block from a lawyer (R. 582-4-1 CSS)
        )

    def title(self, data: Mapping[str, Any]) -> Title:
        attestation = data.get("attestation_depot")
        return Title(
            kind=int(data["type"]),
            nature=data["nature"],
            date=self.date(data["date"], "titre.date"),
            # R. 582-4-1 CSS: a kind-3 agreement comes with the notary's deposit attestation
            deposit_attestation=None
            if attestation is None
            else DepositAttestation(
                notary=attestation["notaire"],
                crpcen=attestation["crpcen"],
                date=self.date(attestation["date"], "titre.attestation_depot.date"),
            ),
            executory_formula_date=self.opt_date(
                data.get("date_formule_executoire"), "titre.date_formule_executoire"
            ),
        )


def _read(doc: Mapping[str, Any]) -> Transmission:
    r = _Reader()
    lawyer, title = doc["avocat"], doc["titre"]
    transmission = Transmission(
        source=SourceKind.AVOCAT,
        # R. 582-4-1 1° CSS: the lawyer's name and contact details; the bar stands for the code
        sender=Sender(
            name=f"{lawyer['prenom']} {lawyer['nom']}",
            code=lawyer["barreau"],
            email=lawyer["courriel"],
            phone=lawyer.get("telephone"),
        ),
        reference=doc["reference_envoi"],
        title=r.title(title),
        intermediation=Intermediation(title["intermediation"]),
        # only when the creditor parent produced the elements (R. 582-4-1 CSS): absent means false
        violence_alleged=bool(title.get("violences")),
        debtor=r.parent(doc["debiteur"], "debiteur"),
        creditor=r.parent(doc["creancier"], "creancier"),
        children=tuple(r.child(c, f"enfants[{i}]") for i, c in enumerate(doc["enfants"])),
        declared_children_count=int(doc["totaux"]["nombre_enfants"]),
        declared_monthly_total=Decimal(doc["totaux"]["montant_total"]),
        end_date=r.opt_date(title.get("date_fin"), "titre.date_fin"),
        bank_details_consent=doc.get("consentement_coordonnees_bancaires"),
        attachments=tuple(
            Attachment(kind=p["type"], media_type=p["media_type"], content=base64.b64decode(p["contenu"]))
            for p in doc["pieces_jointes"]
        ),
    )
    if r.issues:
        raise RuleViolation.from_issues(r.issues)
    return transmission


class AvocatAdapter:
    """Reads what the creditor's lawyer sends for a title of kind 3 or 6 (R. 582-4-1 CSS)."""

    source = SourceKind.AVOCAT
    media_types: tuple[str, ...] = ("application/json",)

    def parse(self, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Transmission:
        try:
            document = parse_json(data, max_bytes=max_bytes, limits=TITLE_LIMITS)
        except ValueError:
            # Python's guard against huge integers (more than 4300 digits) is a bare ValueError
            raise MalformedPayload("a JSON number has too many digits") from None
        issues = schema_issues(document)
        if issues:
            raise SchemaViolation.from_issues(issues)
        return _read(document)

    def field_path(self, canonical: str) -> str:
        return PATHS.translate(canonical)


ADAPTER = AvocatAdapter()
