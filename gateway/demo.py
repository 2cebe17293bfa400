"""`gateway demo`: one whole exchange, narrated, in a throwaway folder on this machine.

A development PKI, the HTTPS service with mutual TLS on a free loopback port, the three sources
posting their example titles with their own certificates, a duplicate, a refused title, the
back-office reading a dossier, a receipt checked offline, and the archive verified.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from gateway.archive.store import Archive
from gateway.archive.verify import verify_archive
from gateway.bank_import import import_report
from gateway.bank_simulator import answer_collection
from gateway.bootstrap import Gateway, bank_channel, fund
from gateway.collection import RunReport, run_debits
from gateway.config import Settings
from gateway.domain.money import format_euros
from gateway.intake import receipt_bytes
from gateway.payout import run_credits
from gateway.pki import init_dev_pki
from gateway.resources import EXAMPLES_DIR
from gateway.signing import load_trust_anchors, verify_detached
from gateway.store.payments import SqlPayments
from gateway.transport.http.wiring import build_service

Echo = Callable[[str], None]
EXAMPLES_DAY = date(2026, 11, 23)  # the examples are written as if sent that day
_DATE = re.compile(rb"20(2[6-9])-(\d\d)-(\d\d)")


def as_if_sent_today(data: bytes, today: date) -> bytes:
    """Shift the example's recent dates (2026 on) so that it is on time today and its RIBs fresh;
    birth dates, older, stay as they are (NIRs depend on them)."""
    delta = today - EXAMPLES_DAY

    def shift(match: re.Match[bytes]) -> bytes:
        day = date.fromisoformat(match.group(0).decode()) + delta
        return day.isoformat().encode()

    return _DATE.sub(shift, data) if delta else data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(base: str, certs: Path, role_file: str) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(certs / f"{role_file}.pem", certs / f"{role_file}-key.pem")
    return httpx.Client(base_url=base, verify=context, timeout=30)


def run_demo(workdir: Path, echo: Echo) -> int:
    """Run the walk-through in `workdir`; returns 0 when every step behaved as expected."""
    certs, data = workdir / "certs", workdir / "var"
    init_dev_pki(certs)
    echo(f"1. development PKI in {certs} (CA, server, signer, one client certificate per role)")
    port = _free_port()
    settings = Settings(certs_dir=certs, data_dir=data, port=port)
    service = build_service(settings, host="127.0.0.1", port=port)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server = uvicorn.Server(service.config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            echo("the server did not start")
            return 1
        time.sleep(0.02)
    base = f"https://127.0.0.1:{port}"
    echo(f"2. gateway serving {base} with mutual TLS; the role comes from each client certificate")
    ok = True
    today = datetime.now(UTC).date()
    try:
        ok &= _intake_steps(base, certs, today, echo)
        ok &= _back_office_steps(base, certs, echo)
        ok &= _money_steps(base, certs, settings, service.gateway, today=today, echo=echo)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        service.close()
    anchors = load_trust_anchors(certs / "ca.pem")
    blob_dir = settings.effective_archive_dir / "blobs"
    with Archive.open(settings.effective_database_url, blob_dir) as archive, archive.store.read() as uow:
        report = verify_archive(uow.connection, archive.blobs, trust_anchors=anchors)
    echo(
        f"11. archive verified: {report.entries} entries, {report.checkpoints} checkpoint(s), ok={report.ok}"
    )
    ok &= report.ok
    echo("demo finished: " + ("everything behaved as expected" if ok else "SOMETHING WENT WRONG"))
    return 0 if ok else 1


_SENDS = (
    ("greffe", "greffe", "/v1/greffe/transmissions", "greffe-1.xml", "application/xml"),
    ("notaire", "notaire", "/v1/notaire/transmissions", "notaire-1.xml", "application/xml"),
    ("avocat", "avocat", "/v1/avocat/transmissions", "avocat-1.json", "application/json"),
)


def _intake_steps(base: str, certs: Path, today: date, echo: Echo) -> bool:
    ok = True
    echo("3. each source posts its example title:")
    for role, cert, path, name, media in _SENDS:
        body = as_if_sent_today((EXAMPLES_DIR / name).read_bytes(), today)
        with _client(base, certs, cert) as client:
            answer = client.post(path, content=body, headers={"Content-Type": media})
        receipt = answer.json().get("receipt", {})
        echo(
            f"   {role:8} -> {answer.status_code} {receipt.get('status')} dossier {receipt.get('dossier_id')}"
        )
        ok &= answer.status_code == 201
        if role == "greffe":
            signature = base64.b64decode(answer.json()["signature"])
            verify_detached(signature, receipt_bytes(receipt), ca_file=certs / "ca.pem")
            echo("   the greffe checks its receipt's CMS signature offline against the CA: valid")
            with _client(base, certs, cert) as client:
                again = client.post(path, content=body, headers={"Content-Type": media})
            same = again.json().get("receipt") == receipt
            echo(f"4. the greffe sends the same title again -> {again.status_code}, same receipt: {same}")
            ok &= again.status_code == 200 and same
            bad = body.replace(b"<TypeTitre>1</TypeTitre>", b"<TypeTitre>5</TypeTitre>")
            with _client(base, certs, cert) as client:
                refused = client.post(path, content=bad, headers={"Content-Type": media})
            codes = [(e["code"], e["field"]) for e in refused.json().get("errors", [])]
            echo(f"5. a title of kind 5 (made executory by the fund itself) -> {refused.status_code} {codes}")
            ok &= refused.status_code == 422
    return ok


def _back_office_steps(base: str, certs: Path, echo: Echo) -> bool:
    with _client(base, certs, "backoffice") as client:
        feed = client.get("/v1/feed", params={"after": "0", "limit": 10})
        if feed.status_code == 200:
            events = feed.json().get("events", [])
            echo(f"6. the back-office reads the feed: {[e['type'] for e in events]}")
            dossier_id = events[0]["dossier_id"] if events else None
        else:
            dossier_id = None
        if dossier_id is None:
            return feed.status_code in (200, 404)
        dossier = client.get(f"/v1/dossiers/{dossier_id}").json()
        summary = {k: dossier[k] for k in ("dossier_id", "handling_body", "monthly_total", "intermediation")}
        echo(f"   and the first dossier: {json.dumps(summary)}")
        return True


@dataclass(frozen=True, slots=True)
class _Runs:
    """What the collection and payout runs share in the demo."""

    gw: Gateway
    settings: Settings
    at: datetime

    def debits(self, period: str) -> RunReport:
        s, gw = self.settings, self.gw
        return run_debits(
            gw.store, period=period, fund=fund(s), created_at=self.at, staging_dir=s.data_dir / "staging",
            signer=gw.signer, archive=gw.archive, channel=bank_channel(s),
        )  # fmt: skip

    def credits(self, day: date) -> RunReport:
        s, gw = self.settings, self.gw
        return run_credits(
            gw.store, execution_date=day, fund=fund(s), created_at=self.at,
            staging_dir=s.data_dir / "staging",
            signer=gw.signer, archive=gw.archive, channel=bank_channel(s),
        )  # fmt: skip


def _mandate_steps(base: str, certs: Path, today: date, echo: Echo) -> bool:
    """The back-office records the mandates the debtors signed and the creditors' payout accounts
    for the dossiers whose title brought bank details (a pre-fill, never a signature); the
    greffe's dossier, without any, waits (`mandate-pending`)."""
    with _client(base, certs, "backoffice") as client:
        events = client.get("/v1/feed", params={"after": "0", "limit": 10}).json().get("events", [])
        ok, signed, waiting = True, [], []
        for dossier_id in [e["dossier_id"] for e in events if e["type"] == "dossier.accepted"]:
            mandate = client.get(f"/v1/dossiers/{dossier_id}/mandate").json()
            if mandate["account"] is None:
                waiting.append(dossier_id)
                continue
            form = {
                **mandate["account"],
                "signed_on": today.isoformat(),
                "method": "electronic",
                "debit_day": 10,
            }
            answer = client.put(f"/v1/dossiers/{dossier_id}/mandate", json=form)
            payee = client.get(f"/v1/dossiers/{dossier_id}/payout-account").json()["account"]
            paid_to = client.put(f"/v1/dossiers/{dossier_id}/payout-account", json=payee)
            ok &= answer.status_code == 200 and paid_to.status_code == 200
            signed.append(f"{dossier_id} {answer.json().get('status')} on {today}")
    echo(
        "   the back-office records the mandates the debtors signed (PUT /v1/dossiers/{id}/mandate) "
        f"and the creditors' payout accounts: {', '.join(signed)}; {', '.join(waiting)} (no bank "
        "details yet) waits: mandate-pending"
    )
    return ok and len(signed) == 2


def _money_steps(base: str, certs: Path, settings: Settings, gw: Gateway, *, today: date, echo: Echo) -> bool:
    """Collect the first month due, let a stand-in bank reject one debit and credit the other,
    reconcile, show the arrears ledger with its ASF advance, and pay the creditor collected for."""
    if not _mandate_steps(base, certs, today, echo):
        return False
    effective = date(2026, 12, 1) + (today - EXAMPLES_DAY)  # the examples' shifted effective date
    runs = _Runs(gw, settings, datetime.now(UTC))
    period = f"{effective:%Y-%m}"
    collection = runs.debits(period)
    if collection.count == 0:  # the debit day of that month came before the effective date
        period = f"{date(effective.year + effective.month // 12, effective.month % 12 + 1, 1):%Y-%m}"
        collection = runs.debits(period)
    echo(
        f"7. the fund collects {period}: {collection.count} SDD Core debits, "
        f"{format_euros(collection.total_cents)} EUR, one pain.008 validated, signed and dropped at "
        f"{collection.channel_ref} (left out: {collection.skipped})"
    )
    if collection.file is None or collection.count != 2:
        return False
    with gw.store.read() as uow:
        recorded = list(SqlPayments(uow.connection).debits_of_message(str(collection.message_id)))
        by_e2e = {d.end_to_end_id: d.dossier_id for d in recorded}
        kind = {d.end_to_end_id: getattr(uow.dossiers.get(d.dossier_id), "source_kind", "") for d in recorded}
    # the lawyer's debtor (two children) has not enough money this month (AM04): the bank rejects it
    rejected = next(e2e for e2e, source in kind.items() if source == "avocat")
    bank_dir = settings.data_dir / "bank"
    sent = settings.effective_outbound_dir / collection.file.name  # the staged copy is gone once sent
    for path in answer_collection(sent, bank_dir, rejects={rejected: "AM04"}, at=runs.at):
        result = import_report(gw, path)
        echo(f"8. bank report {result.message} imported: {dict(result.summary.counts)}")
    dossier_id = by_e2e[rejected]
    with _client(base, certs, "backoffice") as client:
        ledger = client.get(f"/v1/dossiers/{dossier_id}/ledger").json()
    month = ledger["months"][0]
    reason = month["reason"]["code"] if month["reason"] else None
    arrears, asf = format_euros(ledger["arrears_cents"]), format_euros(ledger["asf_complement_cents"])
    echo(
        f"9. the back-office reads {dossier_id}'s ledger: {month['period']} {month['status']}, "
        f"reason {reason}, arrears {arrears} EUR, ASF to advance to the creditor {asf} EUR, one per child:"
    )
    for child in month["children"]:
        if child["asf_complement_cents"] is None:
            unavailable = month["asf_unavailable"] or {}
            echo(f"   child {child['child'] + 1}: ASF not computed ({unavailable.get('code')})")
            continue
        echo(
            f"   child {child['child'] + 1}: due {format_euros(child['due_cents'])}, "
            f"ASF {format_euros(child['asf_complement_cents'])} "
            f"({format_euros(child['asf_complement_net_cents'])} net of CRDS), "
            f"recoverable from the debtor {format_euros(child['recoverable_cents'])}"
        )
    paid_on = max(d.collection_date for d in recorded) + timedelta(days=1)
    payout = runs.credits(paid_on)
    echo(
        f"10. payout on {paid_on}: {payout.count} SEPA credit transfer (purpose ALMY) of "
        f"{format_euros(payout.total_cents)} EUR to the creditor whose debtor paid"
    )
    return bool(ledger["arrears_cents"] > 0 and len(month["children"]) == 2 and payout.count == 1)


def demo_folder(base: Path | None = None) -> Path:
    root = base or Path("var") / "demo"
    folder = root / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
