"""Collection runs with revaluation on a real store (SQLite and PostgreSQL): the debit is the sum of
the children's dues, revalued (L. 582-1 I CSS); a month whose index value is missing is held (not
debited, listed) until the value is imported, then debited; `pension.revalued` once per revaluation.

The notary's example title, moved to a deed of 20 March 2023 taking effect on 1 April 2023 (silent
on revaluation: the notaire format carries no clause, so the law's default applies), 210.00 a month:
anniversary 20 March 2024 -> from April 2024, base = INSEE 001763852 for 2023-01 (113.86), new =
2024-01 (117.16): 210.00 × 117.16 / 113.86 = 216.0864... -> 216.09.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.infra.bank_channel import FolderChannel
from gateway.payments.indices import IndexTable
from gateway.payments.insee_csv import parse_insee_csv
from gateway.sepa.model import Fund
from gateway.services.collection import RunReport, run_debits
from gateway.services.held_months import held_months
from gateway.services.intake import IntakeServices, receive
from gateway.signing.cms import Signer
from gateway.store import SqlStore, open_sql_store
from gateway.store.indices import SqlIndices
from tests.fakes import FakeArchive
from tests.pg import postgres_server, postgres_url
from tests.support.mandates import sign_as_prefilled

__all__ = ["postgres_server", "postgres_url"]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "schemas" / "examples"
INSEE_EXPORT = ROOT / "tests" / "unit" / "payments" / "data" / "valeurs_mensuelles.csv"
RECEIVED = datetime(2023, 3, 24, 10, 0, tzinfo=UTC)  # the mandate's signature date
RUN_AT = datetime(2024, 2, 20, 6, 0, tzinfo=UTC)
FUND = Fund("CAF DEMO ARIPA", "FR7630006000011234567890189", "AGRIFRPP", "FR72ZZZ123456")


def notary_title_of_2023() -> bytes:
    data = (EXAMPLES / "notaire-1.xml").read_bytes()
    for old, new in (
        (b"<Date>2026-11-18</Date>", b"<Date>2023-03-20</Date>"),
        (b"<DateEffet>2026-12-01</DateEffet>", b"<DateEffet>2023-04-01</DateEffet>"),
        (b"<DateRIB>2026-11-05</DateRIB>", b"<DateRIB>2023-03-06</DateRIB>"),
        (b"<DateRIB>2026-10-30</DateRIB>", b"<DateRIB>2023-02-28</DateRIB>"),
    ):
        assert old in data
        data = data.replace(old, new)
    return data


class Env:
    def __init__(self, store: SqlStore, tmp: Path, pki: Path) -> None:
        self.store, self.tmp = store, tmp
        self.signer = Signer.from_files(pki / "signer.pem", pki / "signer-key.pem")
        self.archive = FakeArchive()
        intake = IntakeServices(store=store, signer=self.signer, archive=self.archive, clock=lambda: RECEIVED)
        result = receive(intake, "notaire", notary_title_of_2023(), sender="test")
        assert result.outcome == "accepted", result.error
        self.dossier_id = str(result.receipt["dossier_id"])
        # the debtor signs a mandate on the account the title brought (docs/mandates.md)
        sign_as_prefilled(store, self.dossier_id, signed_on=RECEIVED.date(), now=RECEIVED)

    def debits(self, period: str, base: IndexTable | None = None) -> RunReport:
        return run_debits(
            self.store, period=period, fund=FUND, created_at=RUN_AT, staging_dir=self.tmp / "staging",
            signer=self.signer, archive=self.archive, channel=FolderChannel(self.tmp / "outbound"),
            base_indices=base,
        )  # fmt: skip

    def events(self, type_: str) -> list[dict[str, Any]]:
        with self.store.read() as uow:
            return [json.loads(e.payload_json) for e in uow.events.read_after(0, 1000) if e.type == type_]


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path, dev_pki: Path) -> Iterator[Env]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'g.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = open_sql_store(url)
    yield Env(store, tmp_path, dev_pki)
    store.close()


def test_revalued_on_the_anniversary_and_published_once(env: Env) -> None:
    # L. 582-1 I CSS: the fund debits the revalued amount
    march = env.debits("2024-03")
    assert (march.count, march.total_cents, march.revalued) == (1, 21000, 0)
    april = env.debits("2024-04")
    assert (april.count, april.total_cents, april.revalued) == (1, 21609, 1)
    may = env.debits("2024-05")
    assert (may.count, may.total_cents, may.revalued) == (1, 21609, 0)
    (event,) = env.events("pension.revalued")
    assert event == {
        "dossier_id": env.dossier_id, "child": 0, "revalued_on": "2024-03-20", "first_period": "2024-04",
        "title_cents": 21000, "old_cents": 21000, "new_cents": 21609, "series": "INSEE-001763852",
        "base_index": {"value": "113.86", "period": "2023-01"},
        "new_index": {"value": "117.16", "period": "2024-01"},
    }  # fmt: skip
    with env.store.read() as uow:
        (row,) = SqlIndices(uow.connection).revaluations(env.dossier_id)
    assert (row.old_cents, row.new_cents, row.value_period) == (21000, 21609, "2024-01")


def test_a_missing_index_holds_the_month_until_it_is_imported(env: Env) -> None:
    # Nothing shipped under the store's values: the base value (2023-01) is missing in April 2024.
    empty = IndexTable()
    assert env.debits("2024-03", empty).count == 1  # before the first revaluation: no index needed
    held = env.debits("2024-04", empty)
    assert (held.count, held.message_id, held.skipped) == (0, None, {"held: index missing": 1})
    (issue,) = held.held
    field = f"dossiers[{env.dossier_id}].children[0].indexation"
    assert (issue.code, issue.field) == ("index-missing", field)
    assert "2023-01" in issue.message
    (listed,) = held_months(env.store, "2024-04", empty)
    assert (listed.dossier_id, listed.child, listed.series, listed.index_period) == (
        env.dossier_id, 0, "INSEE-001763852", "2023-01",
    )  # fmt: skip
    assert env.events("pension.revalued") == []
    # an operator imports INSEE's export: the month leaves the list and the next run debits it
    (series,) = parse_insee_csv(INSEE_EXPORT.read_bytes(), source=INSEE_EXPORT.name)
    with env.store.transaction() as uow:
        counts = SqlIndices(uow.connection).save(series.values, at=RUN_AT)
    assert (counts.added, counts.changed) == (21, 0)
    assert held_months(env.store, "2024-04", empty) == []
    april = env.debits("2024-04", empty)
    assert (april.count, april.total_cents, april.held) == (1, 21609, [])
    assert len(env.events("pension.revalued")) == 1
    # importing the same file again changes nothing
    with env.store.transaction() as uow:
        again = SqlIndices(uow.connection).save(series.values, at=RUN_AT)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 21)
