"""Build the canonical dossier (a JSON-ready dict in the contract's key order) from a transmission."""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from gateway.canonical.shape import DOSSIER_NS
from gateway.domain.money import format_euros, to_cents
from gateway.domain.transmission import (
    Address,
    BankAccount,
    Child,
    Parent,
    Place,
    SourceKind,
    Transmission,
)
from gateway.errors import Issue

Json = dict[str, Any]


def _fold(text: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).upper().split())


def dedupe_key(t: Transmission) -> str:
    """What makes two sends the same title (docs/rules.md "Duplicates"): source, court or office,
    minute or reference, date. A greffe's title is its minute at its court: a new ReferenceEnvoi
    for the same minute is still the same decision."""
    title = t.title
    if t.source is SourceKind.GREFFE:
        office = _fold(t.sender.code or t.sender.name)
        ref = _fold(title.minute_number)
    else:
        office = _fold(t.sender.code) + "|" + _fold(t.sender.name)
        ref = _fold(t.reference)
    return "|".join((t.source.value, office, ref, title.date.isoformat()))


def dossier_id_for(key: str) -> str:
    """A stable dossier id from the dedupe key: the same title always gets the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return "DOS-" + base64.b32encode(digest[:10]).decode("ascii")


def _d(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _place(p: Place | None) -> Json | None:
    if p is None:
        return None
    return {"commune": p.commune, "insee_code": p.insee_code, "country": p.country}


def _address(a: Address | None) -> Json | None:
    if a is None:
        return None
    return {
        "lines": list(a.lines),
        "postal_code": a.postal_code,
        "commune": a.commune,
        "country": a.country,
    }


def _bank(b: BankAccount | None) -> Json | None:
    if b is None:
        return None
    iban = "".join(b.iban.split()).upper()
    bic = "".join(b.bic.split()).upper() if b.bic else None
    return {"holder": b.holder, "iban": iban, "bic": bic, "rib_date": b.rib_date.isoformat()}


def _person(p: Parent) -> Json:
    return {
        "birth_name": p.birth_name,
        "usage_name": p.usage_name,
        "first_names": list(p.first_names),
        "birth_date": p.birth_date.isoformat(),
        "birth_place": _place(p.birth_place),
        "nir": "".join(p.nir.split()) if p.nir else None,
        "agricultural_scheme": p.agricultural_scheme,
        "address": _address(p.address),
        "phone": p.phone,
        "email": p.email,
        "bank_account": _bank(p.bank_account),
    }


def _amount(value: Decimal) -> str:
    return format_euros(to_cents(value))


def _child(c: Child) -> Json:
    ix = c.indexation
    return {
        "birth_name": c.birth_name,
        "first_names": list(c.first_names),
        "birth_date": _d(c.birth_date),
        "birth_place": _place(c.birth_place),
        "monthly_amount": _amount(c.monthly_amount),
        "effective_date": c.effective_date.isoformat(),
        "indexation": None
        if ix is None
        else {
            "mode": ix.mode.value,
            "index_type": ix.index_type,
            "index_value": str(ix.index_value) if ix.index_value is not None else None,
            "first_revaluation_date": _d(ix.first_revaluation_date),
            "rounding": ix.rounding,
        },
    }


def handling_body(t: Transmission) -> str:
    # art. 1074-4 II 7° CPC: the MSA handles the dossier when a parent is in the agricultural scheme
    agricultural = t.debtor.agricultural_scheme or t.creditor.agricultural_scheme
    return "MSA" if agricultural else "CAF"


def utc_z(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times are timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_dossier(
    t: Transmission,
    *,
    received_at: datetime,
    warnings: Sequence[Issue],
    dossier_id: str | None = None,
) -> Json:
    """The canonical dossier of an accepted transmission. Absent information is null, never invented.

    Amounts must already have passed the rules (at most two decimals)."""
    title = t.title
    attestation = title.deposit_attestation
    return {
        "schema": DOSSIER_NS,
        "dossier_id": dossier_id or dossier_id_for(dedupe_key(t)),
        "received_at": utc_z(received_at),
        "source": {
            "kind": t.source.value,
            "sender": {
                "name": t.sender.name,
                "code": t.sender.code,
                "email": t.sender.email,
                "phone": t.sender.phone,
            },
            "reference": t.reference,
        },
        "title": {
            "kind": title.kind,
            "nature": title.nature,
            "date": title.date.isoformat(),
            "is_divorce": title.is_divorce,
            "court": title.court,
            "minute_number": title.minute_number,
            "deposit_attestation": None
            if attestation is None
            else {
                "notary": attestation.notary,
                "crpcen": attestation.crpcen,
                "date": attestation.date.isoformat(),
            },
            "executory_formula_date": _d(title.executory_formula_date),
            "reinstatement": title.reinstatement,
        },
        "intermediation": "reinstated" if title.reinstatement else "in_place",
        "violence_alleged": t.violence_alleged,
        "handling_body": handling_body(t),
        "debtor": _person(t.debtor),
        "creditor": _person(t.creditor),
        "bank_details_consent": t.bank_details_consent,
        "children": [_child(c) for c in t.children],
        "monthly_total": _amount(t.declared_monthly_total),
        "end_date": _d(t.end_date),
        "attachments": [
            {
                "kind": a.kind,
                "media_type": a.media_type,
                "sha256": hashlib.sha256(a.content).hexdigest(),
                "size": len(a.content),
            }
            for a in t.attachments
        ],
        "warnings": [w.as_dict() for w in warnings],
    }
