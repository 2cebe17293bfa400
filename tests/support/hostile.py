"""The inputs that once broke the gateway (issue 12), built from the examples: tests and fuzz seeds."""

from __future__ import annotations

import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
GREFFE = (EXAMPLES / "greffe-1.xml").read_text(encoding="utf-8")
NOTAIRE = (EXAMPLES / "notaire-1.xml").read_text(encoding="utf-8")
AVOCAT = (EXAMPLES / "avocat-1.json").read_text(encoding="utf-8")
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def _once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _avocat_with(path: tuple[str, ...], value: object) -> bytes:
    doc = json.loads(AVOCAT)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")


def xsi_type() -> bytes:
    """xsi:type naming a type the schema does not have (xmlschema raised XMLSchemaKeyError)."""
    return _once(GREFFE, "<Nature>", f'<Nature {XSI} xsi:type="xs:string">').encode()


def xsi_type_quoting_a_value() -> bytes:
    """libxml2 quotes the QName it could not read: here a birth date."""
    return _once(
        GREFFE, "<DateNaissance>", f'<DateNaissance {XSI} xsi:type="DateNaissance:1985-03-14">'
    ).encode()


def long_integer() -> bytes:
    """4,300 leading zeros: a valid xs:integer, more digits than Python's int() reads."""
    return _once(GREFFE, "<NombreEnfants>2<", "<NombreEnfants>" + "0" * 4300 + "2<").encode()


def longer_integer() -> bytes:
    """4,400 significant digits: the schema refuses it, int() would raise."""
    return _once(GREFFE, "<NombreEnfants>2<", "<NombreEnfants>" + "9" * 4400 + "<").encode()


def bom_in_attribute_name() -> bytes:
    """U+FEFF in an attribute name: XML 1.0 (5th ed.) allows it, lxml's QName() did not."""
    return _once(GREFFE, "<Nature>", '<Nature a\ufeffb="1">').encode()


def nonchar_in_avocat_text() -> bytes:
    """U+FFFF in a JSON string: valid JSON, not an XML character (to_xml raised)."""
    doc = json.loads(AVOCAT)
    return _avocat_with(("titre", "nature"), doc["titre"]["nature"] + "\uffff")


def lone_surrogate_key() -> bytes:
    """A lone surrogate as a key, echoed in the rejection receipt (UnicodeEncodeError)."""
    return AVOCAT.rstrip()[:-1].encode() + b', "\\udc80": 1}'


def huge_commune() -> bytes:
    """A 5,000,000-character commune (a schema pattern took 2-3 s of CPU to refuse it)."""
    return _once(GREFFE, "<Commune>Nantes</Commune>", "<Commune>" + "a" * 5_000_000 + "</Commune>").encode()


def huge_avocat_commune() -> bytes:
    return _avocat_with(("debiteur", "lieu_naissance", "commune"), "a" * 5_000_000)


# (source, name, payload) for every input above: the fuzz suite's seeds beside the examples
def all_hostile() -> list[tuple[str, str, bytes]]:
    return [
        ("greffe", "xsi-type", xsi_type()),
        ("greffe", "xsi-type-value", xsi_type_quoting_a_value()),
        ("greffe", "long-integer", long_integer()),
        ("greffe", "longer-integer", longer_integer()),
        ("greffe", "bom-in-attribute-name", bom_in_attribute_name()),
        ("avocat", "nonchar-in-text", nonchar_in_avocat_text()),
        ("avocat", "lone-surrogate-key", lone_surrogate_key()),
        ("greffe", "huge-commune", huge_commune()),
        ("avocat", "huge-commune", huge_avocat_commune()),
    ]
