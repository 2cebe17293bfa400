"""Typed reading of a schema-valid greffe or notaire document: the parts both XML formats share."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

from lxml import etree

from gateway.adapters.paths import join
from gateway.adapters.xmlcheck import element_path
from gateway.domain.transmission import Address, Attachment, BankAccount, Child, Parent, Place
from gateway.errors import Code, Issue, RuleViolation, SchemaViolation

_XML_SPACES = re.compile(r"[ \t\n\r]+")


def collapse(text: str | None) -> str:
    """The value of an xs:token: XML whitespace collapsed (not NBSP, which French text uses).

    >>> collapse("  Jean\tPierre ")
    'Jean Pierre'
    """
    if text is None:
        return ""
    # most values have nothing to collapse: no tab, newline or CR (isprintable is False for
    # them), no run of spaces, no space at either end
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return _XML_SPACES.sub(" ", text).strip(" ")


class Reader:
    """Typed access to a schema-valid document of one namespace; collects impossible dates."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.issues: list[Issue] = []

    def q(self, name: str) -> str:
        return f"{{{self.namespace}}}{name}"

    def find(self, parent: etree._Element, name: str) -> etree._Element | None:
        # the first child of that name, as parent.find() gives, without its path machinery
        return next(parent.iterchildren(self.q(name)), None)

    def get(self, parent: etree._Element, name: str) -> etree._Element:
        found = next(parent.iterchildren(self.q(name)), None)
        if found is None:  # the schema requires it; kept as our own error all the same
            raise SchemaViolation(f"the element {name} is missing", field=join(element_path(parent), name))
        return found

    def all(self, parent: etree._Element, path: str) -> Iterator[etree._Element]:
        return iter(parent.findall("/".join(self.q(p) for p in path.split("/"))))

    def text(self, parent: etree._Element, name: str) -> str:
        return collapse(self.get(parent, name).text)

    def opt_text(self, parent: etree._Element, name: str) -> str | None:
        found = self.find(parent, name)
        return None if found is None else collapse(found.text)

    def texts(self, parent: etree._Element, path: str) -> tuple[str, ...]:
        return tuple(collapse(e.text) for e in self.all(parent, path))

    def boolean(self, parent: etree._Element, name: str) -> bool:
        return self.text(parent, name) in {"true", "1"}

    def opt_boolean(self, parent: etree._Element, name: str) -> bool | None:
        value = self.opt_text(parent, name)
        return None if value is None else value in {"true", "1"}

    def integer(self, parent: etree._Element, name: str) -> int:
        # the schema bounds the value, not its writing: 4,300 leading zeros are a valid xs:integer
        # and more than Python's int() reads (its guard against quadratic conversions)
        text = self.text(parent, name).lstrip("+")
        digits = text.lstrip("-").lstrip("0") or "0"
        if len(digits) > 30 or not digits.isdigit() or not digits.isascii():
            raise SchemaViolation("must be a whole number", field=element_path(self.get(parent, name)))
        return int(("-" if text.startswith("-") else "") + digits)

    def decimal(self, parent: etree._Element, name: str) -> Decimal:
        return Decimal(self.text(parent, name))

    def date(self, parent: etree._Element, name: str) -> dt.date:
        element = self.get(parent, name)
        try:
            return dt.date.fromisoformat(collapse(element.text))
        except ValueError:
            # the path only when needed: computing it walks the siblings
            path = element_path(element)
            self.issues.append(Issue(Code.INVALID_DATE, path, "not a real calendar date (YYYY-MM-DD)"))
            return dt.date.min  # never used: parse() raises when any date was impossible

    def opt_date(self, parent: etree._Element, name: str) -> dt.date | None:
        return None if self.find(parent, name) is None else self.date(parent, name)

    def place(self, element: etree._Element | None) -> Place | None:
        if element is None:
            return None
        return Place(
            commune=self.text(element, "Commune"),
            country=self.text(element, "Pays"),
            insee_code=self.opt_text(element, "CodeInsee"),
        )

    def address(self, element: etree._Element | None) -> Address | None:
        if element is None:
            return None
        return Address(
            lines=self.texts(element, "Ligne"),
            postal_code=self.text(element, "CodePostal"),
            commune=self.text(element, "Commune"),
            country=self.text(element, "Pays"),
        )

    def bank_account(self, element: etree._Element | None) -> BankAccount | None:
        if element is None:
            return None
        return BankAccount(
            holder=self.text(element, "Titulaire"),
            iban=self.text(element, "IBAN"),
            bic=self.opt_text(element, "BIC"),
            rib_date=self.date(element, "DateRIB"),
        )

    def parent(self, element: etree._Element) -> Parent:
        """A parent (1074-4 II 1°, 7°, 8° CPC); bank details only in the notaire format."""
        place = self.place(self.get(element, "LieuNaissance"))
        assert place is not None
        return Parent(
            birth_name=self.text(element, "NomNaissance"),
            usage_name=self.opt_text(element, "NomUsage"),
            first_names=self.texts(element, "Prenoms/Prenom"),
            birth_date=self.date(element, "DateNaissance"),
            birth_place=place,
            nir=self.opt_text(element, "NIR"),
            agricultural_scheme=self.opt_boolean(element, "RegimeAgricole"),
            address=self.address(self.find(element, "Adresse")),
            phone=self.opt_text(element, "Telephone"),
            email=self.opt_text(element, "Courriel"),
            bank_account=self.bank_account(self.find(element, "CoordonneesBancaires")),
        )

    def child(self, element: etree._Element) -> Child:
        """A child without its revaluation clause (1074-4 II 1°, 5°, 8° CPC)."""
        return Child(
            birth_name=self.text(element, "NomNaissance"),
            first_names=self.texts(element, "Prenoms/Prenom"),
            birth_date=self.opt_date(element, "DateNaissance"),
            birth_place=self.place(self.find(element, "LieuNaissance")),
            monthly_amount=self.decimal(element, "MontantMensuel"),
            effective_date=self.date(element, "DateEffet"),
        )

    def attachments(self, element: etree._Element) -> tuple[Attachment, ...]:
        found: list[Attachment] = []
        for piece in self.all(element, "Piece"):
            try:
                content = base64.b64decode(
                    re.sub(rb"[ \t\n\r]", b"", (piece.text or "").encode()), validate=True
                )
            except (binascii.Error, ValueError):
                raise SchemaViolation(
                    "the content must be base64-encoded", field=element_path(piece)
                ) from None
            found.append(
                Attachment(
                    kind=collapse(piece.get("type")),
                    media_type=collapse(piece.get("mediaType")),
                    content=content,
                )
            )
        return tuple(found)

    def raise_if_any(self) -> None:
        if self.issues:
            raise RuleViolation.from_issues(self.issues)
