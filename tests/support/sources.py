"""Test support: hypothesis strategies of valid Transmissions per source, and writers to each wire format.

    transmissions(source)  -> SearchStrategy[Transmission]   plausible, rule-passing data
    render(transmission)   -> bytes                          greffe XML, notaire XML or avocat JSON

Generated data respects each source's shape (greffe: kinds 1-2 with revaluation, no bank details;
notaire: kind 4 with optional bank details; avocat: kinds 3 and 6) and passes the rules for a
transmission on 2026-11-23: titles dated 2026-10-25..2026-11-20, totals consistent, dates ordered,
valid IBANs and NIRs, RIBs under three months old, consent whenever bank details are sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from lxml import etree

from gateway.domain.transmission import (
    Address,
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

__all__ = ["render", "transmissions"]

TITLES_FROM = dt.date(2026, 10, 25)
TITLES_TO = dt.date(2026, 11, 20)

VALID_IBANS = (
    "FR7630006000011234567890189",
    "FR1420041010050500013M02606",
    "FR7630004000031234567890143",
    "FR7610107001011234567890129",
    "DE89370400440532013000",
    "ES9121000418450200051332",
    "IT60X0542811101000000123456",
)
VALID_BICS = ("AGRIFRPP", "PSSTFRPPXXX", "BNPAFRPP", "CCBPFRPPNAN", "COBADEFFXXX")
BIRTH_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Petit",
    "Durand",
    "Lefèvre",
    "Moreau",
    "Girard",
    "N'Diaye",
    "Le Gall",
    "Da Silva",
    "Nguyen",
    "Müller",
    "Saint-Martin",
)
FIRST_NAMES = (
    "Camille",
    "Léa",
    "Hugo",
    "Jules",
    "Chloé",
    "Louis",
    "Emma",
    "Noé",
    "Inès",
    "Gabriel",
    "Jean-Baptiste",
    "Anne-Sophie",
    "Zoé",
    "Élodie",
    "Thibault",
    "Maëlys",
)
COMMUNES = (
    ("Nantes", "44109"),
    ("Rennes", "35238"),
    ("Angers", "49007"),
    ("Laval", "53130"),
    ("Saint-Nazaire", "44184"),
    ("Ajaccio", "2A004"),
    ("L'Haÿ-les-Roses", "94038"),
)
LAWYER_FIRST_NAMES = ("Claire", "Marc", "Hélène")  # one word: the writer splits "prenom nom" at a space
COURTS = ("Tribunal judiciaire de Nantes", "Tribunal judiciaire de Rennes", "Tribunal judiciaire d'Angers")
NATURES_GREFFE = ("jugement de divorce", "ordonnance", "jugement", "convention homologuée")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

GREFFE_NS = "urn:fr:ifpa:greffe:1"
NOTAIRE_NS = "urn:fr:ifpa:notaire:1"
MODES = {
    IndexationMode.SILENT: "SILENCE",
    IndexationMode.EXCLUDED: "EXCLUE",
    IndexationMode.INDEXED: "PREVUE",
}


# ------------------------------------------------------------------------------------------ strategies


def _dates(low: dt.date, high: dt.date) -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=low, max_value=max(low, high))


def _amounts(low: int = 30, high: int = 900) -> st.SearchStrategy[Decimal]:
    return st.builds(
        lambda euros, cents: Decimal(f"{euros}.{cents:02d}"),
        st.integers(low, high),
        st.sampled_from([0, 0, 0, 50, 25, 99]),
    )


def _reference() -> st.SearchStrategy[str]:
    return st.from_regex(r"[A-Z]{2}-2026-[0-9]{4,6}", fullmatch=True)


def _place() -> st.SearchStrategy[Place]:
    return st.builds(
        lambda c, with_code: Place(commune=c[0], country="FR", insee_code=c[1] if with_code else None),
        st.sampled_from(COMMUNES),
        st.booleans(),
    )


def _address() -> st.SearchStrategy[Address]:
    return st.builds(
        lambda n, street, extra, c: Address(
            lines=(*extra, f"{n} {street}"),
            postal_code=f"{c[1][:2].replace('A', '0')}000",
            commune=c[0],
            country="FR",
        ),
        st.integers(1, 120),
        st.sampled_from(("rue de la Fosse", "boulevard Guist'hau", "allée des Tilleuls", "quai Ceineray")),
        st.lists(
            st.sampled_from(("Appartement 4", "Bâtiment B", "Résidence Les Mauves")), max_size=2, unique=True
        ),
        st.sampled_from(COMMUNES),
    )


@st.composite
def _nir(draw: st.DrawFn, birth: dt.date) -> str:
    """A NIR whose year and month match the birth date, with its key (97 - n mod 97)."""
    sex = draw(st.sampled_from("12"))
    department = draw(st.sampled_from(("44", "35", "49", "75", "69", "13")))
    body = f"{sex}{birth.year % 100:02d}{birth.month:02d}{department}{draw(st.integers(1, 999)):03d}"
    body += f"{draw(st.integers(1, 999)):03d}"
    return f"{body}{97 - int(body) % 97:02d}"


@st.composite
def _bank_account(draw: st.DrawFn, holder: str, title_date: dt.date) -> BankAccount:
    return BankAccount(
        holder=holder,
        iban=draw(st.sampled_from(VALID_IBANS)),
        rib_date=draw(_dates(dt.date(2026, 9, 1), title_date)),
        bic=draw(st.none() | st.sampled_from(VALID_BICS)),
    )


@st.composite
def _parent(draw: st.DrawFn, title_date: dt.date, *, bank: bool) -> Parent:
    birth_name = draw(st.sampled_from(BIRTH_NAMES))
    first_names = tuple(draw(st.lists(st.sampled_from(FIRST_NAMES), min_size=1, max_size=3, unique=True)))
    birth_date = draw(_dates(dt.date(1960, 1, 1), dt.date(2000, 12, 31)))
    return Parent(
        birth_name=birth_name,
        first_names=first_names,
        birth_date=birth_date,
        birth_place=draw(_place()),
        usage_name=draw(st.none() | st.sampled_from(BIRTH_NAMES)),
        nir=draw(st.none() | _nir(birth_date)),
        agricultural_scheme=draw(st.none() | st.booleans()),
        address=draw(st.none() | _address()),
        phone=draw(st.none() | st.from_regex(r"0[1-9]( [0-9]{2}){4}", fullmatch=True)),
        email=draw(st.none() | st.just(f"{first_names[0][:1].lower()}.parent@example.fr")),
        bank_account=draw(_bank_account(f"{first_names[0]} {birth_name}", title_date)) if bank else None,
    )


@st.composite
def _indexation(draw: st.DrawFn, effective: dt.date) -> Indexation:
    mode = draw(st.sampled_from(list(IndexationMode)))
    if mode is not IndexationMode.INDEXED:
        return Indexation(mode=mode)
    return Indexation(
        mode=mode,
        index_type="INSEE-001763852",
        index_value=draw(_amounts(100, 140)),
        first_revaluation_date=effective.replace(year=effective.year + 1),
        rounding=draw(st.none() | st.sampled_from(("à l'euro le plus proche", "au centime inférieur"))),
    )


@st.composite
def _children(draw: st.DrawFn, title_date: dt.date, *, indexed: bool) -> tuple[Child, ...]:
    count = draw(st.integers(1, 4))
    effective = draw(st.sampled_from((dt.date(2026, 12, 1), title_date + dt.timedelta(days=1))))
    children = []
    for _ in range(count):
        children.append(
            Child(
                birth_name=draw(st.sampled_from(BIRTH_NAMES)),
                first_names=tuple(
                    draw(st.lists(st.sampled_from(FIRST_NAMES), min_size=1, max_size=2, unique=True))
                ),
                monthly_amount=draw(_amounts()),
                effective_date=effective,
                birth_date=draw(st.none() | _dates(dt.date(2008, 1, 1), title_date - dt.timedelta(days=1))),
                birth_place=draw(st.none() | _place()),
                indexation=draw(_indexation(effective)) if indexed else None,
            )
        )
    return tuple(children)


def _distinct(t: Transmission) -> bool:
    same = (t.debtor.birth_name, t.debtor.first_names, t.debtor.birth_date) == (
        t.creditor.birth_name,
        t.creditor.first_names,
        t.creditor.birth_date,
    )
    return not same and (t.debtor.nir is None or t.debtor.nir != t.creditor.nir)


def _end_date(children: tuple[Child, ...]) -> st.SearchStrategy[dt.date | None]:
    last = max(c.effective_date for c in children)
    return st.none() | _dates(last + dt.timedelta(days=1), dt.date(2045, 12, 31))


@st.composite
def _greffe(draw: st.DrawFn) -> Transmission:
    title_date = draw(_dates(TITLES_FROM, TITLES_TO))
    court = draw(st.sampled_from(COURTS))
    kind = draw(st.sampled_from((1, 2)))
    children = draw(_children(title_date, indexed=True))
    extra = draw(st.lists(st.sampled_from(("AVIS_RECEPTION", "AVIS_SIGNIFICATION")), max_size=2))
    return Transmission(
        source=SourceKind.GREFFE,
        sender=Sender(name=court, code=draw(st.none() | st.from_regex(r"TJ-[0-9]{5}", fullmatch=True))),
        reference=draw(_reference()),
        title=Title(
            kind=kind,
            nature=draw(st.sampled_from(NATURES_GREFFE)),
            date=title_date,
            is_divorce=draw(st.booleans()) if kind == 1 else False,
            court=court,
            minute_number=draw(st.from_regex(r"26/[0-9]{5}", fullmatch=True)),
            reinstatement=draw(st.booleans()),
        ),
        intermediation=Intermediation.IN_PLACE,
        violence_alleged=draw(st.booleans()),
        debtor=draw(_parent(title_date, bank=False)),
        creditor=draw(_parent(title_date, bank=False)),
        children=children,
        declared_children_count=len(children),
        declared_monthly_total=sum((c.monthly_amount for c in children), Decimal("0.00")),
        end_date=draw(_end_date(children)),
        bank_details_consent=None,
        attachments=tuple(
            Attachment(kind=k, media_type="application/pdf", content=PDF)
            for k in ("EXTRAIT_EXECUTOIRE", *extra)
        ),
    )


def _with_bank(draw: st.DrawFn, title_date: dt.date) -> tuple[Parent, Parent, bool | None]:
    bank = draw(st.booleans())
    debtor = draw(_parent(title_date, bank=bank))
    creditor = draw(_parent(title_date, bank=bank))
    consent = True if bank else draw(st.sampled_from((None, False)))
    return debtor, creditor, consent


@st.composite
def _notaire(draw: st.DrawFn) -> Transmission:
    title_date = draw(_dates(TITLES_FROM, TITLES_TO))
    debtor, creditor, consent = _with_bank(draw, title_date)
    children = draw(_children(title_date, indexed=False))
    kinds = ["COPIE_EXECUTOIRE"] + (["RIB", "RIB"] if consent else [])
    return Transmission(
        source=SourceKind.NOTAIRE,
        sender=Sender(
            name=draw(st.sampled_from(("Office notarial de la Cathédrale", "SCP Rousseau et Associés"))),
            code=draw(st.from_regex(r"[0-9]{5}", fullmatch=True)),
            email="office@notaires.fr",
            phone=draw(st.none() | st.just("02 40 12 34 56")),
        ),
        reference=draw(_reference()),
        title=Title(
            kind=4,
            nature="acte authentique fixant la contribution à l'entretien des enfants",
            date=title_date,
        ),
        intermediation=Intermediation.IN_PLACE,
        violence_alleged=draw(st.booleans()),
        debtor=debtor,
        creditor=creditor,
        children=children,
        declared_children_count=len(children),
        declared_monthly_total=sum((c.monthly_amount for c in children), Decimal("0.00")),
        end_date=draw(_end_date(children)),
        bank_details_consent=consent,
        attachments=tuple(Attachment(kind=k, media_type="application/pdf", content=PDF) for k in kinds),
    )


@st.composite
def _avocat(draw: st.DrawFn) -> Transmission:
    kind = draw(st.sampled_from((3, 6)))
    executory = draw(_dates(TITLES_FROM, TITLES_TO))
    title_date = draw(_dates(executory - dt.timedelta(days=20), executory))
    debtor, creditor, consent = _with_bank(draw, title_date)
    children = draw(_children(title_date, indexed=False))
    kinds = ["COPIE_EXECUTOIRE"] + (["ATTESTATION_DEPOT"] if kind == 3 else []) + (["RIB"] if consent else [])
    return Transmission(
        source=SourceKind.AVOCAT,
        sender=Sender(
            name=f"{draw(st.sampled_from(LAWYER_FIRST_NAMES))} {draw(st.sampled_from(BIRTH_NAMES))}",
            code=draw(st.sampled_from(("Nantes", "Rennes", "Saint-Nazaire"))),
            email="avocat@avocats.example.fr",
            phone=draw(st.none() | st.just("+33 2 51 72 00 00")),
        ),
        reference=draw(_reference()),
        title=Title(
            kind=kind,
            nature="convention de divorce par consentement mutuel" if kind == 3 else "accord de médiation",
            date=title_date,
            deposit_attestation=DepositAttestation(
                notary="Maître Hélène Rousseau", crpcen="44021", date=executory
            )
            if kind == 3
            else None,
            executory_formula_date=executory if kind == 6 else None,
        ),
        intermediation=Intermediation.IN_PLACE,
        violence_alleged=draw(st.booleans()),
        debtor=debtor,
        creditor=creditor,
        children=children,
        declared_children_count=len(children),
        declared_monthly_total=sum((c.monthly_amount for c in children), Decimal("0.00")),
        end_date=draw(_end_date(children)),
        bank_details_consent=consent,
        attachments=tuple(Attachment(kind=k, media_type="application/pdf", content=PDF) for k in kinds),
    )


def transmissions(source: SourceKind) -> st.SearchStrategy[Transmission]:
    """Valid, plausible transmissions of one source, as its adapter would read them."""
    strategy = {SourceKind.GREFFE: _greffe, SourceKind.NOTAIRE: _notaire, SourceKind.AVOCAT: _avocat}[source]
    return strategy().filter(_distinct)


# --------------------------------------------------------------------------------------------- writers


class _Xml:
    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def el(self, parent: etree._Element, name: str, text: object = None, **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{self.ns}}}{name}", attrs)
        if text is not None:
            element.text = _xml_text(text)
        return element

    def opt(self, parent: etree._Element, name: str, value: object) -> None:
        if value is not None:
            self.el(parent, name, value)

    def place(self, parent: etree._Element, name: str, place: Place | None) -> None:
        if place is None:
            return
        element = self.el(parent, name)
        self.el(element, "Commune", place.commune)
        self.opt(element, "CodeInsee", place.insee_code)
        self.el(element, "Pays", place.country)

    def first_names(self, parent: etree._Element, names: tuple[str, ...]) -> None:
        element = self.el(parent, "Prenoms")
        for name in names:
            self.el(element, "Prenom", name)

    def parent(self, root: etree._Element, name: str, p: Parent) -> None:
        element = self.el(root, name)
        self.el(element, "NomNaissance", p.birth_name)
        self.opt(element, "NomUsage", p.usage_name)
        self.first_names(element, p.first_names)
        self.el(element, "DateNaissance", p.birth_date)
        self.place(element, "LieuNaissance", p.birth_place)
        self.opt(element, "NIR", p.nir)
        self.opt(element, "RegimeAgricole", p.agricultural_scheme)
        if p.address is not None:
            address = self.el(element, "Adresse")
            for line in p.address.lines:
                self.el(address, "Ligne", line)
            self.el(address, "CodePostal", p.address.postal_code)
            self.el(address, "Commune", p.address.commune)
            self.el(address, "Pays", p.address.country)
        self.opt(element, "Telephone", p.phone)
        self.opt(element, "Courriel", p.email)
        if p.bank_account is not None:
            bank = self.el(element, "CoordonneesBancaires")
            self.el(bank, "Titulaire", p.bank_account.holder)
            self.el(bank, "IBAN", p.bank_account.iban)
            self.opt(bank, "BIC", p.bank_account.bic)
            self.el(bank, "DateRIB", p.bank_account.rib_date)

    def child(self, parent: etree._Element, c: Child) -> etree._Element:
        element = self.el(parent, "Enfant")
        self.el(element, "NomNaissance", c.birth_name)
        self.first_names(element, c.first_names)
        self.opt(element, "DateNaissance", c.birth_date)
        self.place(element, "LieuNaissance", c.birth_place)
        self.el(element, "MontantMensuel", c.monthly_amount)
        self.el(element, "DateEffet", c.effective_date)
        return element

    def tail(self, root: etree._Element, t: Transmission, *, indexation: bool) -> None:
        children = self.el(root, "Enfants")
        for c in t.children:
            element = self.child(children, c)
            if indexation:
                assert c.indexation is not None
                self.indexation(element, c.indexation)
        totals = self.el(root, "Totaux")
        self.el(totals, "NombreEnfants", t.declared_children_count)
        self.el(totals, "MontantTotal", t.declared_monthly_total)
        pieces = self.el(root, "PiecesJointes")
        for a in t.attachments:
            self.el(
                pieces, "Piece", base64.b64encode(a.content).decode(), type=a.kind, mediaType=a.media_type
            )

    def indexation(self, parent: etree._Element, ix: Indexation) -> None:
        element = self.el(parent, "Revalorisation", mode=MODES[ix.mode])
        if ix.index_type is not None or ix.index_value is not None:
            self.el(element, "Indice", type=ix.index_type or "", valeur=str(ix.index_value))
        self.opt(element, "DatePremiere", ix.first_revaluation_date)
        self.opt(element, "Arrondi", ix.rounding)


def _xml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render_greffe(t: Transmission) -> bytes:
    x = _Xml(GREFFE_NS)
    root = etree.fromstring(f'<TransmissionGreffe xmlns="{GREFFE_NS}"/>')
    sender = x.el(root, "Emetteur")
    x.el(sender, "Juridiction", t.title.court or t.sender.name)
    x.opt(sender, "CodeJuridiction", t.sender.code)
    x.el(sender, "ReferenceEnvoi", t.reference)
    decision = x.el(root, "Decision")
    x.el(decision, "TypeTitre", t.title.kind)
    x.el(decision, "Nature", t.title.nature)
    x.el(decision, "Divorce", bool(t.title.is_divorce))
    x.el(decision, "Date", t.title.date)
    x.el(decision, "NumeroMinute", t.title.minute_number)
    x.el(decision, "Retablissement", t.title.reinstatement)
    x.el(decision, "Intermediation", t.intermediation.value)
    x.el(decision, "Violences", t.violence_alleged)
    x.opt(decision, "DateFin", t.end_date)
    x.parent(root, "Debiteur", t.debtor)
    x.parent(root, "Creancier", t.creditor)
    x.tail(root, t, indexation=True)
    return _bytes(root)


def render_notaire(t: Transmission) -> bytes:
    x = _Xml(NOTAIRE_NS)
    root = etree.fromstring(f'<TransmissionNotaire xmlns="{NOTAIRE_NS}"/>')
    office = x.el(root, "Office")
    x.el(office, "Nom", t.sender.name)
    x.el(office, "CRPCEN", t.sender.code)
    x.el(office, "Courriel", t.sender.email)
    x.opt(office, "Telephone", t.sender.phone)
    x.el(office, "ReferenceEnvoi", t.reference)
    deed = x.el(root, "Acte")
    x.el(deed, "TypeTitre", t.title.kind)
    x.el(deed, "Nature", t.title.nature)
    x.el(deed, "Date", t.title.date)
    x.el(deed, "Intermediation", t.intermediation.value)
    x.el(deed, "Violences", t.violence_alleged)
    x.opt(deed, "DateFin", t.end_date)
    x.parent(root, "Debiteur", t.debtor)
    x.parent(root, "Creancier", t.creditor)
    x.opt(root, "ConsentementCoordonneesBancaires", t.bank_details_consent)
    x.tail(root, t, indexation=False)
    return _bytes(root)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _place_json(p: Place | None) -> dict[str, Any] | None:
    return None if p is None else {"commune": p.commune, "code_insee": p.insee_code, "pays": p.country}


def _parent_json(p: Parent) -> dict[str, Any]:
    bank = p.bank_account
    return {
        "nom_naissance": p.birth_name,
        "nom_usage": p.usage_name,
        "prenoms": list(p.first_names),
        "date_naissance": p.birth_date.isoformat(),
        "lieu_naissance": _place_json(p.birth_place),
        "nir": p.nir,
        "regime_agricole": p.agricultural_scheme,
        "adresse": None
        if p.address is None
        else {
            "lignes": list(p.address.lines),
            "code_postal": p.address.postal_code,
            "commune": p.address.commune,
            "pays": p.address.country,
        },
        "telephone": p.phone,
        "courriel": p.email,
        "coordonnees_bancaires": None
        if bank is None
        else {
            "titulaire": bank.holder,
            "iban": bank.iban,
            "bic": bank.bic,
            "date_rib": bank.rib_date.isoformat(),
        },
    }


def render_avocat(t: Transmission) -> bytes:
    first, _, last = t.sender.name.partition(" ")
    attestation = t.title.deposit_attestation
    doc = {
        "version": 1,
        "avocat": {
            "nom": last,
            "prenom": first,
            "barreau": t.sender.code,
            "courriel": t.sender.email,
            "telephone": t.sender.phone,
        },
        "reference_envoi": t.reference,
        "titre": {
            "type": t.title.kind,
            "nature": t.title.nature,
            "date": t.title.date.isoformat(),
            "attestation_depot": None
            if attestation is None
            else {
                "notaire": attestation.notary,
                "crpcen": attestation.crpcen,
                "date": attestation.date.isoformat(),
            },
            "date_formule_executoire": _iso(t.title.executory_formula_date),
            "intermediation": t.intermediation.value,
            "violences": t.violence_alleged,
            "date_fin": _iso(t.end_date),
        },
        "debiteur": _parent_json(t.debtor),
        "creancier": _parent_json(t.creditor),
        "consentement_coordonnees_bancaires": t.bank_details_consent,
        "enfants": [
            {
                "nom_naissance": c.birth_name,
                "prenoms": list(c.first_names),
                "date_naissance": _iso(c.birth_date),
                "lieu_naissance": _place_json(c.birth_place),
                "montant_mensuel": str(c.monthly_amount),
                "date_effet": c.effective_date.isoformat(),
            }
            for c in t.children
        ],
        "totaux": {
            "nombre_enfants": t.declared_children_count,
            "montant_total": str(t.declared_monthly_total),
        },
        "pieces_jointes": [
            {"type": a.kind, "media_type": a.media_type, "contenu": base64.b64encode(a.content).decode()}
            for a in t.attachments
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def render(t: Transmission) -> bytes:
    """The transmission in its source's wire format."""
    writer = {
        SourceKind.GREFFE: render_greffe,
        SourceKind.NOTAIRE: render_notaire,
        SourceKind.AVOCAT: render_avocat,
    }
    return writer[t.source](t)
