"""Fill a store with N realistic dossiers, signed mandates and payout accounts, fast.

    python bench/load_store.py --dossiers 1000000 --url sqlite:////tmp/bench/g.sqlite3
    python bench/load_store.py --dossiers 100000 --url postgresql://postgres@127.0.0.1:5432/postgres

So that the monthly run (`gateway sepa debits`) is measured end to end over a store of national
size. Each dossier is the canonical JSON of a real example title (schemas/examples/greffe-1.xml,
as `gateway validate` makes it: same size and shape as what intake stores), with its own id,
names, amounts, effective dates and IBANs; each has a signed mandate (5 % never collected yet:
FRST, the rest RCUR; debit day 1, 10 or 15; a BIC one time in three; one debtor in 200 banks in
Switzerland or Monaco with a BIC, so the EPC 2025 address rule is exercised) and a payout account.

Each dossier gets its collection profile, as intake writes it (gateway.payments.profile).
Direct inserts in chunks (SQLAlchemy Core executemany: `insertmanyvalues` on both backends), no
intake: no signatures, receipts or archive, which the collection run does not read. The store is
migrated first (`open_sql_store`). Prints one JSON line: dossiers, seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sepa import french_iban

from gateway.canonical.dossier import dossier_id_for
from gateway.payments.profile import profile_of
from gateway.sepa import ids
from gateway.services.validation import validate
from gateway.store import open_sql_store, schema

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 5_000
NOW = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
SIGNED_ON = date(2026, 9, 15)
NON_EEA = (("CH9300762011623852957", "UBSWCHZH80A"), ("MC5811222000010123456789030", "SGBTMCMCXXX"))


def template() -> dict[str, Any]:
    """The canonical dossier of a real example title."""
    data = (ROOT / "schemas" / "examples" / "greffe-1.xml").read_bytes()
    return dict(validate("greffe", data, received_at=datetime(2026, 11, 23, 8, tzinfo=UTC)).dossier)


Rows = tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]


def rows(n: int, base: dict[str, Any]) -> Iterator[Rows]:
    """(dossier, mandate, payout account, collection profile) rows for dossier numbers 0..n-1,
    deterministic; the profile is what intake writes with the dossier (gateway.payments.profile)."""
    for i in range(n):
        dossier_id = dossier_id_for(f"bench|{i}")  # as intake makes them: random, in arrival order
        data = dict(base)
        data["dossier_id"] = dossier_id
        children = []
        for position, child in enumerate(base["children"]):
            changed = dict(child)
            changed["monthly_amount"] = f"{100 + (i * 7 + position * 13) % 400}.00"
            changed["effective_date"] = f"20{22 + i % 4}-{1 + i % 12:02d}-01"
            children.append(changed)
        data["children"] = children
        data["monthly_total"] = f"{sum(int(c['monthly_amount'][:-3]) for c in children)}.00"
        data["end_date"] = None
        debtor = dict(base["debtor"])
        debtor["birth_name"] = f"Parent{i}"
        data["debtor"] = debtor
        terms, address = profile_of(data)
        iban, bic = french_iban(i), ("AGRIFRPP" if i % 3 == 0 else None)
        if i % 200 == 199:
            iban, bic = NON_EEA[(i // 200) % 2]
        yield (
            {
                "dossier_id": dossier_id,
                "dedupe_key": f"bench:{dossier_id}",
                "source_kind": "greffe",
                "sender": "bench",
                "reference": f"BENCH-{i}",
                "received_at": NOW,
                "canonical_json": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                "status": "accepted",
            },
            {
                "dossier_id": dossier_id,
                "reference": ids.mandate_reference(dossier_id),
                "status": "signed",
                "signed_on": SIGNED_ON,
                "method": "paper",
                "amended_on": None,
                "debtor_name": f"Parent debiteur {i}",
                "iban": iban,
                "bic": bic,
                "collection_day": None,
                "chosen_day": (1, 10, 15)[i % 3],
                "first_collection_done": i % 20 != 0,
                "pending_amendment": None,
                "updated_at": NOW,
            },
            {
                "dossier_id": dossier_id,
                "holder": f"Parent creancier {i}",
                "iban": french_iban(n + i),
                "bic": None,
                "recorded_at": NOW,
            },
            {"dossier_id": dossier_id, "terms": terms, "debtor_address": address},
        )


def load(url: str, n: int) -> float:
    store = open_sql_store(url)
    started = time.perf_counter()
    base = template()
    chunk: list[Rows] = []

    def flush() -> None:
        with store.engine.begin() as conn:
            conn.execute(schema.dossiers.insert(), [row[0] for row in chunk])
            conn.execute(schema.mandates.insert(), [row[1] for row in chunk])
            conn.execute(schema.payout_accounts.insert(), [row[2] for row in chunk])
            conn.execute(schema.collection_profiles.insert(), [row[3] for row in chunk])
        chunk.clear()

    for row in rows(n, base):
        chunk.append(row)
        if len(chunk) == CHUNK:
            flush()
    if chunk:
        flush()
    store.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, required=True)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the store (migrated here)")
    args = parser.parse_args()
    seconds = load(args.url, args.dossiers)
    print(json.dumps({"dossiers": args.dossiers, "seconds": round(seconds, 2)}))


if __name__ == "__main__":
    main()
