"""Notaire adapter: notaire XML (docs/contract.md "Notaire"; R. 582-4-1 CSS) -> Transmission."""

from __future__ import annotations

from lxml import etree

from gateway.adapters.paths import PathTable, nest
from gateway.adapters.xmlcheck import checked, element_path
from gateway.adapters.xmlsource import Reader
from gateway.domain.transmission import Intermediation, Sender, SourceKind, Title, Transmission
from gateway.safeparse import DEFAULT_MAX_BYTES, TITLE_LIMITS, parse_xml

NAMESPACE = "urn:fr:ifpa:notaire:1"
ROOT = "TransmissionNotaire"
SCHEMA_FILE = "notaire-1.xsd"

PLACE = {"commune": "Commune", "insee_code": "CodeInsee", "country": "Pays"}
ADDRESS = {"lines": "Ligne", "postal_code": "CodePostal", "commune": "Commune", "country": "Pays"}
BANK_ACCOUNT = {"holder": "Titulaire", "iban": "IBAN", "bic": "BIC", "rib_date": "DateRIB"}
PARENT = {
    "birth_name": "NomNaissance",
    "usage_name": "NomUsage",
    "first_names": "Prenoms",
    "birth_date": "DateNaissance",
    **nest("birth_place", "LieuNaissance", PLACE, "/"),
    "nir": "NIR",
    "agricultural_scheme": "RegimeAgricole",
    **nest("address", "Adresse", ADDRESS, "/"),
    "phone": "Telephone",
    "email": "Courriel",
    **nest("bank_account", "CoordonneesBancaires", BANK_ACCOUNT, "/"),
}
CHILD = {
    "birth_name": "NomNaissance",
    "first_names": "Prenoms",
    "birth_date": "DateNaissance",
    **nest("birth_place", "LieuNaissance", PLACE, "/"),
    "monthly_amount": "MontantMensuel",
    "effective_date": "DateEffet",
}

PATHS = PathTable(
    {
        "sender": "Office",
        "sender.name": "Office/Nom",
        "sender.code": "Office/CRPCEN",
        "sender.email": "Office/Courriel",
        "sender.phone": "Office/Telephone",
        "reference": "Office/ReferenceEnvoi",
        "title": "Acte",
        "title.kind": "Acte/TypeTitre",
        "title.nature": "Acte/Nature",
        "title.date": "Acte/Date",
        "intermediation": "Acte/Intermediation",
        "violence_alleged": "Acte/Violences",
        "end_date": "Acte/DateFin",
        **nest("debtor", "Debiteur", PARENT, "/"),
        **nest("creditor", "Creancier", PARENT, "/"),
        "bank_details_consent": "ConsentementCoordonneesBancaires",
        "children": "Enfants",
        **nest("children[]", "Enfants/Enfant[]", CHILD, "/"),
        "totals": "Totaux",
        "totals.children_count": "Totaux/NombreEnfants",
        "totals.monthly_total": "Totaux/MontantTotal",
        "attachments": "PiecesJointes",
        "attachments[]": "PiecesJointes/Piece[]",
    },
    index_base=1,
)


class NotaireAdapter:
    """Reads what a notary sends for a notarial deed (R. 582-4-1 CSS)."""

    source = SourceKind.NOTAIRE
    media_types: tuple[str, ...] = ("application/xml", "text/xml")

    def parse(self, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Transmission:
        tree = parse_xml(data, max_bytes=max_bytes, limits=TITLE_LIMITS, path_of=element_path)
        checked(tree, SCHEMA_FILE, ROOT, NAMESPACE)
        return _read(tree.getroot())

    def field_path(self, canonical: str) -> str:
        return PATHS.translate(canonical)


def _read(root: etree._Element) -> Transmission:
    r = Reader(NAMESPACE)
    office, acte = r.get(root, "Office"), r.get(root, "Acte")
    totals = r.get(root, "Totaux")
    transmission = Transmission(
        source=SourceKind.NOTAIRE,
        # R. 582-4-1 1° CSS: the notary's name and contact details; the CRPCEN identifies the office
        sender=Sender(
            name=r.text(office, "Nom"),
            code=r.text(office, "CRPCEN"),
            email=r.text(office, "Courriel"),
            phone=r.opt_text(office, "Telephone"),
        ),
        reference=r.text(office, "ReferenceEnvoi"),
        title=Title(
            kind=r.integer(acte, "TypeTitre"), nature=r.text(acte, "Nature"), date=r.date(acte, "Date")
        ),
        intermediation=Intermediation(r.text(acte, "Intermediation")),
        # only when the creditor parent produced the elements (R. 582-4-1 CSS): absent means false
        violence_alleged=bool(r.opt_boolean(acte, "Violences")),
        debtor=r.parent(r.get(root, "Debiteur")),
        creditor=r.parent(r.get(root, "Creancier")),
        children=tuple(r.child(e) for e in r.all(root, "Enfants/Enfant")),
        declared_children_count=r.integer(totals, "NombreEnfants"),
        declared_monthly_total=r.decimal(totals, "MontantTotal"),
        end_date=r.opt_date(acte, "DateFin"),
        bank_details_consent=r.opt_boolean(root, "ConsentementCoordonneesBancaires"),
        attachments=r.attachments(r.get(root, "PiecesJointes")),
    )
    r.raise_if_any()
    return transmission


ADAPTER = NotaireAdapter()
