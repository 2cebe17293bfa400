"""Rules on the persons and documents: two distinct parents, valid NIRs, the expected documents."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date

from gateway.domain.identifiers import check_nir
from gateway.domain.transmission import Parent, SourceKind, Transmission
from gateway.errors import Code, Issue

# art. 1074-4 I CPC (executory extract), R. 582-4-1 CSS (executory copy; RIB with bank details)
EXECUTORY_DOCUMENT = {
    SourceKind.GREFFE: "EXTRAIT_EXECUTOIRE",
    SourceKind.NOTAIRE: "COPIE_EXECUTOIRE",
    SourceKind.AVOCAT: "COPIE_EXECUTOIRE",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _identity(p: Parent) -> tuple[str, tuple[str, ...], date]:
    return _fold(p.birth_name), tuple(_fold(n) for n in p.first_names), p.birth_date


def parents_distinct(t: Transmission, today: date) -> Iterator[Issue]:
    same_nir = t.debtor.nir is not None and t.debtor.nir == t.creditor.nir
    if same_nir or _identity(t.debtor) == _identity(t.creditor):
        yield Issue(
            Code.PARENTS_NOT_DISTINCT,
            "creditor",
            "the debtor and the creditor are the same person",
        )


def nir_valid(t: Transmission, today: date) -> Iterator[Issue]:
    for role, parent in (("debtor", t.debtor), ("creditor", t.creditor)):
        if parent.nir is not None:
            _, reason = check_nir(parent.nir, parent.birth_date)
            if reason is not None:
                yield Issue(Code.INVALID_NIR, f"{role}.nir", reason)


def documents_present(t: Transmission, today: date) -> Iterator[Issue]:
    kinds = {a.kind for a in t.attachments}
    expected = EXECUTORY_DOCUMENT[t.source]
    if expected not in kinds:
        yield Issue(
            Code.MISSING_ATTACHMENT,
            "attachments",
            f"no {expected} attached; the executory copy of the title must follow",
            severity="warning",
        )
    has_bank = t.debtor.bank_account is not None or t.creditor.bank_account is not None
    if has_bank and t.source is not SourceKind.GREFFE and "RIB" not in kinds:
        yield Issue(
            Code.MISSING_ATTACHMENT,
            "attachments",
            "bank details sent without the RIB they come from",
            severity="warning",
        )
