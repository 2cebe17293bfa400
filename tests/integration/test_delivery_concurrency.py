"""Several delivery workers on one database (replicas): never the same delivery at once, every event
delivered, per-dossier order kept; on PostgreSQL claims skip locked rows instead of waiting."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.services.delivery import DeliveryWorker, RoundStats
from gateway.services.ports import SendResult
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import SqlStore, open_sql_store
from tests.fakes import FakeArchive
from tests.pg import postgres_server, postgres_url
from tests.unit.delivery.support import T0, FakeClock, add_events, make_worker

__all__ = ["postgres_server", "postgres_url"]

WORKERS = 4
EVENTS = 48
DOSSIERS = 12


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    found: str = request.getfixturevalue("postgres_url")
    return found


class Receiver:
    """A sender double shared by every worker: notices any delivery posted twice at the same time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight: set[str] = set()
        self.overlaps: list[str] = []
        self.started: list[tuple[int, str]] = []  # (event id, dossier) in the order posts began
        self.by_worker: Counter[str] = Counter()

    def sender(self, name: str) -> _Sender:
        return _Sender(self, name)


class _Sender:
    def __init__(self, receiver: Receiver, name: str) -> None:
        self.receiver = receiver
        self.name = name

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        import json

        event = json.loads(body)
        key = headers["webhook-id"]
        r = self.receiver
        with r.lock:
            if key in r.in_flight:
                r.overlaps.append(key)
            r.in_flight.add(key)
            r.started.append((int(event["id"]), event["dossier_id"]))
            r.by_worker[self.name] += 1
        time.sleep(0.003)  # a slow receiver widens every race window
        with r.lock:
            r.in_flight.discard(key)
        return SendResult(200)

    def close(self) -> None:
        pass


@pytest.fixture
def stores(url: str) -> Iterator[list[SqlStore]]:
    # One engine (connection pool) per worker, as separate replicas would have.
    opened = [open_sql_store(url)]
    opened += [open_sql_store(url, migrate=False) for _ in range(WORKERS - 1)]
    yield opened
    for store in opened:
        store.close()


def run_replicas(stores: list[SqlStore], receiver: Receiver, *, rounds: int) -> list[RoundStats]:
    """One real-time worker per store, started at once, each draining `rounds` times; their stats."""
    workers: list[DeliveryWorker] = [
        make_worker(
            store, clock=lambda: datetime.now(UTC), sender=receiver.sender(f"w{i}"), archive=FakeArchive()
        )
        for i, store in enumerate(stores)
    ]
    barrier = threading.Barrier(len(workers))
    totals = [RoundStats() for _ in workers]
    errors: list[BaseException] = []

    def run(worker: DeliveryWorker, total: RoundStats) -> None:
        try:
            barrier.wait()
            for _ in range(rounds):
                total.add(worker.drain())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(workers, totals, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    return totals


def test_replicas_never_post_one_delivery_twice_at_once(stores: list[SqlStore]) -> None:
    add_events(stores[0], [f"DOS-{n % DOSSIERS}" for n in range(EVENTS)])
    receiver = Receiver()
    # A replica that found nothing claimable keeps polling a little.
    run_replicas(stores, receiver, rounds=3)
    assert receiver.overlaps == []
    posted = Counter(event for event, _ in receiver.started)
    # Leases never ran out here, so at-least-once is even exactly once.
    assert posted == dict.fromkeys(range(1, EVENTS + 1), 1)
    assert len(receiver.by_worker) >= 2, receiver.by_worker  # the work really was shared
    for dossier in {d for _, d in receiver.started}:
        events = [e for e, d in receiver.started if d == dossier]
        assert events == sorted(events), dossier
    deliveries = SqlDeliveries(stores[0])
    assert deliveries.counts() == {"pending": 0, "delivered": EVENTS, "dead": 0}
    assert len(deliveries.list_rows(limit=1000)) == EVENTS  # concurrent fan-outs made no duplicates


def test_a_lease_expires_and_the_late_owner_is_fenced(stores: list[SqlStore]) -> None:
    add_events(stores[0], ["DOS-1"])
    clock = FakeClock()
    first, second = SqlDeliveries(stores[0]), SqlDeliveries(stores[1])
    make_worker(stores[0], clock=clock).fan_out()
    lease = timedelta(seconds=30)
    (held,) = first.claim(["bo"], now=clock.now, lease=lease, limit=10, token="first")
    assert second.claim(["bo"], now=clock.now + timedelta(seconds=29), lease=lease, limit=10, token="x") == []
    (taken,) = second.claim(["bo"], now=clock.now + lease, lease=lease, limit=10, token="second")
    assert taken.delivery_id == held.delivery_id
    assert not first.record_delivered(held, now=T0, status_code=200)
    assert second.record_failed(taken, now=T0, status_code=503, error="HTTP 503", retry_at=T0)
    assert first.list_rows()[0].last_error == "HTTP 503"


def test_postgres_claims_skip_rows_another_transaction_holds(postgres_url: str) -> None:
    # PostgreSQL only: SQLite has no row locks, it serialises whole write transactions instead.
    stores = [open_sql_store(postgres_url), open_sql_store(postgres_url, migrate=False)]
    try:
        _claim_beside_a_held_row(stores)
    finally:
        for store in stores:
            store.close()


def _claim_beside_a_held_row(stores: list[SqlStore]) -> None:
    add_events(stores[0], ["DOS-1", "DOS-2"])
    make_worker(stores[0], clock=FakeClock()).fan_out()
    claimed: list[int] = []

    def claim() -> None:
        found = SqlDeliveries(stores[0]).claim(
            ["bo"], now=T0 + timedelta(minutes=1), lease=timedelta(seconds=60), limit=10, token="t"
        )
        claimed.extend(c.delivery_id for c in found)

    with stores[1].engine.connect() as other, other.begin():
        # Another replica is in the middle of claiming delivery 1 (row locked, not committed).
        other.execute(text("SELECT 1 FROM webhook_deliveries WHERE delivery_id = 1 FOR UPDATE"))
        claimer = threading.Thread(target=claim, daemon=True)
        claimer.start()
        claimer.join(10)
        # A claim that waited for the lock would still be running: it passed over the row.
        assert not claimer.is_alive()
    assert claimed == [2]
