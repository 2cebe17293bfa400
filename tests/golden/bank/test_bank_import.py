"""`gateway bank import` end to end on SQLite: archive, reconciliation, outbox events, ledger, rollback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from gateway.bootstrap import Gateway, build
from gateway.config import Settings
from gateway.errors import AuthenticationError, SchemaViolation
from gateway.services.bank_import import import_report
from gateway.services.intake import IntakeServices
from gateway.services.ledger import Ledgers
from gateway.services.ports import DossierRow
from gateway.services.records import DebitRow
from gateway.store.bank import dossier_debits, report_keys
from gateway.store.ledger import ledger_inputs
from gateway.store.payments import SqlPayments
from gateway.transport.http.app import create_app
from gateway.transport.http.identity import Authenticator, Caller, Role, RoleMap

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
NOW = datetime(2026, 11, 6, 8, 0, tzinfo=UTC)
REPLAY = [
    "pain002_v10_rejects.xml",
    "pain002_v03_reject.xml",
    "camt054_v08_credits.xml",
    "camt054_v08_returns.xml",
    "camt054_v02_partial.xml",
]


# The children of each dossier (their monthly amounts add up to the debit): dos-0006 has two.
CHILDREN = {"dos-0006": ("150.00", "100.00")}


def _dossier_json(dossier_id: str, amount_cents: int) -> str:
    amounts = CHILDREN.get(dossier_id, (f"{amount_cents // 100}.{amount_cents % 100:02d}",))
    children = [{"effective_date": "2026-01-01", "monthly_amount": amount} for amount in amounts]
    return json.dumps({"dossier_id": dossier_id, "end_date": None, "children": children})


def _seed(gateway: Gateway) -> None:
    debits = json.loads((HERE / "debits.json").read_text())["debits"]
    with gateway.store.transaction() as uow:
        for d in debits:
            dos = d["dossier_id"]
            canonical = _dossier_json(dos, d["amount_cents"])
            uow.dossiers.create_once(
                DossierRow(dos, f"key-{dos}", "greffe", "test", "ref", NOW, canonical, "accepted")
            )
        SqlPayments(uow.connection).add_debits(
            [
                DebitRow(
                    d["end_to_end_id"],
                    d["dossier_id"],
                    d["period"],
                    d["amount_cents"],
                    date(2026, 11, 5),
                    "RCUR",
                    "ARIPA-TEST",
                    date(2026, 1, 15),
                    "DEBITEUR TEST",
                    "FR7630006000011234567890189",
                    None,
                    None,
                    d["msg_id"],
                    d["pmtinf_id"],
                    "issued",
                    None,
                    NOW,
                )
                for d in debits
            ]
        )


@pytest.fixture
def gateway(tmp_path: Path, dev_pki: Path) -> Gateway:
    built = build(Settings(data_dir=tmp_path / "var", certs_dir=dev_pki))
    _seed(built)
    return built


def _events(gateway: Gateway) -> list[tuple[str, str | None]]:
    with gateway.store.read() as uow:
        return [(e.type, e.dossier_id) for e in uow.events.read_after(0, 10_000)]


def test_import_replay_publishes_events_and_builds_the_ledger(gateway: Gateway) -> None:
    with gateway:
        results = [import_report(gateway, HERE / name, now=lambda: NOW) for name in REPLAY]
        assert [r.duplicate for r in results] == [False] * 5
        assert results[2].summary.counts["settled"] == 3
        assert {a["code"] for r in results for a in r.anomalies} == {
            "reconcile-unknown-reference",
            "reconcile-amount-mismatch",
            "reconcile-duplicate",
        }
        events = _events(gateway)
        types = [t for t, _ in events]
        assert types.count("debit.rejected") == 3  # dos-0002 AM04, dos-0003 AC04, dos-0004 MD07
        assert types.count("debit.settled") == 5  # 0001, 0005, 0006, 0007, 0009
        assert types.count("debit.returned") == 1  # 0006 MD06
        assert "arrears.changed" in types
        differential = [d for t, d in events if t == "asf.differential_computed" and d is not None]
        # L. 523-1 I 4° CSS: unpaid and partly paid months, and small pensions paid in full (150 € for
        # dos-0001, 90 € for dos-0007: ASF - paid); dos-0009's 200 € leaves 1.99 €, under 15 €.
        assert sorted(set(differential)) == [
            "dos-0001", "dos-0002", "dos-0003", "dos-0004", "dos-0005", "dos-0006", "dos-0007",
        ]  # fmt: skip
        with gateway.store.read() as uow:
            payloads = [json.loads(e.payload_json) for e in uow.events.read_after(0, 10_000)]
        unpaid = [
            month
            for payload in payloads
            if payload.get("dossier_id") == "dos-0002" and "months" in payload
            for month in payload["months"]
            if month["status"] == "unpaid"
        ]
        assert unpaid  # arrears.changed says by when the notice to pay must go (imported on NOW)
        # the ASF event carries the per-child figures: dos-0006's two children, one full ASF each
        asf_events = [
            p for p in payloads if p.get("dossier_id") == "dos-0006" and "children" in p and "period" in p
        ]
        assert [
            (c["due_cents"], c["asf_complement_cents"], c["recoverable_cents"])
            for c in asf_events[-1]["children"]
        ] == [
            (15000, 20199, 15000),
            (10000, 20199, 10000),
        ]
        assert asf_events[-1]["asf_complement_cents"] == 2 * 20199
        assert (unpaid[-1]["failed_on"], unpaid[-1]["notice_due_by"]) == ("2026-11-06", "2026-11-21")
        with gateway.store.read() as uow:
            inputs = ledger_inputs(uow.connection, "dos-0005")
            assert inputs is not None
            month = inputs.ledger(as_of=NOW.date()).month("2026-11")
            assert (month.status, month.paid_cents) == ("partly-paid", 12000)
            # L. 523-1 I 4° CSS: ASF 201.99 (row of 2026-04-01) - 120 paid, all of it recoverable
            assert (month.complement_cents, month.recoverable_cents) == (8199, 8199)
            payments = SqlPayments(uow.connection)
            d6 = payments.debit(json.loads((HERE / "debits.json").read_text())["debits"][5]["end_to_end_id"])
            assert d6 is not None
            assert (d6.status, d6.reason) == ("returned", "MD06")  # SEPA out's payouts skip it
            d5 = payments.debit(json.loads((HERE / "debits.json").read_text())["debits"][4]["end_to_end_id"])
            assert d5 is not None
            assert d5.status == "settled-partial"  # 120.00 of 300.00: not paid out as if complete
            assert len(report_keys(uow.connection)) == 5
            # each report's row names its archive entry, committed in the same transaction
            rows = uow.connection.execute(sa.text("SELECT report_key, archive_seq FROM bank_reports")).all()
        assert gateway.archive.size == 5  # every report signed and archived as received
        for key, seq in rows:
            entry = gateway.archive.entry(seq)
            assert entry.kind == "inbound-bank-report"
            assert entry.metadata["message"].startswith(key.split(":")[0])
            assert entry.metadata["file_name"] in REPLAY

        # the same reports again: nothing changes, no event
        before = len(events)
        again = [import_report(gateway, HERE / name, now=lambda: NOW) for name in REPLAY]
        assert all(r.duplicate for r in again)
        assert len(_events(gateway)) == before
        assert gateway.archive.size == 10  # still archived: evidence of what the bank sent


def test_invalid_report_is_archived_and_rolls_back(gateway: Gateway, tmp_path: Path) -> None:
    text = (HERE / "camt054_v08_credits.xml").read_text()
    bad = tmp_path / "bad.xml"
    # valid up to the third entry, then an invalid status code: the first entries were read already
    bad.write_text(text.replace("<Cd>PDNG</Cd>", "<Cd>PENDING</Cd>"))  # a code has at most 4 characters
    with gateway:
        with pytest.raises(SchemaViolation):
            import_report(gateway, bad, now=lambda: NOW)
        assert _events(gateway) == []
        with gateway.store.read() as uow:
            assert report_keys(uow.connection) == []
            assert all(s.state.value == "pending" for _, s in dossier_debits(uow.connection, "dos-0001"))
        assert gateway.archive.size == 1
        refused = gateway.archive.entry(0)  # archived all the same, in a transaction of its own
        assert refused.metadata["refused"] == "sepa-report-xsd-invalid"
        assert gateway.archive.blob(refused.blob_sha256) == bad.read_bytes()


@pytest.mark.slow
def test_cli_prints_a_summary_table_and_exit_codes(tmp_path: Path, dev_pki: Path) -> None:
    env = {**os.environ, "GATEWAY_CERTS_DIR": str(dev_pki)}
    setup = build(Settings(data_dir=tmp_path / "var", certs_dir=dev_pki))
    _seed(setup)
    setup.close()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", "bank", "import", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    done = run(str(HERE / "camt054_v08_credits.xml"))
    assert done.returncode == 0, done.stderr
    assert "camt.054.001.08 NTF-20261105-0001 — imported" in done.stdout
    assert "settled" in done.stdout
    assert "reconcile-unknown-reference" in done.stdout
    done = run("--json", str(HERE / "camt054_v08_credits.xml"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["duplicate"] is True
    hostile = tmp_path / "hostile.xml"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><Document>&x;</Document>')
    done = run(str(hostile))
    assert done.returncode == 1
    assert "refused: malformed-payload" in done.stdout
    check = build(Settings(data_dir=tmp_path / "var", certs_dir=dev_pki))
    with check:
        assert check.archive.size == 3  # the refused file is archived too, as evidence


class _HeaderAuthenticator(Authenticator):
    """Stands for mutual TLS (tested for real in tests/e2e): the role comes from a test header."""

    def __init__(self) -> None:
        super().__init__(RoleMap())

    def authenticate(self, scope: Mapping[str, Any], headers: Any) -> Caller:
        role = headers.get("x-test-role")
        if role is None:
            raise AuthenticationError("no client certificate")
        return Caller(Role(role), f"CN={role}", "0" * 64, "tls")


def _get(app: Any, url: str, role: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            return await http.get(url, headers={"x-test-role": role})

    return asyncio.run(call())


def _clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_back_office_reads_the_ledger_over_http(gateway: Gateway) -> None:
    # each report imported on its own day: the rejects and credits on 6 Nov, the partial file on 7 Nov
    # and the returns (MD06 for dos-0006, a week after its settlement) at 07:30 Paris on 13 Nov
    imported = {
        "camt054_v08_returns.xml": datetime(2026, 11, 13, 6, 30, tzinfo=UTC),
        "camt054_v02_partial.xml": datetime(2026, 11, 7, 6, 0, tzinfo=UTC),
    }
    with gateway:
        for name in REPLAY:
            import_report(gateway, HERE / name, now=_clock(imported.get(name, NOW)))
        app = create_app(
            authenticator=_HeaderAuthenticator(),
            services={IntakeServices: gateway.intake, Ledgers: Ledgers(gateway.store)},
        )
        answer = _get(app, "/v1/dossiers/dos-0006/ledger", "back-office")
        assert answer.status_code == 200, answer.text
        ledger = answer.json()
        # two children (150 + 100 €) in total default: one full ASF each (L. 523-1 I 4° CSS), and
        # the recoverable part is the unpaid pension of each child
        assert (ledger["dossier_id"], ledger["arrears_cents"], ledger["asf_complement_cents"]) == (
            "dos-0006",
            25000,
            2 * 20199,
        )
        assert ledger["recoverable_cents"] == 25000
        assert ledger["asf_complement_net_cents"] == 2 * 20098
        month = ledger["months"][0]
        assert month["reason"] == {
            "code": "MD06",
            "meaning": "Refund request by the debtor (disputed authorised transaction, 8 weeks)",
            "action": "recover",
        }
        lines = [
            (c["due_cents"], c["asf_complement_cents"], c["recoverable_cents"]) for c in month["children"]
        ]
        assert lines == [
            (15000, 20199, 15000),
            (10000, 20199, 10000),
        ]
        # art. 2224 C. civ.: owed five years from the day the month fell due
        assert (month["due_on"], month["prescription_date"]) == ("2026-11-05", "2031-11-05")
        # R. 582-8 CSS: notice within 15 days of the return's import, 15 days to pay, then recovery
        assert (
            month["failed_on"],
            month["notice_due_by"],
            month["payment_due_by"],
            month["recovery_from"],
        ) == (
            "2026-11-13",
            "2026-11-28",
            "2026-12-13",
            "2026-12-14",
        )
        short = _get(app, "/v1/dossiers/dos-0005/ledger", "back-office").json()["months"][0]
        assert (short["status"], short["failed_on"], short["recovery_from"]) == (
            "partly-paid",
            "2026-11-06",
            "2026-12-07",
        )
        paid = _get(app, "/v1/dossiers/dos-0001/ledger", "back-office").json()["months"][0]
        assert (paid["status"], paid["failed_on"], paid["notice_due_by"]) == ("paid", None, None)
        assert _get(app, "/v1/dossiers/nope/ledger", "back-office").status_code == 404
        assert _get(app, "/v1/dossiers/dos-0006/ledger", "greffe").status_code == 403
