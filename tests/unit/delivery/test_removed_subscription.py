"""Deliveries of a subscription removed from GATEWAY_WEBHOOKS: never posted, never pending forever.

Once no worker has served the subscription for the grace, a worker dead-letters its pending
deliveries unsent (`subscription-removed`); with the subscription back, a retry delivers them. A
replica still on the old settings during a rolling restart never takes a new subscription for a
removed one, and a delivery under a lease is left to its worker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
import respx

from gateway.delivery.worker import DeliveryWorker, Endpoint, removal_grace
from gateway.services.events import DEBIT_SETTLED
from gateway.store.deliveries import SUBSCRIPTION_REMOVED, SqlDeliveries
from gateway.store.sql import SqlStore
from tests.unit.delivery.support import URL, FakeClock, add_events, endpoint

Make = Callable[..., DeliveryWorker]
GONE_URL = "https://gone.example/hooks?token=s3cr3t"
GRACE = timedelta(minutes=5)  # removal_grace of the 60 s lease the tests' workers hold


def gone() -> Endpoint:
    return endpoint("gone", GONE_URL)


def test_the_grace_outlasts_a_live_workers_silence() -> None:
    assert removal_grace(timedelta(seconds=60)) == GRACE
    assert removal_grace(timedelta(minutes=10)) == timedelta(minutes=22)  # 2 x (a minute + a lease)


@respx.mock
def test_a_removed_subscriptions_deliveries_are_dead_lettered_unsent_then_replayed(
    make: Make, store: SqlStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    add_events(store, ["DOS-1", "DOS-2"])
    bo = respx.post(URL).mock(return_value=httpx.Response(200))
    gone_route = respx.post(GONE_URL).mock(return_value=httpx.Response(200))
    make(endpoints=[endpoint(), gone()]).fan_out()  # queued for both, then `gone` leaves the settings
    deliveries = SqlDeliveries(store)
    worker = make()  # serves `bo` only

    stats = worker.drain()
    assert (stats.delivered, stats.unsubscribed) == (2, 0)
    clock.advance(seconds=GRACE.total_seconds())
    assert worker.drain().unsubscribed == 0  # still within the grace: maybe another replica serves it
    assert deliveries.counts() == {"pending": 2, "delivered": 2, "dead": 0}

    clock.advance(minutes=1)  # a worker looks once a minute
    with caplog.at_level(logging.INFO, logger="gateway"):
        stats = worker.drain()

    assert stats.unsubscribed == 2
    assert gone_route.call_count == 0  # nothing is sent to a URL no longer configured
    dead = deliveries.list_rows(status="dead")
    assert [(r.subscription, r.event_id, r.attempts, r.last_status_code) for r in dead] == [
        ("gone", 1, 0, None),
        ("gone", 2, 0, None),
    ]
    assert all(r.last_error and r.last_error.startswith(SUBSCRIPTION_REMOVED + ":") for r in dead)
    assert all(r.locked_until is None for r in dead)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "2 pending deliveries of subscription(s) no longer configured" in text
    assert "gone.example" not in text  # ids only, never URLs (they may hold tokens)
    assert "s3cr3t" not in text
    clock.advance(hours=1)
    assert worker.drain().unsubscribed == 0  # dead letters stay dead, counted once

    # The operator puts the subscription back and replays what was set aside.
    back = make(endpoints=[endpoint(), gone()])
    assert deliveries.requeue_dead(None, now=clock.now, subscription="bo") == []
    assert deliveries.requeue_dead(None, now=clock.now, subscription="gone") == [3, 4]
    assert back.drain().delivered == 2
    assert [json.loads(c.request.content)["id"] for c in gone_route.calls] == ["1", "2"]
    assert deliveries.counts() == {"pending": 0, "delivered": 4, "dead": 0}
    assert bo.call_count == 2


@respx.mock
def test_a_new_subscription_is_not_taken_for_a_removed_one_during_a_rolling_restart(
    make: Make, store: SqlStore, clock: FakeClock
) -> None:
    add_events(store, ["DOS-1"])
    respx.post(URL).mock(return_value=httpx.Response(200))
    # The new subscription's receiver is down: its delivery waits for retries, far apart.
    new_route = respx.post(GONE_URL).mock(return_value=httpx.Response(503))
    old = make()  # a replica still on the old settings
    new = make(endpoints=[endpoint(), gone()], max_attempts=20, base=timedelta(minutes=10))

    for _ in range(40):  # forty minutes side by side
        new.drain()
        assert old.drain().unsubscribed == 0
        clock.advance(minutes=1)

    (row,) = SqlDeliveries(store).list_rows(subscription="gone")
    assert row.status == "pending"
    assert row.last_error == "HTTP 503"
    assert new_route.call_count >= 3


def test_a_leased_delivery_is_left_to_its_worker_whose_late_outcome_is_then_fenced(
    make: Make, store: SqlStore, clock: FakeClock
) -> None:
    add_events(store, ["DOS-1"])
    make(endpoints=[gone()]).fan_out()
    deliveries = SqlDeliveries(store)
    (held,) = deliveries.claim(["gone"], now=clock.now, lease=timedelta(minutes=30), limit=1, token="A")
    worker = make(endpoints=[endpoint(types=[DEBIT_SETTLED])])  # wants none of these events

    clock.advance(minutes=10)  # the worker serving `gone` went quiet (crashed mid-attempt)
    assert worker.drain().unsubscribed == 0  # its lease still holds the delivery
    clock.advance(minutes=20)
    assert worker.drain().unsubscribed == 1

    assert not deliveries.record_delivered(held, now=clock.now, status_code=200)  # fenced
    (row,) = deliveries.list_rows()
    assert (row.status, row.attempts, row.locked_until) == ("dead", 1, None)
