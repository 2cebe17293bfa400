"""The webhook delivery worker on its ports' fakes (no SQL, no HTTP): signed posts, archived
attempts, retries with jittered backoff, `Retry-After`, dead letters, replay, per-dossier order,
type filters, removed subscriptions, logs without personal data.

The queue is tests/fake_deliveries.FakeDeliveryQueue, held to the SQL queue's behaviour by
tests/store/test_delivery_queue_contract.py; the HTTP sender is tested in tests/unit/delivery/.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from gateway.services.delivery import DeliveryWorker, removal_grace
from gateway.services.events import DEBIT_SETTLED
from gateway.services.ports import SendResult
from gateway.signing.webhooks import verify
from gateway.store import MemoryStore
from gateway.store.deliveries import SUBSCRIPTION_REMOVED
from tests.fake_deliveries import FakeDeliveryQueue, Posted, ScriptedSender
from tests.fakes import FakeArchive, FakeSigner
from tests.unit.delivery.support import SECRET, URL, FakeClock, add_events, endpoint, worker_on

OK, NO_CONTENT = SendResult(200), SendResult(204)
DEBITS_URL = "https://debits.example/in"
GONE_URL = "https://gone.example/hooks?token=s3cr3t"


@dataclass
class World:
    store: MemoryStore = field(default_factory=MemoryStore)
    clock: FakeClock = field(default_factory=FakeClock)
    archive: FakeArchive = field(default_factory=FakeArchive)
    sender: ScriptedSender = field(default_factory=ScriptedSender)
    queue: FakeDeliveryQueue = field(init=False)

    def __post_init__(self) -> None:
        self.queue = FakeDeliveryQueue(self.store)

    def worker(self, **options: Any) -> DeliveryWorker:
        options.setdefault("clock", self.clock)
        options.setdefault("archive", self.archive)
        options.setdefault("sender", self.sender)
        return worker_on(self.queue, **options)

    def events(self, dossiers: list[str | None], **options: Any) -> None:
        add_events(self.store, dossiers, **options)


@pytest.fixture
def w() -> World:
    return World()


def ids(posted: list[Posted]) -> list[int]:
    return [int(json.loads(p.body)["id"]) for p in posted]


def test_success_is_signed_archived_and_recorded(w: World) -> None:
    w.events(["DOS-1"])
    w.sender.answer(URL, NO_CONTENT)
    worker = w.worker()

    stats = worker.drain()

    assert (stats.queued_events, stats.claimed, stats.delivered) == (1, 1, 1)
    (post,) = w.sender.posted
    assert post.url == URL
    assert post.headers["webhook-id"] == "evt_1"
    assert post.headers["webhook-timestamp"] == str(int(w.clock.now.timestamp()))
    assert post.headers["content-type"] == "application/json"
    # What a consumer does with our verifier: the delivery is authentic.
    assert verify(SECRET, post.headers, post.body, now=w.clock.now.timestamp()) == "evt_1"
    assert json.loads(post.body) == {
        "id": "1",
        "type": "dossier.accepted",
        "dossier_id": "DOS-1",
        "created_at": "2026-11-23T10:00:00Z",
        "timestamp": "2026-11-23T10:00:00Z",
        "data": {"dossier": {"n": 0, "nir": "2850775123456"}},
    }
    (item,) = w.archive.items
    assert (item.kind, item.blob, item.signature) == (
        "webhook-delivery",
        post.body,
        FakeSigner().sign_detached(post.body),
    )
    assert item.metadata == {
        "host": "bo.example",
        "event_id": "1",
        "delivery_id": "1",
        "webhook_id": "evt_1",
        "webhook_timestamp": post.headers["webhook-timestamp"],
        "attempt": "1",
        "status_code": "204",
        "outcome": "delivered",
    }
    (row,) = w.queue.list_rows()
    assert (row.status, row.attempts, row.last_status_code, row.delivered_at, row.locked_until) == (
        "delivered",
        1,
        204,
        w.clock.now,
        None,
    )
    assert worker.drain().idle  # nothing is sent twice
    assert len(w.sender.posted) == 1


def test_a_failure_then_success_waits_the_jittered_backoff(w: World) -> None:
    w.events(["DOS-1"])
    w.sender.answer(URL, SendResult(503), OK)
    draws = iter([0.25])
    worker = w.worker(base=timedelta(seconds=8), draw=lambda: next(draws))

    first = worker.drain()
    assert (first.claimed, first.retried, first.delivered) == (1, 1, 0)
    (row,) = w.queue.list_rows()
    # Full jitter: uniform(0, base * 2**0) drawn as 0.25 -> 2 s.
    assert (row.status, row.attempts, row.last_error, row.last_status_code) == ("pending", 1, "HTTP 503", 503)
    assert row.next_attempt_at == w.clock.now + timedelta(seconds=2)

    w.clock.advance(seconds=1.9)
    assert worker.drain().claimed == 0  # not due yet
    w.clock.advance(seconds=0.1)
    assert worker.drain().delivered == 1

    first_post, second_post = w.sender.posted
    assert first_post.headers["webhook-id"] == second_post.headers["webhook-id"] == "evt_1"
    assert first_post.body == second_post.body
    assert int(second_post.headers["webhook-timestamp"]) == int(first_post.headers["webhook-timestamp"]) + 2
    assert [i.metadata["status_code"] for i in w.archive.items] == ["503", "200"]
    assert [i.metadata["attempt"] for i in w.archive.items] == ["1", "2"]
    assert w.queue.list_rows()[0].status == "delivered"


def test_a_transport_error_is_retried_and_archived_without_a_status(w: World) -> None:
    w.events(["DOS-1"])
    w.sender.answer(URL, SendResult(None, "timeout"), OK)
    worker = w.worker(draw=lambda: 0.0)

    stats = worker.drain()  # a zero draw retries at once: both attempts in one drain

    assert (stats.retried, stats.delivered) == (1, 1)
    assert [i.metadata["outcome"] for i in w.archive.items] == ["timeout", "delivered"]
    assert w.archive.items[0].metadata["status_code"] == ""
    (row,) = w.queue.list_rows()
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, None)


def test_a_permanent_failure_is_dead_lettered_after_the_last_attempt(w: World) -> None:
    w.events(["DOS-1"])
    w.sender.answer(URL, SendResult(400))
    worker = w.worker(max_attempts=3, draw=lambda: 0.999)

    dead = 0
    for _ in range(5):
        dead += worker.drain().dead
        w.clock.advance(hours=1)  # past any backoff

    assert (len(w.sender.posted), dead) == (3, 1)
    (row,) = w.queue.list_rows()
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("dead", 3, 400, "HTTP 400")
    assert [i.metadata["attempt"] for i in w.archive.items] == ["1", "2", "3"]


def test_gone_410_is_dead_at_once(w: World) -> None:
    w.events(["DOS-1"])
    w.sender.answer(URL, SendResult(410))
    worker = w.worker(max_attempts=5)

    assert worker.drain().dead == 1
    w.clock.advance(hours=2)
    assert worker.drain().claimed == 0
    assert len(w.sender.posted) == 1
    (row,) = w.queue.list_rows()
    assert (row.status, row.attempts, row.last_status_code) == ("dead", 1, 410)


def test_the_receivers_retry_after_is_honoured(w: World) -> None:
    w.events(["DOS-1"])
    w.sender.answer(URL, SendResult(503, retry_after=timedelta(seconds=120)), OK)
    worker = w.worker(base=timedelta(seconds=8), draw=lambda: 0.25)  # the backoff alone would say 2 s

    assert worker.drain().retried == 1
    assert w.queue.list_rows()[0].next_attempt_at == w.clock.now + timedelta(seconds=120)
    w.clock.advance(seconds=119)
    assert worker.drain().claimed == 0
    w.clock.advance(seconds=1)
    assert worker.drain().delivered == 1


def test_a_replayed_dead_delivery_is_posted_again(w: World) -> None:
    w.events(["DOS-1", "DOS-2"])
    w.sender.answer(URL, SendResult(410))
    worker = w.worker(max_attempts=1)
    assert worker.drain().dead == 2

    assert w.queue.requeue_dead([1], now=w.clock.now) == [1]
    w.sender.answer(URL, OK)
    assert worker.drain().delivered == 1
    assert w.queue.requeue_dead(None, now=w.clock.now) == [2]
    assert worker.drain().delivered == 1
    assert ids(w.sender.posted) == [1, 2, 1, 2]
    assert w.queue.counts() == {"pending": 0, "delivered": 2, "dead": 0}


def test_one_dossiers_events_arrive_in_outbox_order_despite_retries(w: World) -> None:
    w.events(["DOS-1", "DOS-1", "DOS-2", None])
    w.sender.answer(URL, SendResult(503), OK)
    worker = w.worker()

    worker.drain()
    # Event 1 failed: event 2 (same dossier) waits; other dossiers and dossier-less events go on.
    assert ids(w.sender.posted) == [1, 3, 4]
    w.clock.advance(minutes=5)
    worker.drain()
    assert ids(w.sender.posted) == [1, 3, 4, 1, 2]


def test_subscriptions_filter_types_and_each_gets_its_own_delivery(w: World) -> None:
    w.events(["DOS-1"])
    w.events(["DOS-1"], type_=DEBIT_SETTLED)
    w.sender.answer(URL, OK)
    w.sender.answer(DEBITS_URL, OK)
    worker = w.worker(endpoints=[endpoint(), endpoint("debits", DEBITS_URL, [DEBIT_SETTLED])])

    assert worker.drain().delivered == 3
    assert ids(w.sender.to(URL)) == [1, 2]
    assert ids(w.sender.to(DEBITS_URL)) == [2]
    # The same event has the same webhook-id for every subscription (receivers deduplicate on it).
    assert w.sender.to(DEBITS_URL)[0].headers["webhook-id"] == "evt_2"
    w.events(["DOS-2"])
    assert worker.fan_out() == 2  # one new event read per subscription: cursors moved past the rest


def test_fan_out_reads_every_batch(w: World) -> None:
    w.events([f"DOS-{n}" for n in range(7)])
    assert w.worker(fan_out_batch=3).fan_out() == 7  # 3 + 3 + 1: loops while a batch is full
    assert len(w.queue.list_rows()) == 7


def test_an_attempt_that_outlives_its_lease_is_counted_lost_not_recorded(w: World) -> None:
    w.events(["DOS-1"])
    worker = w.worker(lease=timedelta(seconds=60))

    class Slow(ScriptedSender):
        def send(self, url: str, body: bytes, headers: Any) -> SendResult:
            w.clock.advance(seconds=61)  # another worker takes it over meanwhile
            w.queue.claim(["bo"], now=w.clock.now, lease=timedelta(seconds=60), limit=1, token="other")
            return OK

    worker.sender = Slow()
    stats = worker.drain()
    assert (stats.claimed, stats.delivered, stats.lost) == (1, 0, 1)
    (row,) = w.queue.list_rows()
    assert (row.status, row.attempts) == ("pending", 2)  # the other worker's claim stands


def test_logs_name_ids_and_hosts_never_payloads_paths_or_secrets(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    w.events(["DOS-1"])
    w.sender.answer(URL, SendResult(500), SendResult(None, "connect error to bo.example:443"))
    worker = w.worker(draw=lambda: 0.0, max_attempts=2)
    with caplog.at_level(logging.DEBUG, logger="gateway"):
        worker.drain()
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("gateway"))
    assert "delivery 1 event 1 to bo.example attempt 1: HTTP 500, retry" in text
    assert "attempt 2: connect error to bo.example:443, dead" in text
    for secret_or_personal in ("2850775123456", "/hooks", SECRET, SECRET.removeprefix("whsec_")):
        assert secret_or_personal not in text
    assert SECRET.removeprefix("whsec_") not in repr(endpoint())


# --- a subscription removed from the settings -------------------------------------------------

GRACE = timedelta(minutes=5)  # removal_grace of the 60 s lease the tests' workers hold


def test_the_grace_outlasts_a_live_workers_silence() -> None:
    assert removal_grace(timedelta(seconds=60)) == GRACE
    assert removal_grace(timedelta(minutes=10)) == timedelta(minutes=22)  # 2 x (a minute + a lease)


def test_a_removed_subscriptions_deliveries_are_dead_lettered_unsent_then_replayed(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    w.events(["DOS-1", "DOS-2"])
    w.sender.answer(URL, OK)
    w.sender.answer(GONE_URL, OK)
    gone = endpoint("gone", GONE_URL)
    w.worker(endpoints=[endpoint(), gone]).fan_out()  # queued for both, then `gone` leaves the settings
    worker = w.worker()  # serves `bo` only

    stats = worker.drain()
    assert (stats.delivered, stats.unsubscribed) == (2, 0)
    w.clock.advance(seconds=GRACE.total_seconds())
    assert worker.drain().unsubscribed == 0  # still within the grace: maybe another replica serves it
    assert w.queue.counts() == {"pending": 2, "delivered": 2, "dead": 0}

    w.clock.advance(minutes=1)  # a worker looks once a minute
    with caplog.at_level(logging.INFO, logger="gateway"):
        stats = worker.drain()

    assert stats.unsubscribed == 2
    assert w.sender.to(GONE_URL) == []  # nothing is sent to a URL no longer configured
    dead = w.queue.list_rows(status="dead")
    assert [(r.subscription, r.event_id, r.attempts) for r in dead] == [("gone", 1, 0), ("gone", 2, 0)]
    assert all(r.last_error and r.last_error.startswith(SUBSCRIPTION_REMOVED + ":") for r in dead)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "2 pending deliveries of subscription(s) no longer configured" in text
    assert "gone.example" not in text
    assert "s3cr3t" not in text
    w.clock.advance(hours=1)
    assert worker.drain().unsubscribed == 0  # dead letters stay dead, counted once

    # The operator puts the subscription back and replays what was set aside.
    back = w.worker(endpoints=[endpoint(), gone])
    assert w.queue.requeue_dead(None, now=w.clock.now, subscription="gone") == [3, 4]
    assert back.drain().delivered == 2
    assert ids(w.sender.to(GONE_URL)) == [1, 2]
    assert w.queue.counts() == {"pending": 0, "delivered": 4, "dead": 0}


def test_a_new_subscription_is_not_taken_for_a_removed_one_during_a_rolling_restart(w: World) -> None:
    w.events(["DOS-1"])
    w.sender.answer(URL, OK)
    w.sender.answer(GONE_URL, SendResult(503))  # the new subscription's receiver is down
    old = w.worker()  # a replica still on the old settings
    new = w.worker(
        endpoints=[endpoint(), endpoint("gone", GONE_URL)], max_attempts=20, base=timedelta(minutes=10)
    )

    for _ in range(40):  # forty minutes side by side
        new.drain()
        assert old.drain().unsubscribed == 0
        w.clock.advance(minutes=1)

    (row,) = w.queue.list_rows(subscription="gone")
    assert (row.status, row.last_error) == ("pending", "HTTP 503")
    assert len(w.sender.to(GONE_URL)) >= 3
