"""The delivery worker with respx: success, retries with backoff, timeouts, dead letters, replay, order."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
import respx

from gateway.delivery.worker import DeliveryWorker, RetryPolicy
from gateway.services.events import DEBIT_SETTLED
from gateway.signing.webhooks import verify
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import SqlStore
from tests.fakes import FakeArchive
from tests.unit.delivery.support import SECRET, URL, FakeClock, FakeSigner, add_events, endpoint

Make = Callable[..., DeliveryWorker]


def sent_event_ids(route: respx.Route) -> list[int]:
    return [int(json.loads(call.request.content)["id"]) for call in route.calls]


@respx.mock
def test_success_is_signed_archived_and_recorded(
    make: Make, store: SqlStore, clock: FakeClock, archive: FakeArchive
) -> None:
    add_events(store, ["DOS-1"])
    route = respx.post(URL).mock(return_value=httpx.Response(204))
    worker = make()

    stats = worker.drain()

    assert (stats.queued_events, stats.claimed, stats.delivered) == (1, 1, 1)
    request = route.calls.last.request
    assert request.headers["webhook-id"] == "evt_1"
    assert request.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    assert request.headers["content-type"] == "application/json"
    # What a consumer does with our verifier: the delivery is authentic.
    assert verify(SECRET, request.headers, request.content, now=clock.now.timestamp()) == "evt_1"
    body = json.loads(request.content)
    assert body == {
        "id": "1",
        "type": "dossier.accepted",
        "dossier_id": "DOS-1",
        "created_at": "2026-11-23T10:00:00Z",
        "timestamp": "2026-11-23T10:00:00Z",
        "data": {"dossier": {"n": 0, "nir": "2850775123456"}},
    }
    (item,) = archive.items
    assert item.kind == "webhook-delivery"
    assert item.blob == request.content
    assert item.signature == FakeSigner().sign_detached(request.content)
    assert item.metadata == {
        "host": "bo.example",
        "event_id": "1",
        "delivery_id": "1",
        "webhook_id": "evt_1",
        "webhook_timestamp": request.headers["webhook-timestamp"],
        "attempt": "1",
        "status_code": "204",
        "outcome": "delivered",
    }
    (row,) = SqlDeliveries(store).list_rows()
    assert (row.status, row.attempts, row.last_status_code, row.delivered_at) == (
        "delivered",
        1,
        204,
        clock.now,
    )
    assert row.locked_until is None
    assert worker.drain().idle  # nothing is sent twice
    assert route.call_count == 1


@respx.mock
def test_5xx_then_success_waits_the_jittered_backoff(
    make: Make, store: SqlStore, clock: FakeClock, archive: FakeArchive
) -> None:
    add_events(store, ["DOS-1"])
    route = respx.post(URL).mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    draws = iter([0.25])
    worker = make(base=timedelta(seconds=8), draw=lambda: next(draws))

    first = worker.drain()
    assert (first.claimed, first.retried, first.delivered) == (1, 1, 0)
    (row,) = SqlDeliveries(store).list_rows()
    # Full jitter: uniform(0, base * 2**0) drawn as 0.25 -> 2 s.
    assert (row.status, row.attempts, row.last_error, row.last_status_code) == ("pending", 1, "HTTP 503", 503)
    assert row.next_attempt_at == clock.now + timedelta(seconds=2)

    clock.advance(seconds=1.9)
    assert worker.drain().claimed == 0  # not due yet
    clock.advance(seconds=0.1)
    assert worker.drain().delivered == 1

    assert route.call_count == 2
    first_call, second_call = (c.request for c in route.calls)
    assert first_call.headers["webhook-id"] == second_call.headers["webhook-id"] == "evt_1"
    assert first_call.content == second_call.content
    assert int(second_call.headers["webhook-timestamp"]) == int(first_call.headers["webhook-timestamp"]) + 2
    assert [i.metadata["status_code"] for i in archive.items] == ["503", "200"]
    assert [i.metadata["attempt"] for i in archive.items] == ["1", "2"]
    assert SqlDeliveries(store).list_rows()[0].status == "delivered"


@pytest.mark.parametrize(
    ("failure", "described"),
    [
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "connect error to bo.example:443"),
    ],
)
@respx.mock
def test_timeouts_and_network_errors_are_retried(
    make: Make, store: SqlStore, clock: FakeClock, archive: FakeArchive, failure: Exception, described: str
) -> None:
    add_events(store, ["DOS-1"])
    route = respx.post(URL).mock(side_effect=[failure, httpx.Response(200)])
    worker = make(draw=lambda: 0.0)

    stats = worker.drain()  # a zero draw retries at once: both attempts in one drain

    assert (stats.retried, stats.delivered) == (1, 1)
    assert route.call_count == 2
    assert [i.metadata["outcome"] for i in archive.items] == [described, "delivered"]
    assert archive.items[0].metadata["status_code"] == ""
    (row,) = SqlDeliveries(store).list_rows()
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, None)


@respx.mock
def test_permanent_4xx_is_dead_lettered_after_the_last_attempt(
    make: Make, store: SqlStore, clock: FakeClock, archive: FakeArchive
) -> None:
    add_events(store, ["DOS-1"])
    route = respx.post(URL).mock(return_value=httpx.Response(400))
    worker = make(max_attempts=3, draw=lambda: 0.999)

    dead = 0
    for _ in range(5):
        dead += worker.drain().dead
        clock.advance(hours=1)  # past any backoff

    assert route.call_count == 3
    assert dead == 1
    (row,) = SqlDeliveries(store).list_rows()
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("dead", 3, 400, "HTTP 400")
    assert SqlDeliveries(store).counts() == {"pending": 0, "delivered": 0, "dead": 1}
    assert [i.metadata["attempt"] for i in archive.items] == ["1", "2", "3"]


@respx.mock
def test_replay_requeues_a_dead_delivery_with_fresh_attempts(
    make: Make, store: SqlStore, clock: FakeClock
) -> None:
    add_events(store, ["DOS-1", "DOS-2"])
    route = respx.post(URL).mock(return_value=httpx.Response(410))
    worker = make(max_attempts=1)
    assert worker.drain().dead == 2

    deliveries = SqlDeliveries(store)
    assert deliveries.requeue_dead([1, 999], now=clock.now) == [1]  # 999 does not exist
    route.mock(return_value=httpx.Response(200))
    assert worker.drain().delivered == 1
    assert [r.status for r in deliveries.list_rows()] == ["delivered", "dead"]
    assert deliveries.requeue_dead([1], now=clock.now) == []  # delivered: left alone
    assert deliveries.requeue_dead(None, now=clock.now) == [2]
    assert worker.drain().delivered == 1
    assert sent_event_ids(route) == [1, 2, 1, 2]
    assert deliveries.counts() == {"pending": 0, "delivered": 2, "dead": 0}


@respx.mock
def test_one_dossiers_events_arrive_in_outbox_order_despite_retries(
    make: Make, store: SqlStore, clock: FakeClock
) -> None:
    add_events(store, ["DOS-1", "DOS-1", "DOS-2", None])
    route = respx.post(URL).mock(side_effect=[httpx.Response(503)] + [httpx.Response(200)] * 4)
    worker = make()

    worker.drain()
    # Event 1 failed: event 2 (same dossier) waits; other dossiers and dossier-less events go on.
    assert sent_event_ids(route) == [1, 3, 4]
    clock.advance(minutes=5)
    worker.drain()
    assert sent_event_ids(route) == [1, 3, 4, 1, 2]


@respx.mock
def test_subscriptions_filter_types_and_each_gets_its_own_delivery(
    make: Make, store: SqlStore, clock: FakeClock
) -> None:
    add_events(store, ["DOS-1"])
    add_events(store, ["DOS-1"], type_=DEBIT_SETTLED)
    all_route = respx.post(URL).mock(return_value=httpx.Response(200))
    debits_route = respx.post("https://debits.example/in").mock(return_value=httpx.Response(200))
    worker = make(
        endpoints=[endpoint(), endpoint("debits", "https://debits.example/in", [DEBIT_SETTLED])],
    )

    assert worker.drain().delivered == 3
    assert sent_event_ids(all_route) == [1, 2]
    assert sent_event_ids(debits_route) == [2]
    # The same event has the same webhook-id for every subscription (receivers deduplicate on it).
    assert debits_route.calls.last.request.headers["webhook-id"] == "evt_2"
    add_events(store, ["DOS-2"])
    assert worker.fan_out() == 2  # one new event read per subscription: cursors moved past the rest
    assert [(r.subscription, r.event_id) for r in SqlDeliveries(store).list_rows()] == [
        ("bo", 1),
        ("bo", 2),
        ("debits", 2),
        ("bo", 3),
    ]


def test_a_crashed_workers_claim_expires_and_its_late_outcome_is_fenced(
    make: Make, store: SqlStore, clock: FakeClock
) -> None:
    add_events(store, ["DOS-1"])
    deliveries = SqlDeliveries(store)
    crashed = make()
    crashed.fan_out()
    (claimed,) = deliveries.claim(["bo"], now=clock.now, lease=timedelta(seconds=60), limit=5, token="A")
    assert deliveries.claim(["bo"], now=clock.now, lease=timedelta(seconds=60), limit=5, token="B") == []

    clock.advance(seconds=59)
    assert deliveries.claim(["bo"], now=clock.now, lease=timedelta(seconds=60), limit=5, token="B") == []
    clock.advance(seconds=1)
    (taken,) = deliveries.claim(["bo"], now=clock.now, lease=timedelta(seconds=60), limit=5, token="B")
    assert (taken.delivery_id, taken.attempt) == (claimed.delivery_id, 2)

    # The first worker wakes up late: its outcome must not overwrite the new claim's.
    assert not deliveries.record_failed(
        claimed, now=clock.now, status_code=500, error="HTTP 500", retry_at=None
    )
    assert deliveries.record_delivered(taken, now=clock.now, status_code=200)
    assert not deliveries.record_delivered(claimed, now=clock.now, status_code=200)
    assert deliveries.list_rows()[0].status == "delivered"


@respx.mock
def test_logs_name_ids_and_hosts_never_payloads_paths_or_secrets(
    make: Make, store: SqlStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    add_events(store, ["DOS-1"])
    respx.post(URL).mock(side_effect=[httpx.Response(500), httpx.ConnectError(f"cannot reach {URL}")])
    worker = make(draw=lambda: 0.0, max_attempts=2)
    with caplog.at_level(logging.DEBUG, logger="gateway"):
        worker.drain()
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("gateway"))
    assert "delivery 1 event 1 to bo.example attempt 1: HTTP 500, retry" in text
    assert "attempt 2: connect error to bo.example:443" in text
    for secret_or_personal in ("2850775123456", "/hooks", SECRET, SECRET.removeprefix("whsec_")):
        assert secret_or_personal not in text
    assert SECRET.removeprefix("whsec_") not in repr(endpoint())


def test_retry_policy_is_full_jitter_capped_and_bounded() -> None:
    policy = RetryPolicy(max_attempts=5, base=timedelta(seconds=10), cap=timedelta(seconds=60))
    assert policy.delay(1, 0.0) == timedelta(0)
    assert policy.delay(1, 0.5) == timedelta(seconds=5)
    assert policy.delay(3, 0.5) == timedelta(seconds=20)  # ceiling 10 * 2**2 = 40
    assert policy.delay(4, 0.99) == timedelta(seconds=0.99 * 60)  # 80 capped at 60
    assert policy.delay(10_000, 0.5) == timedelta(seconds=30)  # no overflow far out
    assert policy.next_attempt(4, clock_now := FakeClock().now, 0.5) == clock_now + timedelta(seconds=30)
    assert policy.next_attempt(5, clock_now, 0.5) is None


@respx.mock
def test_retry_after_of_the_receiver_is_honoured(make: Make, store: SqlStore, clock: FakeClock) -> None:
    add_events(store, ["DOS-1"])
    respx.post(URL).mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "120"}), httpx.Response(200)]
    )
    worker = make(base=timedelta(seconds=8), draw=lambda: 0.25)  # the backoff alone would say 2 s

    assert worker.drain().retried == 1
    (row,) = SqlDeliveries(store).list_rows()
    assert row.next_attempt_at == clock.now + timedelta(seconds=120)
    clock.advance(seconds=119)
    assert worker.drain().claimed == 0
    clock.advance(seconds=1)
    assert worker.drain().delivered == 1


@respx.mock
def test_gone_410_is_dead_at_once(make: Make, store: SqlStore, clock: FakeClock) -> None:
    add_events(store, ["DOS-1"])
    route = respx.post(URL).mock(return_value=httpx.Response(410))
    worker = make(max_attempts=5)

    assert worker.drain().dead == 1
    clock.advance(hours=2)
    assert worker.drain().claimed == 0
    assert route.call_count == 1
    (row,) = SqlDeliveries(store).list_rows()
    assert (row.status, row.attempts, row.last_status_code) == ("dead", 1, 410)
