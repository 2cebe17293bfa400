"""On PostgreSQL the monthly run holds the mandates from its first statement to its commit
(`SqlCollection.hold_mandates`: LOCK TABLE mandates IN EXCLUSIVE MODE, docs/collection-run.md):
a mandate change recorded during the run waits for it, then applies to the mandate as the run
left it; reading a mandate is never held; and a change that already holds its dossier's row does
not deadlock with the run, which stores rows naming that dossier."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from gateway.services.collection import RunReport, run_debits
from gateway.services.mandates import change_debtor_account
from gateway.store import SqlStore, open_sql_store, schema
from tests.integration.sepa.test_profile_runs import dossiers, fill
from tests.integration.sepa.test_runs import FUND, Env

pytestmark = pytest.mark.postgres

PERIOD = "2025-09"
RUN_AT = datetime(2025, 8, 25, 9, 0, tzinfo=UTC)
NEW_IBAN = "FR7630004000031234567890143"
ROWS = list(dossiers(40))


@pytest.fixture
def store(postgres_url: str) -> Iterator[SqlStore]:
    found = open_sql_store(postgres_url)
    fill(found, ROWS)
    yield found
    found.close()


def _first_debited(tmp: Path, pki: Path) -> str:
    """A dossier the month debits for the first time (FRST): found by running the same month
    on a scratch SQLite store of the same dossiers."""
    scratch = open_sql_store(f"sqlite:///{tmp / 'scratch.sqlite3'}")
    try:
        fill(scratch, ROWS)
        Env(scratch, tmp / "scratch", pki).debits(PERIOD, RUN_AT)
        d = schema.debits
        with scratch.engine.connect() as conn:
            found = conn.execute(
                select(d.c.dossier_id).where(d.c.sequence == "FRST").order_by(d.c.dossier_id)
            ).scalar()
    finally:
        scratch.close()
    assert found is not None
    return str(found)


def _run(store: SqlStore, tmp: Path, pki: Path, on_page: Any) -> RunReport:
    env = Env(store, tmp, pki)
    return run_debits(
        store, period=PERIOD, fund=FUND, created_at=RUN_AT, staging_dir=tmp / "staging",
        signer=env.signer, archive=env.archive, channel=env.channel, progress=on_page,
    )  # fmt: skip


def _waiting_on_mandates(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'mandates'::regclass")
            ).scalar_one()
        )


def _starting(thread: threading.Thread, store: SqlStore, what: str) -> Callable[[int], None]:
    """The run's progress callback: on its first page, start `thread` and return once that
    thread waits for the run's hold on the mandates."""

    def on_page(_count: int) -> None:
        if thread.ident is not None:  # started already
            return
        thread.start()
        deadline = time.monotonic() + 10
        while _waiting_on_mandates(store) == 0:
            assert thread.is_alive(), f"{what} ended without waiting for the run"
            assert time.monotonic() < deadline, f"{what} never waited for the run"
            time.sleep(0.02)

    return on_page


def test_the_run_holds_the_mandates_and_reading_them_is_not_held(
    store: SqlStore, tmp_path: Path, dev_pki: Path
) -> None:
    seen: dict[str, Any] = {}
    m = schema.mandates

    def on_page(_count: int) -> None:
        if seen:
            return
        with store.engine.connect() as other:
            seen["mode"] = other.execute(
                text(
                    "SELECT mode FROM pg_locks WHERE granted AND relation = 'mandates'::regclass "
                    "AND pid <> pg_backend_pid() AND mode = 'ExclusiveLock'"
                )
            ).scalar()
            seen["read"] = other.execute(select(m.c.dossier_id).order_by(m.c.dossier_id).limit(1)).scalar()
            other.execute(text("SET lock_timeout = '200ms'"))
            try:  # what a signature or an amendment reads first
                other.execute(select(m.c.dossier_id).limit(1).with_for_update())
            except OperationalError as exc:
                seen["for_update"] = str(exc.orig)
            other.rollback()

    report = _run(store, tmp_path, dev_pki, on_page)
    assert report.count > 0
    assert seen["mode"] == "ExclusiveLock"
    assert seen["read"] == min(data["dossier_id"] for data, mandate, _ in ROWS if mandate is not None)
    assert "lock timeout" in seen["for_update"]


def test_a_change_recorded_during_the_run_waits_and_applies_to_the_mandate_as_the_run_left_it(
    store: SqlStore, tmp_path: Path, dev_pki: Path
) -> None:
    """The debtor moves to another bank while the run sends the first debit (FRST): the change
    holds its dossier's row, then waits for the mandate; the run stores the dossier's span and
    debit meanwhile (no deadlock) and commits; the change then sees the FRST sent and becomes
    an amendment for the next debit, instead of silently replacing the account the bank has."""
    dossier_id = _first_debited(tmp_path, dev_pki)
    outcome: dict[str, Any] = {}

    def change() -> None:
        try:
            outcome["amendment"] = change_debtor_account(
                store, dossier_id, iban=NEW_IBAN, bic=None, holder=None, now=RUN_AT
            )
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=change)
    # the change holds its dossier, then waits for the run
    report = _run(store, tmp_path, dev_pki, _starting(thread, store, "the change"))
    thread.join(10)
    assert not thread.is_alive()
    assert "error" not in outcome
    d, m, s = schema.debits, schema.mandates, schema.collection_spans
    with store.engine.connect() as conn:
        sequence = conn.execute(select(d.c.sequence).where(d.c.dossier_id == dossier_id)).scalar()
        span = conn.execute(select(s.c.dossier_id).where(s.c.dossier_id == dossier_id)).scalar()
        moved = select(m.c.iban, m.c.first_collection_done).where(m.c.dossier_id == dossier_id)
        iban, done = conn.execute(moved).one()
    assert report.count > 0
    assert (sequence, span) == ("FRST", dossier_id)
    assert (iban, done) == (NEW_IBAN, True)
    assert outcome["amendment"] is not None  # the next debit tells the bank of the change
    assert outcome["amendment"]["new_debtor_agent"] is True


def test_two_runs_of_a_month_at_once_run_one_after_the_other(
    store: SqlStore, tmp_path: Path, dev_pki: Path
) -> None:
    """The hold is the runs' own order too: a second run started during the first waits for its
    commit, then finds the month issued and writes no file (no clash on the one debit per
    dossier and month)."""
    second: dict[str, Any] = {}

    def run_again() -> None:
        second["report"] = _run(store, tmp_path / "second", dev_pki, lambda _count: None)

    thread = threading.Thread(target=run_again)
    first = _run(store, tmp_path, dev_pki, _starting(thread, store, "the second run"))
    thread.join(30)
    assert not thread.is_alive()
    assert first.count > 0
    assert first.file is not None
    assert (second["report"].count, second["report"].file) == (0, None)
    d = schema.debits
    with store.engine.connect() as conn:
        issued = conn.execute(select(d.c.message_id).where(d.c.period == PERIOD).distinct()).scalars().all()
    assert issued == [first.message_id]
