"""Replicas and a subscription removed from the settings, on SQLite and PostgreSQL: its pending
deliveries are set aside once each (never posted) while several workers look at the same time, and
on PostgreSQL a worker passes over the rows another transaction holds instead of waiting."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from gateway.store.deliveries import SUBSCRIPTION_REMOVED, SqlDeliveries
from gateway.store.sql import SqlStore, open_sql_store
from tests.integration.test_delivery_concurrency import EVENTS, Receiver, run_replicas, stores, url
from tests.pg import postgres_server, postgres_url
from tests.unit.delivery.support import FakeClock, add_events, endpoint, make_worker

__all__ = ["postgres_server", "postgres_url", "stores", "url"]


def _queued_an_hour_ago(store: SqlStore) -> None:
    """Deliveries queued for `bo` and `gone` by a worker an hour ago; `gone` has left the settings."""
    worker = make_worker(
        store,
        clock=FakeClock(datetime.now(UTC) - timedelta(hours=1)),
        endpoints=[endpoint(), endpoint("gone", "https://gone.example/in")],
    )
    worker.fan_out()
    worker.sender.close()


def test_replicas_set_each_delivery_of_a_removed_subscription_aside_once(stores: list[SqlStore]) -> None:
    add_events(stores[0], [f"DOS-{n % 8}" for n in range(EVENTS)])
    _queued_an_hour_ago(stores[0])
    totals = run_replicas(stores, receiver := Receiver(), rounds=1)
    assert sum(t.unsubscribed for t in totals) == EVENTS  # each set aside by exactly one worker
    assert sum(t.delivered for t in totals) == EVENTS
    assert receiver.overlaps == []
    assert len(receiver.started) == EVENTS  # `bo` only: nothing went to the removed subscription
    deliveries = SqlDeliveries(stores[0])
    assert deliveries.counts() == {"pending": 0, "delivered": EVENTS, "dead": EVENTS}
    dead = deliveries.list_rows(status="dead", limit=1000)
    assert {r.subscription for r in dead} == {"gone"}
    assert all(r.attempts == 0 and (r.last_error or "").startswith(SUBSCRIPTION_REMOVED) for r in dead)


def test_postgres_set_aside_skips_rows_another_transaction_holds(postgres_url: str) -> None:
    stores = [open_sql_store(postgres_url), open_sql_store(postgres_url, migrate=False)]
    try:
        add_events(stores[0], ["DOS-1", "DOS-2"])
        _queued_an_hour_ago(stores[0])
        now = datetime.now(UTC)
        found: list[int] = []

        def set_aside() -> None:
            found.extend(
                SqlDeliveries(stores[0]).set_aside_unsubscribed(
                    ["bo"], now=now, silent_since=now - timedelta(minutes=5)
                )
            )

        with stores[1].engine.connect() as other, other.begin():
            # A replica is claiming (or setting aside) the first of gone's deliveries right now.
            other.execute(
                text(
                    "SELECT 1 FROM webhook_deliveries WHERE subscription = 'gone'"
                    " ORDER BY delivery_id LIMIT 1 FOR UPDATE"
                )
            )
            worker = threading.Thread(target=set_aside, daemon=True)
            worker.start()
            worker.join(10)
            assert not worker.is_alive()  # it did not wait for the lock
        rows = SqlDeliveries(stores[0]).list_rows(subscription="gone")
        assert found == [rows[1].delivery_id]
        assert [r.status for r in rows] == ["pending", "dead"]
    finally:
        for store in stores:
            store.close()
