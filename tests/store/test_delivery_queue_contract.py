"""The webhook delivery queue's contract, on the in-memory fake the worker's unit tests use
(tests/fake_deliveries.py) and on SQL (gateway.store.deliveries, SQLite and PostgreSQL): the same
assertions on each, so the fake cannot drift from the real thing.

Fan-out after a per-subscription cursor, one claim at a time under a lease fenced by a token,
per-dossier order, retries and dead letters, their replay, and the set-aside of the deliveries of a
subscription no worker serves any more.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from gateway.services.events import DEBIT_SETTLED, DOSSIER_ACCEPTED, publish
from gateway.services.ports import DeliveryQueue
from gateway.services.records import SubscriptionFilter
from gateway.store import MemoryStore, Store, open_sql_store
from gateway.store.deliveries import SUBSCRIPTION_REMOVED, DeliveryRow, SqlDeliveries
from tests.fake_deliveries import FakeDeliveryQueue

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
BO = SubscriptionFilter("bo")


class Queue(DeliveryQueue, Protocol):
    """The port plus the operations `gateway deliveries` uses, which the tests read rows with."""

    def requeue_dead(
        self, delivery_ids: Sequence[int] | None, *, now: datetime, subscription: str | None = None
    ) -> list[int]: ...

    def list_rows(
        self, *, status: str | None = None, subscription: str | None = None, after: int = 0, limit: int = 100
    ) -> list[DeliveryRow]: ...

    def counts(self) -> dict[str, int]: ...


@dataclass
class Harness:
    store: Store
    queue: Queue

    def events(self, dossiers: Sequence[str | None], *, type_: str = DOSSIER_ACCEPTED) -> None:
        """One committed outbox event per dossier id given, in that order."""
        for n, dossier_id in enumerate(dossiers):
            with self.store.transaction() as uow:
                publish(uow.events, type_, {"n": n}, at=T0, dossier_id=dossier_id)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "memory":
        memory = MemoryStore()
        yield Harness(memory, FakeDeliveryQueue(memory))
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    sql = open_sql_store(url)
    yield Harness(sql, SqlDeliveries(sql))
    sql.close()


def claim(
    h: Harness, token: str, *, now: datetime = T0, limit: int = 1, subs: Sequence[str] = ("bo",)
) -> list[int]:
    return [c.delivery_id for c in h.queue.claim(subs, now=now, lease=LEASE, limit=limit, token=token)]


def test_fan_out_queues_one_delivery_per_wanted_event_after_the_cursor(h: Harness) -> None:
    h.events(["DOS-1", "DOS-2"])
    h.events(["DOS-1"], type_=DEBIT_SETTLED)
    debits = SubscriptionFilter("debits", frozenset({DEBIT_SETTLED}))

    assert h.queue.fan_out(BO, now=T0, batch=2) == 2  # a full batch: the caller loops
    assert h.queue.fan_out(BO, now=T0, batch=2) == 1
    assert h.queue.fan_out(BO, now=T0) == 0  # the cursor is past every event
    assert h.queue.fan_out(debits, now=T0) == 3  # reads every event, queues the one it wants
    h.events([None])
    assert h.queue.fan_out(BO, now=T0) == 1

    rows = h.queue.list_rows()
    assert [(r.delivery_id, r.subscription, r.event_id, r.dossier_id) for r in rows] == [
        (1, "bo", 1, "DOS-1"),
        (2, "bo", 2, "DOS-2"),
        (3, "bo", 3, "DOS-1"),
        (4, "debits", 3, "DOS-1"),
        (5, "bo", 4, None),
    ]
    assert all(
        (r.status, r.attempts, r.next_attempt_at, r.locked_until) == ("pending", 0, T0, None) for r in rows
    )
    assert h.queue.has_pending()
    assert h.queue.counts() == {"pending": 5, "delivered": 0, "dead": 0}
    assert [r.event_id for r in h.queue.list_rows(subscription="debits")] == [3]
    assert [r.delivery_id for r in h.queue.list_rows(after=3, limit=1)] == [4]


def test_a_claim_holds_for_its_lease_then_comes_back_and_a_late_outcome_is_fenced(h: Harness) -> None:
    h.events(["DOS-1"])
    h.queue.fan_out(BO, now=T0)
    (first,) = h.queue.claim(["bo"], now=T0, lease=LEASE, limit=5, token="A")
    assert (first.delivery_id, first.attempt, first.claim_token, first.locked_until) == (
        1,
        1,
        "A",
        T0 + LEASE,
    )
    assert (first.event_id, first.event_type, first.dossier_id) == (1, DOSSIER_ACCEPTED, "DOS-1")
    assert first.event_created_at == T0
    assert claim(h, "B", now=T0 + LEASE - timedelta(seconds=1)) == []
    assert h.queue.list_rows()[0].locked_until == T0 + LEASE

    (taken,) = h.queue.claim(["bo"], now=T0 + LEASE, lease=LEASE, limit=5, token="B")
    assert (taken.delivery_id, taken.attempt) == (1, 2)
    later = T0 + LEASE + timedelta(seconds=1)
    assert not h.queue.record_failed(first, now=later, status_code=500, error="HTTP 500", retry_at=None)
    assert not h.queue.record_delivered(first, now=later, status_code=200)
    assert h.queue.record_delivered(taken, now=later, status_code=204)
    assert not h.queue.record_delivered(taken, now=later, status_code=204)  # recorded once

    (row,) = h.queue.list_rows()
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("delivered", 2, 204, None)
    assert (row.delivered_at, row.locked_until, row.updated_at) == (later, None, later)
    assert not h.queue.has_pending()
    assert claim(h, "C", now=later + timedelta(hours=1)) == []


def test_claims_take_the_due_ones_oldest_first_of_the_subscriptions_asked(h: Harness) -> None:
    h.events(["DOS-1", "DOS-2", "DOS-3"])
    h.queue.fan_out(BO, now=T0)
    h.queue.fan_out(SubscriptionFilter("other"), now=T0)
    assert claim(h, "A", limit=0) == []
    assert claim(h, "A", subs=()) == []
    (one,) = h.queue.claim(["bo"], now=T0, lease=LEASE, limit=1, token="A")
    assert one.delivery_id == 1
    retry_at = T0 + timedelta(seconds=30)
    assert h.queue.record_failed(one, now=T0, status_code=503, error="HTTP 503", retry_at=retry_at)

    assert sorted(claim(h, "B", limit=5)) == [2, 3]  # 1 waits for its retry
    assert claim(h, "C", limit=5, now=T0 + timedelta(seconds=29)) == []
    later, both = T0 + timedelta(minutes=5), ("bo", "other")
    assert sorted(claim(h, "D", limit=2, now=later, subs=both)) == [2, 3]  # due first, then by id
    assert sorted(claim(h, "E", limit=10, now=later, subs=both)) == [1, 4, 5, 6]


def test_one_dossiers_deliveries_go_in_outbox_order_and_a_dead_one_stops_blocking(h: Harness) -> None:
    h.events(["DOS-1", "DOS-1", None, None, "DOS-2"])
    h.queue.fan_out(BO, now=T0)

    claimed = {c.delivery_id: c for c in h.queue.claim(["bo"], now=T0, lease=LEASE, limit=10, token="A")}
    assert sorted(claimed) == [1, 3, 4, 5]  # 2 waits for 1; events without a dossier never wait
    for delivery_id in (3, 4, 5):
        assert h.queue.record_delivered(claimed[delivery_id], now=T0, status_code=200)
    assert h.queue.record_failed(
        claimed[1], now=T0, status_code=503, error="HTTP 503", retry_at=T0 + 2 * LEASE
    )
    assert claim(h, "B", now=T0 + LEASE, limit=10) == []  # 1 not due yet, 2 still behind it

    (again,) = h.queue.claim(["bo"], now=T0 + 2 * LEASE, lease=LEASE, limit=10, token="C")
    assert (again.delivery_id, again.attempt) == (1, 2)
    assert h.queue.record_failed(again, now=T0 + 2 * LEASE, status_code=400, error="HTTP 400", retry_at=None)
    assert claim(h, "D", now=T0 + 2 * LEASE, limit=10) == [2]  # dead: no longer blocks


def test_a_failure_is_retried_at_its_time_or_dead_lettered_with_a_bounded_error(h: Harness) -> None:
    h.events(["DOS-1"])
    h.queue.fan_out(BO, now=T0)
    (claimed,) = h.queue.claim(["bo"], now=T0, lease=LEASE, limit=1, token="A")
    retry_at = T0 + timedelta(seconds=20)
    assert h.queue.record_failed(claimed, now=T0, status_code=None, error="timeout", retry_at=retry_at)
    (row,) = h.queue.list_rows()
    assert (row.status, row.attempts, row.next_attempt_at, row.locked_until) == ("pending", 1, retry_at, None)
    assert (row.last_status_code, row.last_error) == (None, "timeout")

    (claimed,) = h.queue.claim(["bo"], now=retry_at, lease=LEASE, limit=1, token="B")
    assert h.queue.record_failed(claimed, now=retry_at, status_code=400, error="x" * 600, retry_at=None)
    (row,) = h.queue.list_rows()
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("dead", 2, 400, "x" * 512)
    assert row.next_attempt_at == retry_at  # a dead letter keeps its last schedule
    assert h.queue.counts() == {"pending": 0, "delivered": 0, "dead": 1}
    assert not h.queue.has_pending()


def test_requeue_makes_dead_deliveries_pending_with_fresh_attempts(h: Harness) -> None:
    h.events(["DOS-1", "DOS-2", "DOS-3"])
    h.queue.fan_out(BO, now=T0)
    h.queue.fan_out(SubscriptionFilter("other", frozenset({DOSSIER_ACCEPTED})), now=T0)
    for claimed in h.queue.claim(["bo", "other"], now=T0, lease=LEASE, limit=10, token="A"):
        if claimed.delivery_id == 3:
            h.queue.record_delivered(claimed, now=T0, status_code=200)
        else:
            h.queue.record_failed(claimed, now=T0, status_code=410, error="HTTP 410", retry_at=None)
    later = T0 + timedelta(hours=1)

    assert h.queue.requeue_dead([], now=later) == []
    assert h.queue.requeue_dead([1, 3, 999], now=later) == [1]  # 3 was delivered, 999 does not exist
    assert h.queue.requeue_dead(None, now=later, subscription="other") == [4, 5, 6]
    assert h.queue.requeue_dead(None, now=later) == [2]
    rows = {r.delivery_id: r for r in h.queue.list_rows()}
    assert (rows[1].status, rows[1].attempts, rows[1].next_attempt_at, rows[1].updated_at) == (
        "pending",
        0,
        later,
        later,
    )
    assert rows[1].last_error == "HTTP 410"  # the last failure stays visible until the next attempt
    (again,) = h.queue.claim(["bo"], now=later, lease=LEASE, limit=1, token="B")
    assert (again.delivery_id, again.attempt) == (1, 1)


def test_a_removed_subscriptions_deliveries_are_set_aside_once_nobody_serves_it(h: Harness) -> None:
    h.events(["DOS-1", "DOS-2"])
    h.queue.fan_out(BO, now=T0)
    h.queue.fan_out(SubscriptionFilter("gone"), now=T0)
    h.queue.fan_out(SubscriptionFilter("held"), now=T0)
    (held,) = h.queue.claim(["held"], now=T0, lease=timedelta(hours=1), limit=1, token="A")
    grace = timedelta(minutes=5)
    now = T0 + timedelta(minutes=10)
    h.queue.heartbeat(["bo", "unknown"], now=now)  # a cursor nobody created is not made up

    assert h.queue.set_aside_unsubscribed(["other"], now=T0 + grace, silent_since=T0) == []  # all alive
    assert h.queue.set_aside_unsubscribed(["other"], now=now, silent_since=now - grace) == [3, 4, 6]
    assert h.queue.set_aside_unsubscribed(["other"], now=now, silent_since=now - grace) == []

    dead = h.queue.list_rows(status="dead")
    assert [(r.subscription, r.attempts, r.last_status_code, r.locked_until) for r in dead] == [
        ("gone", 0, None, None),
        ("gone", 0, None, None),
        ("held", 0, None, None),
    ]
    assert all(r.last_error and r.last_error.startswith(SUBSCRIPTION_REMOVED + ":") for r in dead)
    assert [r.status for r in h.queue.list_rows(subscription="bo")] == ["pending", "pending"]
    # The leased one is left to its worker until the lease is over, then set aside, fencing it.
    assert h.queue.set_aside_unsubscribed([], now=T0 + timedelta(hours=1), silent_since=now) == [5]
    assert not h.queue.record_delivered(held, now=T0 + timedelta(hours=1), status_code=200)
    assert h.queue.counts() == {"pending": 2, "delivered": 0, "dead": 4}


def test_a_served_subscription_is_never_set_aside_a_silent_one_is(h: Harness) -> None:
    h.events(["DOS-1"])
    h.queue.fan_out(BO, now=T0)
    assert h.queue.set_aside_unsubscribed(["bo"], now=T0, silent_since=T0) == []
    assert h.queue.set_aside_unsubscribed([], now=T0, silent_since=T0 + timedelta(seconds=1)) == [1]
