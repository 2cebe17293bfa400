"""XML schema validation of the source documents, with errors as paths into the sender's document.

Schema errors are reported with the path of the offending element (`Enfants/Enfant[2]/MontantMensuel`,
no namespace prefix, 1-based indices) and a message of our own: libraries' messages quote the
offending value, which may be a name or a birth date, so they never reach the sender or a log.
libxml2 (lxml) says whether a document is valid; xmlschema explains what is wrong in one it refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any, cast

import xmlschema
from lxml import etree
from xmlschema.exceptions import XMLSchemaException
from xmlschema.validators.exceptions import XMLSchemaChildrenValidationError, XMLSchemaValidationError

from gateway.adapters.paths import join
from gateway.errors import Code, Issue, SchemaViolation
from gateway.resources import SCHEMAS_DIR

SCHEMA_DIR = SCHEMAS_DIR
# Refused documents up to this many elements get xmlschema's detailed messages (see schema_issues).
DETAILED_UP_TO = 5000
# Past this many schema errors the rest are summed up in one issue: a hostile document must not
# turn into a multi-megabyte answer.
MAX_ISSUES = 100
# Elements that may repeat always carry their index, even when alone: `Enfant[1]`, `Prenom[1]`.
REPEATABLE = frozenset({"Enfant", "Prenom", "Ligne", "Piece"})

# Human descriptions of our simple types, by name (the same names in both XSDs).
TYPE_DESCRIPTIONS = {
    "Date": "must be a date written YYYY-MM-DD",
    "Montant": "must be a decimal number written like 150.00",
    "Booleen": "must be true or false",
    "TypeTitre": "must be a whole number from 1 to 6",
    "NombreEnfants": "must be a whole number from 0 to 99",
    "Nom": "must be 1 to 100 characters of text, without control characters",
    "Libelle": "must be 1 to 200 characters of text, without control characters",
    "Reference": "must be 1 to 35 letters, digits or . _ / - starting with a letter or digit",
    "Code": "must be 1 to 35 letters, digits or . _ / - starting with a letter or digit",
    "NumeroMinute": "must be 1 to 35 characters among letters, digits, space and . _ / -",
    "TypeIndice": "must be 1 to 50 characters among letters, digits and . _ : / -",
    "Pays": "must be an ISO 3166-1 alpha-2 country code in capitals, like FR",
    "CodeInsee": "must be an INSEE commune code of 5 characters, like 44109 or 2A004",
    "CodePostal": "must be a postal code of 2 to 10 letters, digits, spaces or hyphens",
    "NIR": "must be a NIR of 15 characters, without spaces",
    "Telephone": "must be a phone number of digits, spaces and . ( ) -, optionally starting with +",
    "Courriel": "must be an e-mail address",
    "MediaType": "must be a media type like application/pdf",
    "Contenu": "must be base64-encoded content, not empty",
    "CRPCEN": "must be a CRPCEN of exactly 5 digits",
    "IBAN": "must be an IBAN in electronic form: capitals and digits, no spaces",
    "BIC": "must be a BIC of 8 or 11 capitals and digits",
}
BUILTIN_DESCRIPTIONS = {
    "base64Binary": "must be base64-encoded content",
    "boolean": "must be true or false",
    "integer": "must be a whole number",
    "nonNegativeInteger": "must be a whole number",
}

_MISSING_ATTRIBUTE = re.compile(r"missing required attribute '([^']+)'")
_UNEXPECTED_ATTRIBUTE = re.compile(r"'([^']+)' attribute not allowed")
_ATTRIBUTE_VALUE = re.compile(r"attribute ([^\s=]+)=")


@cache
def load_schema(filename: str) -> xmlschema.XMLSchema10:
    """Compile a source's XSD once per process (xmlschema: structured errors for the sender)."""
    return xmlschema.XMLSchema10(str(SCHEMA_DIR / filename))


@cache
def load_fast_schema(filename: str) -> etree.XMLSchema:
    """The same XSD for libxml2, which says valid or not some 50 times faster than xmlschema."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / filename), parser))


def local_name(tag: Any) -> str:
    # by hand, not etree.QName: that refuses names XML 1.0 (5th ed.) allows, like one with U+FEFF
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def namespace_of(tag: Any) -> str | None:
    return tag[1:].partition("}")[0] if isinstance(tag, str) and tag.startswith("{") else None


def element_path(element: etree._Element) -> str:
    """`Enfants/Enfant[2]/MontantMensuel`: from under the root, 1-based, no namespace prefix."""
    parts: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        if parent is None:
            break
        name = local_name(node.tag)
        same = [c for c in parent if c.tag == node.tag]
        if name in REPEATABLE or len(same) > 1:
            name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/".join(reversed(parts))


def _describe(validator: Any) -> str:
    kind = type(validator).__name__
    if kind == "XsdEnumerationFacets":
        return "must be one of " + ", ".join(str(v) for v in validator.enumeration)
    if kind == "XsdMaxLengthFacet":
        return f"must be at most {validator.value} characters long"
    if kind == "XsdMinLengthFacet":
        return "must not be empty"
    if kind == "XsdAtomicBuiltin":
        name = local_name(validator.name)
        return BUILTIN_DESCRIPTIONS.get(name, f"is not a valid {name}")
    owner = getattr(validator, "parent", None)
    name = local_name(getattr(owner, "name", None))
    return TYPE_DESCRIPTIONS.get(name, "does not match the schema")


def _children_issue(err: XMLSchemaChildrenValidationError, base: str, namespace: str) -> Issue:
    expected = [local_name(t) for t in (err.expected_tags or []) if isinstance(t, str)]
    invalid = err.invalid_child
    if invalid is not None and isinstance(invalid.tag, str):
        found = local_name(invalid.tag)
        if namespace_of(invalid.tag) != namespace:
            found += f" (namespace {namespace_of(invalid.tag) or 'none'})"
        known = (
            {e.name for e in err.validator.iter_elements()}
            if hasattr(err.validator, "iter_elements")
            else set()
        )
        present = {c.tag for c in err.elem if isinstance(c.tag, str)} if err.elem is not None else set()
        if expected and invalid.tag in known and f"{{{namespace}}}{expected[0]}" not in present:
            return Issue(
                Code.SCHEMA_VIOLATION,
                join(base, expected[0]),
                f"the required element {expected[0]} is missing (found {found} where it is expected)",
            )
        where = f"; expected {' or '.join(expected)}" if expected else ""
        what = "out of order" if invalid.tag in known else "not expected here"
        path = element_path(invalid) if isinstance(invalid, etree._Element) else join(base, found)
        return Issue(Code.SCHEMA_VIOLATION, path, f"the element {found} is {what}{where}")
    if expected:
        missing = expected[0]
        return Issue(Code.SCHEMA_VIOLATION, join(base, missing), f"the required element {missing} is missing")
    return Issue(Code.SCHEMA_VIOLATION, base, "the content of this element does not match the schema")


def _issue(err: XMLSchemaValidationError, namespace: str) -> Issue:
    elem = err.elem
    base = element_path(elem) if isinstance(elem, etree._Element) else ""
    if isinstance(err, XMLSchemaChildrenValidationError):
        return _children_issue(err, base, namespace)
    reason = err.reason or ""
    if m := _MISSING_ATTRIBUTE.search(reason):
        name = local_name(m.group(1))
        return Issue(Code.SCHEMA_VIOLATION, f"{base}/@{name}", f"the required attribute {name} is missing")
    if m := _UNEXPECTED_ATTRIBUTE.search(reason):
        name = local_name(m.group(1))[:64]  # the sender's own name: kept short
        return Issue(Code.SCHEMA_VIOLATION, f"{base}/@{name}", f"unexpected attribute {name}")
    if m := _ATTRIBUTE_VALUE.match(reason):
        name = local_name(m.group(1))
        return Issue(Code.SCHEMA_VIOLATION, f"{base}/@{name}", f"the attribute {_describe(err.validator)}")
    if "character data" in reason:
        return Issue(Code.SCHEMA_VIOLATION, base, "text is not allowed directly in this element")
    if "can't have child elements" in reason:
        return Issue(Code.SCHEMA_VIOLATION, base, "this element holds a value, not child elements")
    return Issue(Code.SCHEMA_VIOLATION, base, f"the value {_describe(err.validator)}")


def schema_issues(tree: etree._ElementTree, schema_file: str, root: str, namespace: str) -> list[Issue]:
    """Every schema error of the document, one per path, at most MAX_ISSUES (then a summary).

    libxml2 decides first, fast; a document it refuses goes through xmlschema, whose errors say
    which element, attribute or facet failed. xmlschema costs about 0.7 s per MB of dense
    elements, so a refused document with more than DETAILED_UP_TO elements (a real transmission
    has a few hundred) is reported from libxml2's errors: same paths, shorter messages.
    """
    top = tree.getroot()
    if top.tag != f"{{{namespace}}}{root}":
        name = local_name(top.tag)[:64]
        return [
            Issue(
                Code.SCHEMA_VIOLATION,
                name,
                f"the root element must be {root} in the namespace {namespace}, "
                f"not {name} in {(namespace_of(top.tag) or 'no namespace')[:200]}",
            )
        ]
    fast = load_fast_schema(schema_file)
    if fast.validate(tree):
        return []
    if sum(1 for _ in top.iter()) > DETAILED_UP_TO:
        return fast_issues(tree, fast)
    issues: list[Issue] = []
    resource = xmlschema.XMLResource(tree, allow="none")
    try:
        for err in load_schema(schema_file).iter_errors(resource):
            issues.append(_issue(err, namespace))
            if len(issues) > MAX_ISSUES * 2:  # duplicates per path are dropped below
                break
    except (XMLSchemaException, ValueError, LookupError, TypeError):
        # xmlschema chokes on some refused documents (an xsi:type naming an unknown type raises
        # XMLSchemaKeyError): libxml2 has refused it already, its findings are the answer
        return fast_issues(tree, fast)
    # should the validators ever disagree, libxml2's refusal stands
    return _capped(issues) or fast_issues(tree, fast)


def _capped(found: Iterable[Issue]) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    for issue in found:
        if issue.field in seen:
            continue
        if len(issues) == MAX_ISSUES:
            issues.append(Issue(Code.SCHEMA_VIOLATION, "", "more schema errors follow; not listed"))
            break
        seen.add(issue.field)
        issues.append(issue)
    return issues


_EXPECTED = re.compile(r"Expected is (?:one of )?\(([^)]*)\)")
_QNAME = re.compile(r"(\{[^}]*\})?([A-Za-z_][\w.-]*)")
_ATTRIBUTE_VALUE_FAST = re.compile(r"Element '[^']*', attribute '([^']+)'")
_ATTRIBUTE_MISSING = re.compile(r"The attribute '([^']+)' is required but missing")
_ATTRIBUTE_UNEXPECTED = re.compile(r"The attribute '([^']+)' is not allowed")


def _located(tree: etree._ElementTree, entry: Any) -> etree._Element | None:
    try:
        found = tree.xpath(entry.path) if entry.path else []
    except etree.XPathError:  # a prefix of the sender's own: find the element by its line
        last = str(entry.path).rsplit("/", 1)[-1].split(":")[-1]
        found = [e for e in tree.iter() if e.sourceline == entry.line and local_name(e.tag) == last]
    first = found[0] if isinstance(found, list) and found else None
    return first if isinstance(first, etree._Element) else None


def _fast_issue(tree: etree._ElementTree, entry: Any) -> Issue:
    # libxml2's messages quote values: only element and attribute names are taken from them
    element = _located(tree, entry)
    field = element_path(element) if element is not None else ""
    message: str = entry.message or ""
    if m := _ATTRIBUTE_MISSING.search(message):
        name = local_name(m.group(1))
        return Issue(Code.SCHEMA_VIOLATION, f"{field}/@{name}", f"the required attribute {name} is missing")
    if m := _ATTRIBUTE_UNEXPECTED.search(message):
        name = local_name(m.group(1))[:64]
        return Issue(Code.SCHEMA_VIOLATION, f"{field}/@{name}", f"unexpected attribute {name}")
    if m := _ATTRIBUTE_VALUE_FAST.match(message):
        name = local_name(m.group(1))
        return Issue(Code.SCHEMA_VIOLATION, f"{field}/@{name}", "the attribute does not match its type")
    if entry.type_name == "SCHEMAV_ELEMENT_CONTENT":
        listed = _EXPECTED.search(message)
        expected = (
            [(ns[1:-1] if ns else None, name) for ns, name in _QNAME.findall(listed.group(1))]
            if listed
            else []
        )
        names = [name for _, name in expected]
        if "Missing child element" in message and names:
            return Issue(
                Code.SCHEMA_VIOLATION, join(field, names[0]), f"the required element {names[0]} is missing"
            )
        parent = element.getparent() if element is not None else None
        if parent is not None and expected:
            first = f"{{{expected[0][0]}}}{expected[0][1]}" if expected[0][0] else expected[0][1]
            if all(c.tag != first for c in parent):
                missing = expected[0][1]
                return Issue(
                    Code.SCHEMA_VIOLATION,
                    join(element_path(parent), missing),
                    f"the required element {missing} is missing",
                )
        where = f"; expected {' or '.join(names)}" if names else ""
        return Issue(Code.SCHEMA_VIOLATION, field, f"this element is not expected here{where}")
    return Issue(Code.SCHEMA_VIOLATION, field, "the value does not match its type in the schema")


def fast_issues(tree: etree._ElementTree, fast: etree.XMLSchema) -> list[Issue]:
    """The issues libxml2 found, by path, with messages that never quote a value."""
    entries: list[Any] = list(cast(Iterable[Any], fast.error_log))
    issues = _capped(_fast_issue(tree, e) for e in entries)
    return issues or [Issue(Code.SCHEMA_VIOLATION, "", "the document does not match the schema")]


def checked(tree: etree._ElementTree, schema_file: str, root: str, namespace: str) -> None:
    """Raise SchemaViolation listing every schema error of the document, if any."""
    issues = schema_issues(tree, schema_file, root, namespace)
    if issues:
        raise SchemaViolation.from_issues(issues)
