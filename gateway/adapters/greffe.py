"""Greffe adapter: `urn:fr:ifpa:greffe:1` XML (docs/contract.md "Greffe", art. 1074-4 CPC) -> Transmission."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from gateway.adapters.paths import PathTable, nest
from gateway.adapters.xmlcheck import checked, element_path
from gateway.adapters.xmlsource import Reader, collapse
from gateway.domain.transmission import (
    Child,
    Indexation,
    IndexationMode,
    Intermediation,
    Sender,
    SourceKind,
    Title,
    Transmission,
)
from gateway.errors import SchemaViolation
from gateway.safeparse import DEFAULT_MAX_BYTES, TITLE_LIMITS, parse_xml

NAMESPACE = "urn:fr:ifpa:greffe:1"
ROOT = "TransmissionGreffe"
SCHEMA_FILE = "greffe-1.xsd"

INDEXATION_MODES = {
    "SILENCE": IndexationMode.SILENT,
    "EXCLUE": IndexationMode.EXCLUDED,
    "PREVUE": IndexationMode.INDEXED,
}

PLACE = {"commune": "Commune", "insee_code": "CodeInsee", "country": "Pays"}
ADDRESS = {"lines": "Ligne", "postal_code": "CodePostal", "commune": "Commune", "country": "Pays"}
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
}
BANK_ACCOUNT = {"holder": "Titulaire", "iban": "IBAN", "bic": "BIC", "rib_date": "DateRIB"}
CHILD = {
    "birth_name": "NomNaissance",
    "first_names": "Prenoms",
    "birth_date": "DateNaissance",
    **nest("birth_place", "LieuNaissance", PLACE, "/"),
    "monthly_amount": "MontantMensuel",
    "effective_date": "DateEffet",
}
INDEXATION = {
    "mode": "@mode",
    "index_type": "Indice/@type",
    "index_value": "Indice/@valeur",
    "first_revaluation_date": "DatePremiere",
    "rounding": "Arrondi",
}
TOTALS = {"children_count": "Totaux/NombreEnfants", "monthly_total": "Totaux/MontantTotal"}

PATHS = PathTable(
    {
        "sender": "Emetteur",
        "sender.name": "Emetteur/Juridiction",
        "sender.code": "Emetteur/CodeJuridiction",
        "reference": "Emetteur/ReferenceEnvoi",
        "title": "Decision",
        "title.kind": "Decision/TypeTitre",
        "title.nature": "Decision/Nature",
        "title.is_divorce": "Decision/Divorce",
        "title.date": "Decision/Date",
        "title.court": "Emetteur/Juridiction",
        "title.minute_number": "Decision/NumeroMinute",
        "title.reinstatement": "Decision/Retablissement",
        "intermediation": "Decision/Intermediation",
        "violence_alleged": "Decision/Violences",
        "end_date": "Decision/DateFin",
        **nest("debtor", "Debiteur", PARENT, "/"),
        **nest("creditor", "Creancier", PARENT, "/"),
        "children": "Enfants",
        **nest("children[]", "Enfants/Enfant[]", CHILD, "/"),
        **nest("children[].indexation", "Enfants/Enfant[]/Revalorisation", INDEXATION, "/"),
        "totals": "Totaux",
        **{f"totals.{k}": v for k, v in TOTALS.items()},
        "attachments": "PiecesJointes",
        "attachments[]": "PiecesJointes/Piece[]",
    },
    index_base=1,
)


class GreffeAdapter:
    """Reads what a court registry sends (art. 1074-4 CPC)."""

    source = SourceKind.GREFFE
    media_types: tuple[str, ...] = ("application/xml", "text/xml")

    def parse(self, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Transmission:
        tree = parse_xml(data, max_bytes=max_bytes, limits=TITLE_LIMITS, path_of=element_path)
        checked(tree, SCHEMA_FILE, ROOT, NAMESPACE)
        return _read(tree.getroot())

    def field_path(self, canonical: str) -> str:
        return PATHS.translate(canonical)


def _indexation(r: Reader, element: etree._Element) -> Indexation:
    """Revaluation clause (1074-4 II 6° CPC): a) silent, b) excluded, c) provided with its index."""
    mode = INDEXATION_MODES[collapse(element.get("mode"))]
    index = r.find(element, "Indice")
    if mode is not IndexationMode.INDEXED:
        # XSD 1.0 cannot tie the index to mode="PREVUE"; an index under another mode is contradictory
        extra = [e for e in element if isinstance(e.tag, str)]
        if extra:
            raise SchemaViolation(
                'only mode="PREVUE" may carry Indice, DatePremiere or Arrondi',
                field=element_path(extra[0]),
            )
    valeur = index.get("valeur") if index is not None else None
    return Indexation(
        mode=mode,
        index_type=collapse(index.get("type")) if index is not None else None,
        index_value=Decimal(collapse(valeur)) if valeur is not None else None,
        first_revaluation_date=r.opt_date(element, "DatePremiere"),
        rounding=r.opt_text(element, "Arrondi"),
    )


def _child(r: Reader, element: etree._Element) -> Child:
    base = r.child(element)
    return Child(
        birth_name=base.birth_name,
        first_names=base.first_names,
        monthly_amount=base.monthly_amount,
        effective_date=base.effective_date,
        birth_date=base.birth_date,
        birth_place=base.birth_place,
        indexation=_indexation(r, r.get(element, "Revalorisation")),
    )


def _read(root: etree._Element) -> Transmission:
    r = Reader(NAMESPACE)
    emetteur, decision = r.get(root, "Emetteur"), r.get(root, "Decision")
    court = r.text(emetteur, "Juridiction")
    title = Title(
        kind=r.integer(decision, "TypeTitre"),
        nature=r.text(decision, "Nature"),
        date=r.date(decision, "Date"),
        is_divorce=r.boolean(decision, "Divorce"),
        court=court,  # 1074-4 II 3°
        minute_number=r.text(decision, "NumeroMinute"),  # 1074-4 II 4°
        reinstatement=bool(r.opt_boolean(decision, "Retablissement")),  # 1074-4 I 2°
    )
    totals = r.get(root, "Totaux")
    transmission = Transmission(
        source=SourceKind.GREFFE,
        sender=Sender(name=court, code=r.opt_text(emetteur, "CodeJuridiction")),
        reference=r.text(emetteur, "ReferenceEnvoi"),
        title=title,
        intermediation=Intermediation(r.text(decision, "Intermediation")),
        violence_alleged=r.boolean(decision, "Violences"),  # 1074-4 II 10°: the flag only
        debtor=r.parent(r.get(root, "Debiteur")),
        creditor=r.parent(r.get(root, "Creancier")),
        children=tuple(_child(r, e) for e in r.all(root, "Enfants/Enfant")),
        declared_children_count=r.integer(totals, "NombreEnfants"),
        declared_monthly_total=r.decimal(totals, "MontantTotal"),
        end_date=r.opt_date(decision, "DateFin"),  # 1074-4 II 9°
        bank_details_consent=None,
        attachments=r.attachments(r.get(root, "PiecesJointes")),
    )
    r.raise_if_any()
    return transmission


ADAPTER = GreffeAdapter()
