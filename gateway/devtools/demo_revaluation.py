"""The demo's revaluation step (`gateway demo`; docs/revaluation.md).

A court registry sends the greffe example as a judgment of 20 March 2023 (one child silent on
revaluation, one with the judge's clause: INSEE 001763852, base 113.86, first revaluation on
1 January 2024, rounded to the nearest euro); the back-office reads its schedule and sees both
amounts revalued with the shipped INSEE values, then the month a value is still missing, held.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from gateway.domain.money import format_euros
from gateway.resources import EXAMPLES_DIR

Echo = Callable[[str], None]
Client = Callable[[str], httpx.Client]

_TITLE_OF_2023 = (
    (b"<Date>2026-11-16</Date>", b"<Date>2023-03-20</Date>"),
    (b"<DateEffet>2026-12-01</DateEffet>", b"<DateEffet>2023-04-01</DateEffet>"),
    (b'valeur="120.37"', b'valeur="113.86"'),
    (b"<DatePremiere>2027-12-01</DatePremiere>", b"<DatePremiere>2024-01-01</DatePremiere>"),
    (b"TJNANTES-2026-004217", b"TJNANTES-2023-001093"),
)


def greffe_title_of_2023() -> bytes:
    data = (EXAMPLES_DIR / "greffe-1.xml").read_bytes()
    for old, new in _TITLE_OF_2023:
        data = data.replace(old, new)
    return data


def revaluation_step(client: Client, echo: Echo) -> bool:
    """Post the 2023 judgment, read its schedule; True when the amounts are the hand-computed ones:
    indexed child: 180.00 × 117.33 (2023-11) / 113.86 = 185.486... -> 185 (nearest euro) from
    2024-01; silent child: 150.00 × 117.16 (2024-01) / 113.86 (2023-01) = 154.347... -> 154.35 from
    2024-04 (anniversary 20 March 2024); April 2025 needs the 2025-01 value: held."""
    with client("greffe") as greffe:
        sent = greffe.post(
            "/v1/greffe/transmissions", content=greffe_title_of_2023(),
            headers={"Content-Type": "application/xml"},
        )  # fmt: skip
    if sent.status_code != 201:
        echo(f"the 2023 judgment was refused ({sent.status_code})")
        return False
    dossier_id = sent.json()["receipt"]["dossier_id"]
    with client("backoffice") as back_office:
        months = back_office.get(
            f"/v1/dossiers/{dossier_id}/schedule", params={"from": "2023-12", "to": "2025-04"}
        ).json()["months"]
    by_period = {m["period"]: m for m in months}
    where = f"/v1/dossiers/{dossier_id}/schedule"
    echo(f"L. 582-1 I CSS: a judgment of 2023-03-20, read at {where}")
    for period in ("2023-12", "2024-01", "2024-04"):
        month = by_period[period]
        parts = []
        for child in month["children"]:
            index = child["index"]
            used = (
                f" ({index['series']} {index['value_period']} {index['value']} / "
                f"{index['base_period'] or 'title'} {index['base_value']})"
                if index
                else ""
            )
            parts.append(f"child {child['child']} {format_euros(child['due_cents'])}{used}")
        echo(f"  {period}: " + "; ".join(parts))
    held = by_period["2025-04"]
    reasons = sorted({c["held"]["code"] for c in held["children"] if c["held"]})
    echo(f"  2025-04: held {reasons}: `gateway indices missing --period 2025-04` lists it")
    dues = [c["due_cents"] for c in by_period["2024-04"]["children"]]
    return dues == [18500, 15435] and held["held"] and reasons == ["index-missing"]
