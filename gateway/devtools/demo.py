"""`gateway demo`: one whole exchange, narrated, in a throwaway folder on this machine.

A development PKI, the HTTPS service with mutual TLS on a free loopback port, the three sources
posting their example titles with their own certificates, a receipt checked offline, a duplicate, a
refused title, the back-office reading the feed, a dossier and its webhooks, a collection, the
bank's answers reconciled, a ledger, a payout, and the archive verified.

The walk-through is the list `STEPS`: each step has a title (numbered when it runs) and a function
of the shared `Demo` that prints its details under it and says whether it behaved as expected.
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
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr

from gateway.archive.verify import verify_archive
from gateway.bootstrap import Gateway, open_archive
from gateway.config import Settings, WebhookSubscription
from gateway.devtools.bank_simulator import answer_collection
from gateway.devtools.demo_receiver import WebhookReceiver
from gateway.devtools.demo_revaluation import revaluation_step
from gateway.devtools.pki import init_dev_pki
from gateway.domain.money import format_euros
from gateway.resources import EXAMPLES_DIR
from gateway.services.bank_import import import_report
from gateway.services.collection import RunReport
from gateway.services.intake import receipt_bytes
from gateway.signing.cms import load_trust_anchors, verify_detached
from gateway.transport.http.wiring import Service, build_service

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


@dataclass
class Demo:
    """What the steps share: the folder, the running gateway, and what earlier steps found."""

    workdir: Path
    echo: Echo
    today: date
    closing: ExitStack
    settings: Settings | None = None
    service: Service | None = None
    base: str = ""
    hooks: WebhookReceiver | None = None
    dossiers: dict[str, str] = field(default_factory=dict)  # source -> dossier id
    collection: RunReport | None = None
    rejected_dossier: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def certs(self) -> Path:
        return self.workdir / "certs"

    @property
    def gw(self) -> Gateway:
        assert self.service is not None, "the gateway is not running"
        return self.service.gateway

    @property
    def config(self) -> Settings:
        assert self.settings is not None, "the gateway is not configured"
        return self.settings

    def say(self, text: str) -> None:
        """A detail line, under the current step."""
        self.echo(f"   {text}")

    def client(self, role_file: str) -> httpx.Client:
        return _client(self.base, self.certs, role_file)


@dataclass(frozen=True, slots=True)
class Step:
    """One numbered step: its title, and what it does (True when it behaved as expected)."""

    title: str
    run: Callable[[Demo], bool]


def _pki(demo: Demo) -> bool:
    init_dev_pki(demo.certs)
    demo.say(f"in {demo.certs}")
    return (demo.certs / "ca.pem").is_file()


def _serve(demo: Demo) -> bool:
    hooks = demo.closing.enter_context(WebhookReceiver())
    port = _free_port()
    subscription = WebhookSubscription(url=hooks.url, secret=SecretStr(hooks.secret), id="back-office")
    settings = Settings(
        certs_dir=demo.certs, data_dir=demo.workdir / "var", port=port,
        webhooks=[subscription], delivery_poll_seconds=0.1,
    )  # fmt: skip
    service = build_service(settings, host="127.0.0.1", port=port)
    demo.closing.callback(service.close)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server = uvicorn.Server(service.config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    demo.closing.callback(stop)
    while not server.started:
        if not thread.is_alive():
            demo.say("the server did not start")
            return False
        time.sleep(0.02)
    if service.delivery is not None:
        service.delivery.start()
        demo.closing.callback(service.delivery.stop)
    demo.settings, demo.service, demo.hooks = settings, service, hooks
    demo.base = f"https://127.0.0.1:{port}"
    demo.say(f"{demo.base}; the role comes from each client certificate")
    demo.say(f"events are pushed to the back-office's webhook at {hooks.url}")
    return True


_SENDS = (
    ("greffe", "greffe", "/v1/greffe/transmissions", "greffe-1.xml", "application/xml"),
    ("notaire", "notaire", "/v1/notaire/transmissions", "notaire-1.xml", "application/xml"),
    ("avocat", "avocat", "/v1/avocat/transmissions", "avocat-1.json", "application/json"),
)


def _example(name: str, today: date) -> bytes:
    return as_if_sent_today((EXAMPLES_DIR / name).read_bytes(), today)


def _intake(demo: Demo) -> bool:
    ok = True
    for role, cert, path, name, media in _SENDS:
        with demo.client(cert) as client:
            answer = client.post(path, content=_example(name, demo.today), headers={"Content-Type": media})
        receipt = answer.json().get("receipt", {})
        demo.say(
            f"{role:8} -> {answer.status_code} {receipt.get('status')} dossier {receipt.get('dossier_id')}"
        )
        ok &= answer.status_code == 201
        demo.dossiers[role] = receipt.get("dossier_id", "")
        if role == "greffe":
            signature = base64.b64decode(answer.json()["signature"])
            verify_detached(signature, receipt_bytes(receipt), ca_file=demo.certs / "ca.pem")
            demo.say("the greffe checks its receipt's CMS signature offline against the CA: valid")
    return ok


def _duplicate(demo: Demo) -> bool:
    _role, cert, path, name, media = _SENDS[0]
    body = _example(name, demo.today)
    with demo.client(cert) as client:
        first = client.post(path, content=body, headers={"Content-Type": media})
        again = client.post(path, content=body, headers={"Content-Type": media})
    same = again.json().get("receipt") == first.json().get("receipt")
    demo.say(f"-> {again.status_code}, the same dossier and the same receipt: {same}")
    return again.status_code == 200 and same


def _refused(demo: Demo) -> bool:
    _role, cert, path, name, media = _SENDS[0]
    bad = _example(name, demo.today).replace(b"<TypeTitre>1</TypeTitre>", b"<TypeTitre>5</TypeTitre>")
    with demo.client(cert) as client:
        refused = client.post(path, content=bad, headers={"Content-Type": media})
    codes = [(e["code"], e["field"]) for e in refused.json().get("errors", [])]
    demo.say(f"-> {refused.status_code} {codes}")
    return refused.status_code == 422


def _back_office_reads(demo: Demo) -> bool:
    with demo.client("backoffice") as client:
        feed = client.get("/v1/feed", params={"after": "0", "limit": 10})
        events = feed.json().get("events", []) if feed.status_code == 200 else []
        demo.say(f"feed -> {feed.status_code}: {[e['type'] for e in events]}")
        if not events:
            return False
        dossier = client.get(f"/v1/dossiers/{events[0]['dossier_id']}").json()
    summary = {k: dossier[k] for k in ("dossier_id", "handling_body", "monthly_total", "intermediation")}
    demo.say(f"the first dossier: {json.dumps(summary)}")
    return True


def _mandates(demo: Demo) -> bool:
    """The back-office records the mandates the debtors signed and the creditors' payout accounts
    for the dossiers whose title brought bank details (a pre-fill, never a signature); the
    greffe's dossier, without any, waits (`mandate-pending`)."""
    ok, signed, waiting = True, [], []
    with demo.client("backoffice") as client:
        for dossier_id in demo.dossiers.values():
            mandate = client.get(f"/v1/dossiers/{dossier_id}/mandate").json()
            if mandate["account"] is None:
                waiting.append(dossier_id)
                continue
            form = {**mandate["account"], "signed_on": demo.today.isoformat(), "method": "electronic"}
            answer = client.put(f"/v1/dossiers/{dossier_id}/mandate", json={**form, "debit_day": 10})
            payee = client.get(f"/v1/dossiers/{dossier_id}/payout-account").json()["account"]
            paid_to = client.put(f"/v1/dossiers/{dossier_id}/payout-account", json=payee)
            ok &= answer.status_code == 200 and paid_to.status_code == 200
            signed.append(f"{dossier_id} {answer.json().get('status')} on {demo.today}")
    demo.say(
        "the back-office records the mandates the debtors signed (PUT /v1/dossiers/{id}/mandate) "
        f"and the creditors' payout accounts: {', '.join(signed)}"
    )
    demo.say(f"{', '.join(waiting)} (no bank details yet) waits: mandate-pending")
    return ok and len(signed) == 2


def _webhooks(demo: Demo) -> bool:
    assert demo.hooks is not None
    received = demo.hooks.wait_for(len(demo.dossiers))
    for hook in received[: len(demo.dossiers)]:
        valid = "valid" if hook.signature_valid else "INVALID"
        demo.say(
            f"POST {hook.event_type} {hook.dossier_id}: signature {valid} (webhook-id {hook.webhook_id})"
        )
    return len(received) >= len(demo.dossiers) and all(h.signature_valid for h in received)


def _collect(demo: Demo) -> bool:
    """The first month due: the examples' (shifted) effective date, or the month after when that
    month's debit day came before it."""
    effective = date(2026, 12, 1) + (demo.today - EXAMPLES_DAY)
    runs = _Runs(demo.gw, demo.config, demo.at)
    period = f"{effective:%Y-%m}"
    collection = runs.debits(period)
    if collection.count == 0:
        period = f"{date(effective.year + effective.month // 12, effective.month % 12 + 1, 1):%Y-%m}"
        collection = runs.debits(period)
    demo.collection = collection
    demo.say(
        f"{period}: {collection.count} SDD Core debits, {format_euros(collection.total_cents)} EUR, "
        f"validated against the XSD, signed and dropped at {collection.channel_ref}"
    )
    left_out = ", ".join(f"{n} ({why})" for why, n in sorted(collection.skipped.items()))
    demo.say(f"left out: {left_out or 'none'}")
    return collection.file is not None and collection.count == 2


def _bank(demo: Demo) -> bool:
    collection = demo.collection
    assert collection is not None
    assert collection.file is not None
    with demo.gw.store.read() as uow:
        recorded = list(uow.payments.debits_of_message(str(collection.message_id)))
        source = {
            d.end_to_end_id: getattr(uow.dossiers.get(d.dossier_id), "source_kind", "") for d in recorded
        }
    rejected = next(e2e for e2e, kind in source.items() if kind == "avocat")
    demo.rejected_dossier = next(d.dossier_id for d in recorded if d.end_to_end_id == rejected)
    demo.say(f"the lawyer's debtor (two children) has not enough money this month: {rejected} rejected AM04")
    reports = answer_collection(
        demo.config.effective_outbound_dir / collection.file.name,
        demo.config.data_dir / "bank",
        rejects={rejected: "AM04"},
        at=demo.at,
    )
    for path in reports:
        result = import_report(demo.gw, path)
        demo.say(f"{result.message} imported: {dict(result.summary.counts)}")
    return len(reports) == 2


def _ledger(demo: Demo) -> bool:
    with demo.client("backoffice") as client:
        ledger = client.get(f"/v1/dossiers/{demo.rejected_dossier}/ledger").json()
    month = ledger["months"][0]
    reason = month["reason"]["code"] if month["reason"] else None
    arrears, asf = format_euros(ledger["arrears_cents"]), format_euros(ledger["asf_complement_cents"])
    demo.say(
        f"{demo.rejected_dossier} {month['period']}: {month['status']}, reason {reason}, "
        f"arrears {arrears} EUR, ASF to advance to the creditor {asf} EUR, one per child:"
    )
    for child in month["children"]:
        if child["asf_complement_cents"] is None:
            unavailable = month["asf_unavailable"] or {}
            demo.say(f"child {child['child'] + 1}: ASF not computed ({unavailable.get('code')})")
            continue
        demo.say(
            f"child {child['child'] + 1}: due {format_euros(child['due_cents'])}, "
            f"ASF {format_euros(child['asf_complement_cents'])} "
            f"({format_euros(child['asf_complement_net_cents'])} net of CRDS), "
            f"recoverable from the debtor {format_euros(child['recoverable_cents'])}"
        )
    return bool(ledger["arrears_cents"] > 0 and len(month["children"]) == 2)


def _revaluation(demo: Demo) -> bool:
    return revaluation_step(demo.client, demo.say)


def _payout(demo: Demo) -> bool:
    collection = demo.collection
    assert collection is not None
    with demo.gw.store.read() as uow:
        recorded = list(uow.payments.debits_of_message(str(collection.message_id)))
    paid_on = max(d.collection_date for d in recorded) + timedelta(days=1)
    payout = _Runs(demo.gw, demo.config, demo.at).credits(paid_on)
    demo.say(
        f"on {paid_on}: {payout.count} SEPA credit transfer (purpose ALMY) of "
        f"{format_euros(payout.total_cents)} EUR to the creditor whose debtor paid"
    )
    return payout.count == 1


def _stop_and_verify(demo: Demo) -> bool:
    demo.closing.close()  # the server, the webhook worker and the receiver stop; the archive closes
    anchors = load_trust_anchors(demo.certs / "ca.pem")
    with open_archive(demo.config) as archive, archive.store.read() as uow:
        report = verify_archive(uow.connection, archive.blobs, trust_anchors=anchors)
    demo.say(f"{report.entries} entries, {report.checkpoints} checkpoint(s), ok={report.ok}")
    return report.ok


# The walk-through, in order. A new step goes before the last one (which stops the gateway).
STEPS: list[Step] = [
    Step("a development PKI (CA, server, signer, one client certificate per role)", _pki),
    Step("the gateway serves HTTPS with mutual TLS on a free loopback port", _serve),
    Step("each source posts its example title", _intake),
    Step("the greffe sends the same title again", _duplicate),
    Step("a title of kind 5 (made executory by the fund itself) is refused", _refused),
    Step("the back-office reads the feed, then a dossier", _back_office_reads),
    Step("the back-office's webhook receives the same events, signed (Standard Webhooks)", _webhooks),
    Step("the back-office records the signed mandates and the payout accounts", _mandates),
    Step("the fund collects the first month due: one pain.008", _collect),
    Step("a stand-in bank answers; its reports are imported and reconciled", _bank),
    Step("the back-office reads the rejected dossier's ledger", _ledger),
    Step("a judgment of 2023 is revalued; a month whose index is not published is held", _revaluation),
    Step("the creditor whose debtor paid is paid: one pain.001", _payout),
    Step("the gateway stops; the archive is verified offline", _stop_and_verify),
]


def run_demo(workdir: Path, echo: Echo, steps: Sequence[Step] = STEPS) -> int:
    """Run the walk-through in `workdir`; returns 0 when every step behaved as expected (it stops at
    the first that did not)."""
    with ExitStack() as closing:
        demo = Demo(workdir=workdir, echo=echo, today=datetime.now(UTC).date(), closing=closing)
        for number, step in enumerate(steps, 1):
            echo(f"{number}. {step.title}")
            try:
                passed = step.run(demo)
            except Exception as exc:  # the demo reports what broke, then stops
                demo.say(f"failed: {type(exc).__name__}: {exc}")
                passed = False
            if not passed:
                echo(f"demo stopped at step {number}: SOMETHING WENT WRONG")
                return 1
    echo("demo finished: everything behaved as expected")
    return 0


@dataclass(frozen=True, slots=True)
class _Runs:
    """What the collection and payout runs share in the demo."""

    gw: Gateway
    settings: Settings
    at: datetime

    def debits(self, period: str) -> RunReport:
        return replace(self.gw.sepa, clock=lambda: self.at).debits(period)

    def credits(self, day: date) -> RunReport:
        return replace(self.gw.sepa, clock=lambda: self.at).credits(day)
