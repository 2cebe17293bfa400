"""Benchmark: every console page's server time with 100,000 dossiers in the store.

    python bench/console.py [--dossiers 100000] [--runs 20] [--work DIR] [--keep] [--database-url URL]

1. loads a store with direct inserts (no intake, no signing: minutes saved, same rows): N dossiers
   (the canonical JSON of the notaire example, ~3.5 KB each, ids varied) received over 24 months,
   N accepted receipts and N/10 refused ones (each with its error codes), N `dossier.accepted`
   events, N mandates, one pain.008 file of N debits with their bank status (3 % rejected AM04),
   N delivered webhook deliveries and 200 dead ones; an archive with a signed checkpoint;
2. serves the real app in process (the operator's certificate put in the ASGI scope as the TLS
   server does) and times each page `--runs` times after one warm-up: the time from the request
   entering the app to the last byte of the answer, TLS excluded ("server time");
3. times the next-collection forecast apart: it reads every dossier, so it runs in a background
   thread off the request path (gateway/console/forecast.py) and is not a page.

Prints one JSON line per page ({"page", "p50_ms", "p90_ms", "max_ms", "cpu_p50_ms", "cpu_max_ms"})
and a summary. `*_ms` are wall times; `cpu_*` the CPU time this process spent on the request (the
app and the in-process client together: an upper bound of the server's CPU, independent of what
else runs on the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from sqlalchemy import insert

from gateway.archive.store import Archive
from gateway.console import ConsoleServices
from gateway.devtools.pki import init_dev_pki
from gateway.services.intake import IntakeServices
from gateway.services.validation import validate
from gateway.signing.cms import Signer, load_trust_anchors
from gateway.store import open_sql_store, schema
from gateway.transport.http.app import create_app
from gateway.transport.http.identity import Authenticator, RoleMap

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 15, 9, 30, tzinfo=UTC)
CHUNK = 5000
CODES = ("invalid-iban", "missing-field", "invalid-date", "schema-violation", "rib-too-old")
SOURCES = ("greffe", "notaire", "avocat")


def _id(prefix: str, n: int, width: int = 20) -> str:
    return f"{prefix}{n:0{width}d}"


def _dossier_json() -> dict[str, Any]:
    payload = (ROOT / "schemas" / "examples" / "notaire-1.xml").read_bytes()
    return validate("notaire", payload, received_at=datetime(2026, 11, 20, tzinfo=UTC)).dossier


def load(url: str, n: int) -> dict[str, Any]:
    """Direct inserts of a national-size store; returns ids the pages are timed on."""
    store = open_sql_store(url)
    rng = random.Random(16)
    template = _dossier_json()
    start = NOW - timedelta(days=730)
    span = int((NOW - start).total_seconds())
    t0 = time.perf_counter()
    with store.transaction() as uow:
        conn = uow.connection
        for base in range(0, n, CHUNK):
            dossiers, receipts, events, mandates, debits, progress, deliveries = [], [], [], [], [], [], []
            for i in range(base, min(base + CHUNK, n)):
                dossier_id = _id("DOS-B", i)
                received = start + timedelta(seconds=rng.randrange(span))
                source = SOURCES[i % 3]
                data = {**template, "dossier_id": dossier_id, "received_at": received.isoformat()}
                dossiers.append(
                    {
                        "dossier_id": dossier_id,
                        "dedupe_key": _id("K", i, 40),
                        "source_kind": source,
                        "sender": f"CN={source}",
                        "reference": _id("REF", i),
                        "received_at": received,
                        "canonical_json": json.dumps(data, ensure_ascii=False),
                        "status": "accepted",
                    }
                )
                receipt: dict[str, Any] = {
                    "receipt_id": _id("RCT-A", i),
                    "status": "accepted",
                    "dossier_id": dossier_id,
                    "source": source,
                    "received_at": received.isoformat(),
                }
                receipts.append(
                    {
                        "receipt_id": receipt["receipt_id"],
                        "dossier_id": dossier_id,
                        "receipt_json": json.dumps(receipt, sort_keys=True, separators=(",", ":")),
                        "signature": b"\x30" * 900,
                        "created_at": received,
                    }
                )
                events.append(
                    {
                        "type": "dossier.accepted",
                        "dossier_id": dossier_id,
                        "payload_json": "{}",
                        "created_at": received,
                    }
                )
                mandates.append(
                    {
                        "dossier_id": dossier_id,
                        "reference": _id("ARIPA-B", i),
                        "signed_on": received.date(),
                        "debtor_name": "M. Thomas Dubois",
                        "iban": "FR7630006000011234567890189",
                        "bic": "AGRIFRPP",
                        "collection_day": None,
                        "chosen_day": 10,
                        "first_collection_done": True,
                        "status": "signed",
                        "method": "paper",
                        "pending_amendment": None,
                        "updated_at": received,
                    }
                )
                e2e = _id("DD202612-B", i, 23)
                debits.append(
                    {
                        "end_to_end_id": e2e,
                        "dossier_id": dossier_id,
                        "period": "2026-12",
                        "amount_cents": 21000,
                        "collection_date": date(2026, 12, 10),
                        "sequence": "RCUR",
                        "mandate_reference": _id("ARIPA-B", i),
                        "mandate_signed_on": received.date(),
                        "debtor_name": "M. Thomas Dubois",
                        "debtor_iban": "FR7630006000011234567890189",
                        "debtor_bic": "AGRIFRPP",
                        "amendment": None,
                        "message_id": "DD20261202-BENCH",
                        "payment_info_id": "PI-BENCH",
                        "created_at": NOW,
                        "status": "rejected" if i % 33 == 0 else "settled",
                        "reason": "AM04" if i % 33 == 0 else None,
                    }
                )
                progress.append(
                    {
                        "end_to_end_id": e2e,
                        "state": "rejected" if i % 33 == 0 else "settled",
                        "collected_cents": 0 if i % 33 == 0 else 21000,
                        "returned_cents": 0,
                        "reason": "AM04" if i % 33 == 0 else None,
                        "report_key": "camt.054:BENCH",
                        "updated_at": NOW,
                    }
                )
            conn.execute(insert(schema.dossiers), dossiers)
            conn.execute(insert(schema.receipts), receipts)
            conn.execute(insert(schema.mandates), mandates)
            conn.execute(insert(schema.debits), debits)
            conn.execute(insert(schema.debit_progress), progress)
            event_ids = [
                row[0]
                for row in conn.execute(insert(schema.events).returning(schema.events.c.event_id), events)
            ]
            for k, event_id in enumerate(event_ids):
                deliveries.append(
                    {
                        "subscription": f"back-office-{k % 3}",
                        "event_id": event_id,
                        "dossier_id": events[k]["dossier_id"],
                        "status": "delivered",
                        "attempts": 1,
                        "next_attempt_at": NOW,
                        "created_at": NOW,
                        "updated_at": NOW,
                        "delivered_at": NOW,
                    }
                )
            conn.execute(insert(schema.webhook_deliveries), deliveries)
        refused = []
        for j in range(n // 10):
            received = start + timedelta(seconds=rng.randrange(span))
            codes = [CODES[j % len(CODES)], CODES[(j * 7) % len(CODES)]]
            receipt = {
                "receipt_id": _id("RCT-F", j),
                "status": "rejected",
                "dossier_id": None,
                "source": SOURCES[j % 3],
                "sender": f"CN={SOURCES[j % 3]}",
                "received_at": received.isoformat(),
                "payload_sha256": "0" * 64,
                "errors": [{"code": c, "field": "Acte/Parties/Debiteur/IBAN", "message": "…"} for c in codes],
            }
            refused.append(
                {
                    "receipt_id": receipt["receipt_id"],
                    "dossier_id": None,
                    "receipt_json": json.dumps(receipt, sort_keys=True, separators=(",", ":")),
                    "signature": b"\x30" * 900,
                    "created_at": received,
                }
            )
        conn.execute(insert(schema.receipts), refused)
        conn.execute(
            insert(schema.payment_files),
            {
                "message_id": "DD20261202-BENCH",
                "kind": "pain.008",
                "version": "pain.008.001.08",
                "label": "2026-12",
                "created_at": NOW - timedelta(days=13),
                "file_name": "DD20261202-BENCH.xml",
                "sha256": "0" * 64,
                "count": n,
                "total_cents": 21000 * n,
                "archive_seq": None,
                "channel_ref": None,
            },
        )
        conn.execute(
            insert(schema.bank_reports),
            {
                "report_key": "camt.054:BENCH",
                "message": "camt.054.001.08",
                "report_id": "BENCH",
                "file_sha256": "0" * 64,
                "archive_seq": None,
                "imported_at": NOW - timedelta(days=3),
                "summary_json": json.dumps({"counts": {"settled": n - n // 33, "rejected": n // 33}}),
            },
        )
        dead_event = event_ids[-1]
        conn.execute(
            insert(schema.webhook_deliveries),
            [
                {
                    "subscription": "back-office-dead",
                    "event_id": dead_event - k,
                    "dossier_id": None,
                    "status": "dead",
                    "attempts": 8,
                    "next_attempt_at": NOW,
                    "last_status_code": 503,
                    "last_error": "HTTP 503",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for k in range(200)
            ],
        )
    store.close()
    return {"load_seconds": round(time.perf_counter() - t0, 1), "dossier": _id("DOS-B", n // 2)}


def _with_certificate(app: Any, der: bytes) -> Any:
    """The app as the TLS server runs it: the verified client certificate in the ASGI scope."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {
                **scope,
                "extensions": {**(scope.get("extensions") or {}), "tls": {"client_cert_der": der}},
            }
        await app(scope, receive, send)

    return asgi


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument("--profile", help="a page name: print where its time goes")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-console-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        pki = work / "pki"
        init_dev_pki(pki)
        url = args.database_url or f"sqlite:///{work / 'console.sqlite3'}"
        loaded = load(url, args.dossiers)
        store = open_sql_store(url)
        signer = Signer.from_files(pki / "signer.pem", pki / "signer-key.pem")
        archive = Archive(store, work / "blobs", signer=signer)
        for k in range(1000):
            archive.append("bench", f"entry {k}".encode())
        archive.checkpoint()
        console = ConsoleServices(
            store=store,
            archive=archive,
            signer=signer,
            trust_anchors=load_trust_anchors(pki / "ca.pem"),
            csrf_key=b"bench",
            clock=lambda: NOW,
        )
        t0 = time.perf_counter()
        forecast = console.forecast.refresh_now()
        forecast_seconds = time.perf_counter() - t0
        intake = IntakeServices(store=store, signer=signer, archive=archive)
        app = create_app(
            authenticator=Authenticator(RoleMap()),
            services={ConsoleServices: console, IntakeServices: intake},
        )
        der = x509.load_pem_x509_certificate((pki / "operator.pem").read_bytes()).public_bytes(Encoding.DER)
        client = TestClient(_with_certificate(app, der), base_url="https://bench")
        pages = {
            "dashboard": "/console/",
            "refused": "/console/refused",
            "refused?code": "/console/refused?code=rib-too-old",
            "refused?source&dates": "/console/refused?source=avocat&from=2026-06-01&to=2026-06-30",
            "refused page 2": None,
            "refusal": "/console/refused/" + _id("RCT-F", 7),
            "dossier": "/console/dossiers/" + loaded["dossier"],
            "collections": "/console/collections",
            "deliveries": "/console/deliveries",
            "archive": "/console/archive",
            "archive?seq (proof)": "/console/archive?seq=500",
            "audit": "/console/audit",
        }
        first = client.get("/console/refused")
        last_id = re.findall(r'href="/console/refused/(RCT-[0-9A-F]+)"', first.text)[-1]
        pages["refused page 2"] = f"/console/refused?before={last_id}"
        worst = 0.0
        load_before = os.getloadavg()
        for name, path in pages.items():
            assert path is not None
            answer = client.get(path)
            assert answer.status_code == 200, (name, answer.status_code, answer.text[:300])
            times, cpu = [], []
            for _ in range(args.runs):
                t, c = time.perf_counter(), time.process_time()
                answer = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                assert answer.status_code == 200
            worst = max(worst, *times)
            if args.profile == name:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.runcall(client.get, path)
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
            print(
                json.dumps(
                    {
                        "page": name,
                        "p50_ms": round(statistics.median(times), 1),
                        "p90_ms": round(sorted(times)[int(len(times) * 0.9) - 1], 1),
                        "max_ms": round(max(times), 1),
                        "cpu_p50_ms": round(statistics.median(cpu), 1),
                        "cpu_max_ms": round(max(cpu), 1),
                    }
                )
            )
        print(
            json.dumps(
                {
                    "dossiers": args.dossiers,
                    "runs": args.runs,
                    "worst_ms": round(worst, 1),
                    "forecast_seconds": round(forecast_seconds, 2),
                    "forecast_count": forecast.count,
                    "load_seconds": loaded["load_seconds"],
                    "database": url.split(":")[0],
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                }
            )
        )
        archive.close()
        store.close()
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
