"""Greffe and notaire XML: schema errors with the path of the offending element, impossible dates."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from lxml import etree

from gateway.adapters import adapter_for
from gateway.adapters.xmlcheck import DETAILED_UP_TO, fast_issues, load_fast_schema
from gateway.errors import MalformedPayload, RuleViolation, SchemaViolation
from tests.unit.adapters.helpers import edit, example, failure, found

SV = "schema-violation"
GREFFE = example("greffe-1.xml")
NOTAIRE = example("notaire-1.xml")


GREFFE_CASES = pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        # a required element missing, in the middle and at the end of its parent
        ("<NumeroMinute>26/01842</NumeroMinute>", "", "Decision/NumeroMinute"),
        ("<MontantTotal>330.00</MontantTotal>", "", "Totaux/MontantTotal"),
        ("<ReferenceEnvoi>TJNANTES-2026-004217</ReferenceEnvoi>", "", "Emetteur/ReferenceEnvoi"),
        # out of order: Date after NumeroMinute (the element out of place is the offending one)
        (
            "<Date>2026-11-16</Date>\n    <NumeroMinute>26/01842</NumeroMinute>",
            "<NumeroMinute>26/01842</NumeroMinute><Date>2026-11-16</Date>",
            "Decision/NumeroMinute",
        ),
        # wrong types
        (
            "<MontantMensuel>150.00</MontantMensuel>",
            "<MontantMensuel>cent</MontantMensuel>",
            "Enfants/Enfant[2]/MontantMensuel",
        ),
        (
            "<MontantMensuel>150.00</MontantMensuel>",
            "<MontantMensuel>150,00</MontantMensuel>",
            "Enfants/Enfant[2]/MontantMensuel",
        ),
        ("<TypeTitre>1</TypeTitre>", "<TypeTitre>un</TypeTitre>", "Decision/TypeTitre"),
        ("<TypeTitre>1</TypeTitre>", "<TypeTitre>7</TypeTitre>", "Decision/TypeTitre"),
        ("<Date>2026-11-16</Date>", "<Date>16/11/2026</Date>", "Decision/Date"),
        ("<Divorce>true</Divorce>", "<Divorce>oui</Divorce>", "Decision/Divorce"),
        ("<NombreEnfants>2</NombreEnfants>", "<NombreEnfants>-2</NombreEnfants>", "Totaux/NombreEnfants"),
        ("<Pays>FR</Pays>", "<Pays>fr</Pays>", "Debiteur/LieuNaissance/Pays"),
        ("<NIR>185034410912379</NIR>", "<NIR>1 85 03 44</NIR>", "Debiteur/NIR"),
        ("<Prenom>Hugo</Prenom>", "<Prenom></Prenom>", "Enfants/Enfant[2]/Prenoms/Prenom[1]"),
        # wrong enumerations, on elements and attributes
        (
            "<Intermediation>MISE_EN_PLACE</Intermediation>",
            "<Intermediation>SUSPENDUE</Intermediation>",
            "Decision/Intermediation",
        ),
        ('mode="SILENCE"', 'mode="INDEXEE"', "Enfants/Enfant[2]/Revalorisation/@mode"),
        ('type="EXTRAIT_EXECUTOIRE"', 'type="COPIE_EXECUTOIRE"', "PiecesJointes/Piece[1]/@type"),
        # attributes missing or unknown
        (' valeur="120.37"', "", "Enfants/Enfant[1]/Revalorisation/Indice/@valeur"),
        ('mode="SILENCE"', 'mode="SILENCE" taux="2"', "Enfants/Enfant[2]/Revalorisation/@taux"),
        # unknown elements, including the notaire-only bank details
        (
            "<Courriel>julien.martin@example.fr</Courriel>",
            "<Courriel>julien.martin@example.fr</Courriel><Surnom>JM</Surnom>",
            "Debiteur/Surnom",
        ),
        (
            "<Courriel>julien.martin@example.fr</Courriel>",
            "<Courriel>julien.martin@example.fr</Courriel><CoordonneesBancaires/>",
            "Debiteur/CoordonneesBancaires",
        ),
        # an element of another namespace
        (
            "<Violences>false</Violences>",
            '<Violences>false</Violences><x:Note xmlns:x="urn:other">a</x:Note>',
            "Decision/Note",
        ),
        # text where only elements go
        ("<Totaux>", "<Totaux>330", "Totaux"),
        # base64Binary content
        (">JVBERi0x", ">*JVBERi0x", "PiecesJointes/Piece[1]"),
        (
            'mediaType="application/pdf">JVBERi0xLjQKMSAwIG9iajw8L1R5cGUvQ2F0YWxvZy9QYWdlcyAyIDAgUj4+ZW5kb2JqCjIgMCBvYmo8PC9UeXBlL1BhZ2VzL0tpZHNbXS9Db3VudCAwPj5lbmRvYmoKdHJhaWxlcjw8L1Jvb3QgMSAwIFI+PgolJUVPRgo=<',
            'mediaType="application/pdf"><',
            "PiecesJointes/Piece[1]",
        ),
        # index and first date go with mode="PREVUE" only
        (
            '<Revalorisation mode="SILENCE"/>',
            '<Revalorisation mode="SILENCE"><Indice type="INSEE-001763852" valeur="1"/></Revalorisation>',
            "Enfants/Enfant[2]/Revalorisation/Indice",
        ),
    ],
)


@GREFFE_CASES
def test_greffe_schema_violation_has_the_path_of_the_offending_element(
    old: str, new: str, field: str
) -> None:
    assert found("greffe", edit(GREFFE, old, new)) == [(SV, field)]


@GREFFE_CASES
def test_in_a_huge_document_libxml2_reports_the_same_paths(old: str, new: str, field: str) -> None:
    # past DETAILED_UP_TO elements the issues come from libxml2 (xmlschema would take seconds)
    child = re.search(r"    <Enfant>.*?</Enfant>\n", GREFFE, re.S)
    assert child is not None
    padded = edit(
        edit(GREFFE, old, new), "  </Enfants>", child.group(0) * (DETAILED_UP_TO // 10) + "  </Enfants>"
    )
    error = failure("greffe", padded)
    assert [(str(i.code), i.field) for i in error.issues] == [(SV, field)]
    assert "150" not in error.message  # no value quoted


def test_every_schema_error_is_listed_not_only_the_first() -> None:
    text = edit(GREFFE, "<TypeTitre>1</TypeTitre>", "<TypeTitre>x</TypeTitre>")
    text = edit(text, "<MontantMensuel>150.00</MontantMensuel>", "<MontantMensuel>x</MontantMensuel>")
    text = edit(text, "<CodePostal>44000</CodePostal>", "", count=2)
    error = failure("greffe", text)
    assert isinstance(error, SchemaViolation)
    assert [(str(i.code), i.field) for i in error.issues] == [
        (SV, "Decision/TypeTitre"),
        (SV, "Debiteur/Adresse/CodePostal"),
        (SV, "Creancier/Adresse/CodePostal"),
        (SV, "Enfants/Enfant[2]/MontantMensuel"),
    ]


def test_messages_never_quote_the_value() -> None:
    # a name, a birth date or the violence flag may be the offending value: it stays out of the answer
    text = edit(
        GREFFE, "<NomNaissance>Lefèvre</NomNaissance>", f"<NomNaissance>{'Lefèvre' * 20}</NomNaissance>"
    )
    text = edit(
        text, "<DateNaissance>1985-03-14</DateNaissance>", "<DateNaissance>14/03/1985</DateNaissance>"
    )
    text = edit(text, "<Violences>false</Violences>", "<Violences>peut-être</Violences>")
    error = failure("greffe", text)
    assert {i.field for i in error.issues} == {
        "Creancier/NomNaissance",
        "Debiteur/DateNaissance",
        "Decision/Violences",
    }
    shown = " ".join(f"{i.field} {i.message}" for i in error.issues) + str(error)
    for value in ("Lefèvre", "14/03/1985", "peut-être"):
        assert value not in shown
    assert "at most 100 characters" in shown
    assert "YYYY-MM-DD" in shown
    assert "true or false" in shown


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (edit(GREFFE, 'xmlns="urn:fr:ifpa:greffe:1"', 'xmlns="urn:fr:ifpa:notaire:1"'), "TransmissionGreffe"),
        (edit(GREFFE, ' xmlns="urn:fr:ifpa:greffe:1"', ""), "TransmissionGreffe"),
        (GREFFE.replace("TransmissionGreffe", "TransmissionNotaire"), "TransmissionNotaire"),
        (NOTAIRE, "TransmissionNotaire"),
    ],
)
def test_wrong_root_or_namespace_is_a_schema_violation(text: str, field: str) -> None:
    error = failure("greffe", text)
    assert isinstance(error, SchemaViolation)
    assert [(str(i.code), i.field) for i in error.issues] == [(SV, field)]
    assert "TransmissionGreffe" in error.message
    assert "urn:fr:ifpa:greffe:1" in error.message


def test_a_title_kind_the_greffe_may_not_send_reaches_the_rules() -> None:
    # title-kind-not-allowed is a rule: the schema lets any kind 1..6 through
    parsed = adapter_for("greffe").parse(
        edit(GREFFE, "<TypeTitre>1</TypeTitre>", "<TypeTitre>4</TypeTitre>").encode()
    )
    assert parsed.title.kind == 4


def test_amounts_reach_the_rules_as_sent() -> None:
    # invalid-amount is a rule: negative amounts and three decimals pass the schema
    text = edit(
        GREFFE, "<MontantMensuel>150.00</MontantMensuel>", "<MontantMensuel>-150.005</MontantMensuel>"
    )
    parsed = adapter_for("greffe").parse(text.encode())
    assert str(parsed.children[1].monthly_amount) == "-150.005"


def test_whitespace_around_values_is_collapsed_like_xs_token() -> None:
    text = edit(
        GREFFE, "<Nature>jugement de divorce</Nature>", "<Nature>\n   jugement   de\n divorce  </Nature>"
    )
    text = edit(text, "<Date>2026-11-16</Date>", "<Date> 2026-11-16\n</Date>")
    parsed = adapter_for("greffe").parse(text.encode())
    assert parsed.title.nature == "jugement de divorce"
    assert parsed.title.date == dt.date(2026, 11, 16)


def test_impossible_dates_are_invalid_date_with_their_paths() -> None:
    text = edit(GREFFE, "<Date>2026-11-16</Date>", "<Date>2026-02-30</Date>")
    text = edit(text, "<DatePremiere>2027-12-01</DatePremiere>", "<DatePremiere>2027-13-01</DatePremiere>")
    text = edit(
        text, "<DateNaissance>2019-02-11</DateNaissance>", "<DateNaissance>2019-02-29</DateNaissance>"
    )
    error = failure("greffe", text)
    assert isinstance(error, RuleViolation)
    assert [(str(i.code), i.field) for i in error.issues] == [
        ("invalid-date", "Decision/Date"),
        ("invalid-date", "Enfants/Enfant[1]/Revalorisation/DatePremiere"),
        ("invalid-date", "Enfants/Enfant[2]/DateNaissance"),
    ]
    assert "2026-02-30" not in str(error)


# --------------------------------------------------------------------------------------------- notaire


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("<CRPCEN>44021</CRPCEN>", "", "Office/CRPCEN"),
        ("<CRPCEN>44021</CRPCEN>", "<CRPCEN>4402</CRPCEN>", "Office/CRPCEN"),
        (
            "<Courriel>office.cathedrale@notaires.fr</Courriel>",
            "<Courriel>office</Courriel>",
            "Office/Courriel",
        ),
        (
            "<IBAN>FR7630006000011234567890189</IBAN>",
            "<IBAN>fr76 3000 6000</IBAN>",
            "Debiteur/CoordonneesBancaires/IBAN",
        ),
        ("<DateRIB>2026-10-30</DateRIB>", "", "Creancier/CoordonneesBancaires/DateRIB"),
        ("<BIC>AGRIFRPP</BIC>", "<BIC>AGRI</BIC>", "Debiteur/CoordonneesBancaires/BIC"),
        (
            "<Intermediation>MISE_EN_PLACE</Intermediation>",
            "<Intermediation>ECARTEE_JUGE</Intermediation>",
            "Acte/Intermediation",
        ),
        (
            "<ConsentementCoordonneesBancaires>true",
            "<ConsentementCoordonneesBancaires>1",
            "ConsentementCoordonneesBancaires",
        ),
        (
            "<DateEffet>2026-12-01</DateEffet>",
            '<DateEffet>2026-12-01</DateEffet><Revalorisation mode="SILENCE"/>',
            "Enfants/Enfant[1]/Revalorisation",
        ),
        ('type="RIB"', 'type="EXTRAIT_EXECUTOIRE"', "PiecesJointes/Piece[2]/@type"),
        ('mediaType="application/pdf">', 'mediaType="PDF">', "PiecesJointes/Piece[1]/@mediaType"),
        ("<Acte>", "<Acte><Juridiction>TJ</Juridiction>", "Acte/Juridiction"),
    ],
)
def test_notaire_schema_violation_has_the_path_of_the_offending_element(
    old: str, new: str, field: str
) -> None:
    assert found("notaire", edit(NOTAIRE, old, new)) == [(SV, field)]


def test_notaire_refuses_a_greffe_document() -> None:
    assert found("notaire", GREFFE) == [(SV, "TransmissionGreffe")]


def test_notaire_impossible_rib_date_is_invalid_date() -> None:
    text = edit(NOTAIRE, "<DateRIB>2026-11-05</DateRIB>", "<DateRIB>2026-11-31</DateRIB>")
    assert found("notaire", text) == [("invalid-date", "Debiteur/CoordonneesBancaires/DateRIB")]


def test_notaire_optional_flags_absent() -> None:
    text = edit(NOTAIRE, "<Violences>false</Violences>", "")
    text = edit(text, "<ConsentementCoordonneesBancaires>true</ConsentementCoordonneesBancaires>", "")
    parsed = adapter_for("notaire").parse(text.encode())
    assert parsed.violence_alleged is False  # only when the creditor produced the elements
    assert parsed.bank_details_consent is None  # the rule bank-details-without-consent decides


def test_if_the_validators_ever_disagree_libxml2_refusal_stands_with_its_path() -> None:
    text = edit(GREFFE, "<MontantMensuel>150.00</MontantMensuel>", "<MontantMensuel>x</MontantMensuel>")
    tree = etree.ElementTree(etree.fromstring(text.encode()))
    fast = load_fast_schema("greffe-1.xsd")
    assert not fast.validate(tree)
    assert [(str(i.code), i.field) for i in fast_issues(tree, fast)] == [
        (SV, "Enfants/Enfant[2]/MontantMensuel")
    ]


def test_a_large_valid_document_is_read_quickly() -> None:
    child = re.search(r"    <Enfant>.*?</Enfant>\n", GREFFE, re.S)
    assert child is not None
    # 1,300 children of 15 elements: just under the parser's 20,000 elements (TITLE_LIMITS)
    text = edit(GREFFE, child.group(0), child.group(0) * 1300)
    started = time.perf_counter()
    parsed = adapter_for("greffe").parse(text.encode())
    assert len(parsed.children) == 1301
    assert time.perf_counter() - started < 5  # no quadratic walk over siblings


def test_a_document_past_the_element_limit_is_refused_before_the_schema() -> None:
    child = re.search(r"    <Enfant>.*?</Enfant>\n", GREFFE, re.S)
    assert child is not None
    text = edit(GREFFE, child.group(0), child.group(0) * 5000)
    started = time.perf_counter()
    with pytest.raises(MalformedPayload) as caught:
        adapter_for("greffe").parse(text.encode())
    assert caught.value.code == "limit-exceeded"
    assert time.perf_counter() - started < 1
