"""A small description of the canonical dossier's shape, from which its JSON Schema, its XSD and its
XML reader and writer are all derived, so that the three never drift apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scalar:
    """A leaf: `kind` is one of string, boolean, integer, date, datetime, amount, enum."""

    kind: str
    nullable: bool = False
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    max_length: int | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Obj:
    fields: tuple[tuple[str, Node], ...]
    nullable: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class Array:
    item_name: str  # the XML element name of one item inside the list's wrapper element
    item: Node
    description: str = ""
    min_items: int = 0


Node = Scalar | Obj | Array


def s(kind: str = "string", *, null: bool = False, desc: str = "", **kw: object) -> Scalar:
    enum = kw.get("enum", ())
    pattern = kw.get("pattern")
    max_length = kw.get("max_length")
    return Scalar(
        kind,
        nullable=null,
        enum=tuple(enum) if isinstance(enum, tuple | list) else (),
        pattern=pattern if isinstance(pattern, str) else None,
        max_length=max_length if isinstance(max_length, int) else None,
        description=desc,
    )


def o(*fields: tuple[str, Node], null: bool = False, desc: str = "") -> Obj:
    return Obj(tuple(fields), nullable=null, description=desc)


_place = o(
    ("commune", s()),
    ("insee_code", s(null=True)),
    ("country", s(pattern="[A-Z]{2}", desc="ISO 3166-1 alpha-2")),
    null=True,
)
_person = o(
    ("birth_name", s(desc="art. 1074-4 II 1° CPC")),
    ("usage_name", s(null=True)),
    ("first_names", Array("first_name", s(), min_items=1)),
    ("birth_date", s("date")),
    ("birth_place", _place),
    ("nir", s(null=True, pattern="[0-9]{7}[0-9AB][0-9]{7}", desc="NIR if transmitted")),
    ("agricultural_scheme", s("boolean", null=True, desc="art. 1074-4 II 7° CPC; null if unknown")),
    (
        "address",
        o(
            ("lines", Array("line", s(), min_items=1)),
            ("postal_code", s()),
            ("commune", s()),
            ("country", s(pattern="[A-Z]{2}")),
            null=True,
        ),
    ),
    ("phone", s(null=True)),
    ("email", s(null=True)),
    (
        "bank_account",
        o(
            ("holder", s()),
            ("iban", s(pattern="[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")),
            ("bic", s(null=True, pattern="[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")),
            ("rib_date", s("date")),
            null=True,
            desc="R. 582-4-1 CSS, only with both parents' consent",
        ),
    ),
)

DOSSIER_NS = "urn:fr:ifpa:dossier:1"

DOSSIER = o(
    ("schema", s(enum=(DOSSIER_NS,))),
    ("dossier_id", s(pattern="DOS-[0-9A-Z]{16}")),
    ("received_at", s("datetime")),
    (
        "source",
        o(
            ("kind", s("enum", enum=("greffe", "avocat", "notaire"))),
            (
                "sender",
                o(
                    ("name", s()),
                    ("code", s(null=True)),
                    ("email", s(null=True)),
                    ("phone", s(null=True)),
                ),
            ),
            ("reference", s()),
        ),
    ),
    (
        "title",
        o(
            ("kind", s("integer", desc="art. 373-2-2 I C. civ., 1 to 6")),
            ("nature", s()),
            ("date", s("date")),
            ("is_divorce", s("boolean", null=True)),
            ("court", s(null=True, desc="art. 1074-4 II 3° CPC")),
            ("minute_number", s(null=True, desc="art. 1074-4 II 4° CPC")),
            (
                "deposit_attestation",
                o(("notary", s()), ("crpcen", s(pattern="[0-9]{5}")), ("date", s("date")), null=True),
            ),
            ("executory_formula_date", s("date", null=True)),
            ("reinstatement", s("boolean")),
        ),
    ),
    ("intermediation", s("enum", enum=("in_place", "reinstated"))),
    ("violence_alleged", s("boolean", desc="art. 1074-4 II 10° CPC: the flag only")),
    ("handling_body", s("enum", enum=("CAF", "MSA"))),
    ("debtor", _person),
    ("creditor", _person),
    ("bank_details_consent", s("boolean", null=True)),
    (
        "children",
        Array(
            "child",
            o(
                ("birth_name", s()),
                ("first_names", Array("first_name", s(), min_items=1)),
                ("birth_date", s("date", null=True)),
                ("birth_place", _place),
                ("monthly_amount", s("amount")),
                ("effective_date", s("date")),
                (
                    "indexation",
                    o(
                        ("mode", s("enum", enum=("silent", "excluded", "indexed"))),
                        ("index_type", s(null=True)),
                        ("index_value", s("decimal", null=True)),
                        ("first_revaluation_date", s("date", null=True)),
                        ("rounding", s(null=True)),
                        null=True,
                        desc="art. 1074-4 II 6° CPC; null when the source does not carry it",
                    ),
                ),
            ),
            min_items=1,
        ),
    ),
    ("monthly_total", s("amount")),
    ("end_date", s("date", null=True)),
    (
        "attachments",
        Array(
            "attachment",
            o(
                ("kind", s()),
                ("media_type", s()),
                ("sha256", s(pattern="[0-9a-f]{64}")),
                ("size", s("integer")),
            ),
        ),
    ),
    (
        "warnings",
        Array("warning", o(("code", s()), ("field", s()), ("message", s()))),
    ),
)
