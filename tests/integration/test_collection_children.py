"""The collection debits the sum of the children's dues, each child from its own effective date
(art. 1074-4 II 5° CPC), a month a pension starts in owed for its days, and never collected before
the pension is owed. The lawyer's example: two children, 175.00 each, debtor's day the 10th."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gateway.infra.bank_channel import FolderChannel
from gateway.sepa.model import Fund
from gateway.services.collection import RunReport, run_debits
from gateway.services.intake import IntakeServices, receive
from gateway.signing.cms import Signer
from gateway.store import SqlStore, open_sql_store
from gateway.store.payments import SqlPayments
from tests.fakes import FakeArchive
from tests.support.mandates import sign_as_prefilled

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "avocat-1.json"
RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
FUND = Fund("CAF DEMO ARIPA", "FR7630006000011234567890189", "AGRIFRPP", "FR72ZZZ123456")


class Env:
    def __init__(self, store: SqlStore, tmp: Path, pki: Path) -> None:
        self.store, self.tmp = store, tmp
        self.signer = Signer.from_files(pki / "signer.pem", pki / "signer-key.pem")
        self.archive = FakeArchive()
        self.intake = IntakeServices(
            store=store, signer=self.signer, archive=self.archive, clock=lambda: RECEIVED
        )

    def ingest(self, first: str, second: str) -> None:
        text = EXAMPLE.read_text(encoding="utf-8")
        assert text.count('"date_effet": "2026-12-01"') == 2
        text = text.replace('"date_effet": "2026-12-01"', f'"date_effet": "{first}"', 1)
        text = text.replace('"date_effet": "2026-12-01"', f'"date_effet": "{second}"', 1)
        result = receive(self.intake, "avocat", text.encode(), sender="test")
        assert result.outcome == "accepted", result.error
        # the debtor signs a mandate on the account the title brought (docs/mandates.md)
        dossier_id = str(result.receipt["dossier_id"])
        sign_as_prefilled(self.store, dossier_id, signed_on=RECEIVED.date(), now=RECEIVED)

    def debits(self, period: str) -> RunReport:
        return run_debits(
            self.store, period=period, fund=FUND, created_at=RECEIVED, staging_dir=self.tmp / "staging",
            signer=self.signer, archive=self.archive, channel=FolderChannel(self.tmp / "outbound"),
        )  # fmt: skip

    def collection_date(self, report: RunReport) -> date:
        with self.store.read() as uow:
            (debit,) = SqlPayments(uow.connection).debits_of_message(str(report.message_id))
        return debit.collection_date


@pytest.fixture
def env(tmp_path: Path, dev_pki: Path) -> Iterator[Env]:
    store = open_sql_store(f"sqlite:///{tmp_path / 'g.sqlite3'}")
    yield Env(store, tmp_path, dev_pki)
    store.close()


def test_a_second_child_starting_later_is_added_from_its_own_date(env: Env) -> None:
    # art. 1074-4 II 5° CPC. March 2027 has 31 days, the second child owes 16 (16th-31st):
    # 175.00 + 175.00 × 16 / 31 = 175.00 + 90.32 = 265.32; before: 175.00 alone; after: 350.00
    env.ingest("2026-12-01", "2027-03-16")
    assert env.debits("2026-12").total_cents == 17500
    assert env.debits("2027-02").total_cents == 17500
    assert env.debits("2027-03").total_cents == 26532
    assert env.debits("2027-04").total_cents == 35000


def test_a_pension_starting_after_the_debit_day_is_collected_from_its_first_day(env: Env) -> None:
    # both children from 16 December 2026: 2 × 175.00 × 16 / 31 = 2 × 90.32 = 180.64, collected on
    # Wednesday 16 December (the debtor's 10th would come before anything is owed)
    env.ingest("2026-12-16", "2026-12-16")
    december = env.debits("2026-12")
    assert (december.count, december.total_cents) == (1, 18064)
    assert env.collection_date(december) == date(2026, 12, 16)
    january = env.debits("2027-01")
    assert (january.total_cents, env.collection_date(january)) == (35000, date(2027, 1, 11))  # 10th: Sunday
