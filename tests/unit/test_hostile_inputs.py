"""Single hostile titles (issue 12): each one gets a gateway error with a stable code, quickly,
and nothing it sent is quoted back."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.errors import Code, GatewayError, Issue
from gateway.problem import problem
from gateway.sanitize import unquoted, xml_safe
from gateway.sepa.xsd import validate_file
from gateway.services.intake import receipt_bytes
from gateway.services.validation import validate
from tests.support import hostile

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def refusal(source: str, data: bytes) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        validate(source, data, received_at=NOW)
    return caught.value


def codes(error: GatewayError) -> list[tuple[str, str]]:
    return [(i.code, i.field) for i in error.issues]


def test_xsi_type_naming_an_unknown_type_is_a_schema_violation() -> None:
    # xmlschema raised XMLSchemaKeyError explaining the refusal: libxml2's findings stand
    error = refusal("greffe", hostile.xsi_type())
    assert codes(error) == [(Code.SCHEMA_VIOLATION, "Decision/Nature/@type")]


def test_a_refused_xsi_type_never_quotes_the_value() -> None:
    error = refusal("greffe", hostile.xsi_type_quoting_a_value())
    assert codes(error) == [(Code.SCHEMA_VIOLATION, "Debiteur/DateNaissance/@type")]
    assert "1985-03-14" not in json.dumps(problem(error))


def test_an_integer_with_4300_leading_zeros_is_read_as_its_value() -> None:
    assert (
        validate("greffe", hostile.long_integer(), received_at=NOW).transmission.declared_children_count == 2
    )


def test_an_integer_of_4400_digits_is_refused_by_the_schema() -> None:
    error = refusal("greffe", hostile.longer_integer())
    assert codes(error)[0] == (Code.SCHEMA_VIOLATION, "Totaux/NombreEnfants")


def test_a_bom_in_an_attribute_name_is_an_unexpected_attribute() -> None:
    error = refusal("greffe", hostile.bom_in_attribute_name())
    assert [i.code for i in error.issues] == [Code.SCHEMA_VIOLATION]
    assert error.field.startswith("Decision/Nature/@")
    assert "unexpected attribute" in error.message


def test_a_noncharacter_in_avocat_text_is_malformed_with_its_path() -> None:
    # RFC 7493 §2.1 (I-JSON): no noncharacters; and it could not go into the canonical XML
    error = refusal("avocat", hostile.nonchar_in_avocat_text())
    assert codes(error) == [(Code.MALFORMED_PAYLOAD, "titre.nature")]
    assert "RFC 7493" in error.message


def test_a_lone_surrogate_key_is_malformed_and_its_problem_encodes() -> None:
    # RFC 7493 §2.1: no lone surrogates, keys included
    error = refusal("avocat", hostile.lone_surrogate_key())
    assert codes(error) == [(Code.MALFORMED_PAYLOAD, "")]
    json.dumps(problem(error), ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("source", "data", "field"),
    [
        ("greffe", hostile.huge_commune, "Debiteur/LieuNaissance/Commune"),
        ("avocat", hostile.huge_avocat_commune, "debiteur.lieu_naissance.commune"),
    ],
)
def test_a_five_million_character_value_is_refused_in_milliseconds(
    source: str, data: object, field: str
) -> None:
    payload = data()  # type: ignore[operator]
    started = time.process_time()  # CPU time: the shared test machine's load does not count
    error = refusal(source, payload)
    elapsed = time.process_time() - started
    assert codes(error) == [(Code.LIMIT_EXCEEDED, field)]
    assert elapsed < 0.5, elapsed  # was 2.2-3.0 s of CPU in the schema's pattern (docs/robustness.md)


def test_too_deep_a_document_is_refused() -> None:
    deep = hostile.GREFFE.replace("<Nature>", "<Nature>" + "<a>" * 40 + "</a>" * 40, 1)
    assert codes(refusal("greffe", deep.encode())) == [(Code.LIMIT_EXCEEDED, "")]
    doc = json.loads(hostile.AVOCAT)
    nested: object = 1
    for _ in range(40):
        nested = [nested]
    doc["titre"]["nature"] = nested
    assert refusal("avocat", json.dumps(doc).encode()).code == Code.LIMIT_EXCEEDED


def test_a_long_attribute_value_or_comment_is_refused() -> None:
    long = "x" * 10_001
    attr = hostile.GREFFE.replace("<Nature>", f'<Nature a="{long}">', 1)
    assert codes(refusal("greffe", attr.encode())) == [(Code.LIMIT_EXCEEDED, "Decision/Nature")]
    comment = hostile.GREFFE.replace("<Nature>", f"<!--{long}--><Nature>", 1)
    assert codes(refusal("greffe", comment.encode())) == [(Code.LIMIT_EXCEEDED, "Decision")]


def test_a_large_attachment_is_still_accepted() -> None:
    # attachments (base64) are the one text allowed as long as the payload
    doc = json.loads(hostile.AVOCAT)
    doc["pieces_jointes"][0]["contenu"] = "QUFB" * 500_000
    assert validate("avocat", json.dumps(doc).encode(), received_at=NOW).dossier


def test_an_unforeseen_exception_becomes_unprocessable_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.domain import rules

    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("Invalid tag name 'Julien Martin 1985-03-14'")

    monkeypatch.setattr(rules, "check", broken)
    error = refusal("greffe", hostile.GREFFE.encode())
    assert error.code == Code.UNPROCESSABLE_PAYLOAD
    assert "Julien" not in str(problem(error))


def test_issues_are_always_encodable() -> None:
    issue = Issue(Code.SCHEMA_VIOLATION, "a\udc80b" + "k" * 1000, "unexpected key \uffff\x01")
    assert issue.field.startswith("a\ufffdb")
    assert len(issue.field) == 257
    assert issue.message == "unexpected key \ufffd\ufffd"
    receipt_bytes({"errors": [issue.as_dict()]})  # UTF-8, no UnicodeEncodeError


def test_sanitizers() -> None:
    assert xml_safe("ok\tok\n") == "ok\tok\n"
    assert xml_safe("\ud800\ufffe\x00") == "\ufffd" * 3
    assert unquoted("Failed to parse QName 'DateNaissance:1985-03-14'") == "Failed to parse QName '…'"
    assert unquoted('value "Martin" and “Lefèvre”') == "value '…' and '…'"
    # schema names (after Element, attribute, type, facet) stay: the message must still say where
    message = "Element 'IBAN': 'FR76 3000' is not a valid value of the atomic type 'IBAN2007Identifier'."
    assert (
        unquoted(message)
        == "Element 'IBAN': '…' is not a valid value of the atomic type 'IBAN2007Identifier'."
    )


def test_a_sepa_file_refused_by_its_xsd_never_quotes_a_value(tmp_path: Path) -> None:
    golden = Path(__file__).resolve().parents[1] / "golden" / "sepa" / "pain.008.001.08.xml"
    text = golden.read_text(encoding="utf-8")
    name = re.search(r"<Dbtr>\s*<Nm>([^<]+)</Nm>", text)
    assert name is not None
    bad = tmp_path / "bad.xml"
    bad.write_text(text.replace(f"<Nm>{name.group(1)}</Nm>", "<Nm>" + "Jean-Baptiste Lefevre " * 8 + "</Nm>"))
    with pytest.raises(GatewayError) as caught:
        validate_file(bad, "pain.008.001.08")
    assert "Jean-Baptiste" not in json.dumps(problem(caught.value))
    assert "line" in caught.value.message
