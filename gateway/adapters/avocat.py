"""Avocat adapter: the lawyers' JSON (CONTRACT.md §3, R. 582-4-1 CSS; title kinds 3 and 6) -> Transmission."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import ValidationError
from jsonschema.protocols import Validator

from gateway.adapters.paths import PathTable, join, json_path, nest
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
from gateway.safeparse import DEFAULT_MAX_BYTES, parse_json

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "avocat-1.schema.json"
MAX_ISSUES = 100  # as for XML: a hostile document must not become a huge answer
_MAX_KEY_SHOWN = 64  # an unexpected key is echoed in the path, cut to a sane length

JSON_TYPES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}

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


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # ECMA-262 semantics: `$` ends the input. Python's `$` also matches before a final newline,
    # which would let "2026-11-02\n" through.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _compiled(pattern).search(instance):
        yield ValidationError("does not match the pattern")


@cache
def _validator() -> Validator:
    """The avocat JSON Schema, compiled once per process."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": _pattern}
    )
    validator: Validator = cls(schema)
    return validator


def _shown(key: object) -> str:
    text = str(key)
    return text if len(text) <= _MAX_KEY_SHOWN else text[:_MAX_KEY_SHOWN] + "…"


def _messages(err: ValidationError) -> Iterator[Issue]:
    """Our issues for one jsonschema error; never the offending value (it may be personal data)."""
    path = json_path(err.absolute_path)
    keyword, schema = err.validator, err.schema
    value: Any = err.validator_value
    if not isinstance(schema, Mapping):
        schema = {}
    if keyword == "anyOf":  # a nullable value that is not null: what its non-null form says
        for sub in err.context or ():
            branch = sub.relative_schema_path[0] if sub.relative_schema_path else None
            if isinstance(branch, int) and value[branch] != {"type": "null"}:
                yield from _messages(sub)
        return
    if keyword == "required" and isinstance(err.instance, Mapping):
        for key in value:
            if key not in err.instance:
                yield Issue(Code.SCHEMA_VIOLATION, join(path, key, "."), f"the required key {key} is missing")
        return
    if keyword == "additionalProperties" and isinstance(err.instance, Mapping):
        known = schema.get("properties", {})
        for key in err.instance:
            if key not in known:
                yield Issue(Code.SCHEMA_VIOLATION, join(path, _shown(key), "."), "unexpected key")
        return
    if keyword == "type":
        kinds = [value] if isinstance(value, str) else list(value)
        yield Issue(
            Code.SCHEMA_VIOLATION, path, "must be " + " or ".join(JSON_TYPES.get(k, k) for k in kinds)
        )
        return
    if keyword == "const":
        message = f"must be {value}"
    elif keyword == "enum":
        message = "must be one of " + ", ".join(str(v) for v in value)
    elif keyword in {"minimum", "maximum"}:
        message = f"must be from {schema.get('minimum')} to {schema.get('maximum')}"
    elif keyword == "maxLength":
        message = f"must be at most {value} characters long"
    elif keyword == "minLength":
        message = "must not be empty"
    elif keyword == "minItems":
        message = f"must list at least {value} item{'s' if value != 1 else ''}"
    elif keyword == "maxItems":
        message = f"must list at most {value} items"
    elif keyword == "pattern" and "description" in schema:
        message = f"must be {schema['description']}"
    else:
        message = "does not match the schema"
    yield Issue(Code.SCHEMA_VIOLATION, path, message)


def _base64_issues(document: Any) -> Iterator[Issue]:
    """`contenu` must be RFC 4648 base64; JSON Schema cannot check it."""
    pieces = document.get("pieces_jointes") if isinstance(document, dict) else None
    if not isinstance(pieces, list):
        return
    for i, piece in enumerate(pieces):
        content = piece.get("contenu") if isinstance(piece, dict) else None
        if isinstance(content, str) and content:
            try:
                base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                yield Issue(
                    Code.SCHEMA_VIOLATION,
                    f"pieces_jointes[{i}].contenu",
                    "must be base64-encoded content (RFC 4648, no line breaks)",
                )


def schema_issues(document: Any) -> list[Issue]:
    """Every schema error of the document, one per path, at most MAX_ISSUES (then a summary)."""
    issues: list[Issue] = []
    seen: set[str] = set()
    errors = _validator().iter_errors(document)
    found = (issue for err in errors for issue in _messages(err))
    for issue in (*found, *_base64_issues(document)):
        if issue.field in seen:
            continue
        if len(issues) == MAX_ISSUES:
            issues.append(Issue(Code.SCHEMA_VIOLATION, "", "more schema errors follow; not listed"))
            break
        seen.add(issue.field)
        issues.append(issue)
    return issues


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
            document = parse_json(data, max_bytes=max_bytes)
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
