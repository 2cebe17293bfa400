"""What the console shows of personal data: IBANs and NIRs masked, the violence flag as yes/no."""

from __future__ import annotations

from typing import Any


def mask_iban(iban: str | None) -> str:
    """Every character but the last 4 hidden, in groups of 4 ending with the last 4 shown:
    `FR1420041010050500013M02606` -> `••• •••• •••• •••• •••• •••• 2606`."""
    if not iban:
        return ""
    compact = iban.replace(" ", "")
    hidden = "•" * max(len(compact) - 4, 0)
    head = len(hidden) % 4
    groups = ([hidden[:head]] if head else []) + [hidden[i : i + 4] for i in range(head, len(hidden), 4)]
    return " ".join([*groups, compact[-4:]])


def mask_nir(nir: str | None) -> str:
    """A NIR with only its last 3 characters shown (its key: enough to tell two people apart)."""
    if not nir:
        return ""
    return "•" * max(len(nir) - 3, 0) + nir[-3:]


def person_view(person: dict[str, Any] | None) -> dict[str, Any] | None:
    """A parent of the canonical dossier, as the console shows it."""
    if person is None:
        return None
    account = person.get("bank_account")
    names = " ".join(person.get("first_names") or [])
    usage = person.get("usage_name")
    address = person.get("address") or {}
    return {
        "name": f"{names} {person.get('birth_name', '')}".strip() + (f" ({usage})" if usage else ""),
        "birth_date": person.get("birth_date"),
        "nir": mask_nir(person.get("nir")),
        "address": ", ".join(
            [*(address.get("lines") or []), f"{address.get('postal_code', '')} {address.get('commune', '')}"]
        ).strip(", "),
        "account": None
        if not account
        else {
            "holder": account.get("holder"),
            "iban": mask_iban(account.get("iban")),
            "bic": account.get("bic"),
        },
    }


def dossier_view(dossier: dict[str, Any]) -> dict[str, Any]:
    """The canonical dossier without raw IBANs or NIRs; `violence` is only True or False."""
    title = dossier.get("title") or {}
    source = dossier.get("source") or {}
    return {
        "dossier_id": dossier.get("dossier_id"),
        "received_at": dossier.get("received_at"),
        "source_kind": source.get("kind"),
        "sender": (source.get("sender") or {}).get("name"),
        "reference": source.get("reference"),
        "title_nature": title.get("nature"),
        "title_date": title.get("date"),
        "intermediation": dossier.get("intermediation"),
        "handling_body": dossier.get("handling_body"),
        "violence": bool(dossier.get("violence_alleged")),
        "debtor": person_view(dossier.get("debtor")),
        "creditor": person_view(dossier.get("creditor")),
        "children": [
            {
                "name": " ".join(child.get("first_names") or []) + " " + child.get("birth_name", ""),
                "birth_date": child.get("birth_date"),
                "monthly_amount": child.get("monthly_amount"),
                "effective_date": child.get("effective_date"),
            }
            for child in dossier.get("children") or []
        ],
        "monthly_total": dossier.get("monthly_total"),
        "end_date": dossier.get("end_date"),
    }
