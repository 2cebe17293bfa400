"""The delivery worker: fans outbox events out to webhook subscriptions and posts the due ones.

Each round: (1) for each subscription, queue a delivery per new outbox event it wants, after its
cursor; (2) claim one due delivery at a time under a lease (gateway.store.deliveries explains why
several replicas never post the same delivery at once), sign it per Standard Webhooks, post it,
archive the attempt, record the outcome. Failures are retried with exponential backoff and full
jitter, and dead-lettered after the last allowed attempt. A worker that dies mid-delivery loses
nothing: its claim expires with the lease and another round posts the delivery again (at least
once; receivers deduplicate on `webhook-id`).

A subscription removed from GATEWAY_WEBHOOKS: about once a minute the worker stamps the
subscriptions it serves and dead-letters, without posting them, the pending deliveries of a
subscription no worker has stamped for `removal_grace` (reason `subscription-removed`; see
gateway.store.deliveries). `gateway deliveries list --status dead` shows them; with the
subscription back (same id), `gateway deliveries retry` delivers them.

Logs carry ids, hosts and statuses only: event payloads hold personal data, URLs may hold tokens.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from gateway.services.feed import event_document, utc_z
from gateway.services.ports import Archive, DeliveryQueue, EventRow, SendResult, Signer, WebhookSender
from gateway.services.records import ClaimedDelivery, SubscriptionFilter
from gateway.signing.webhooks import sign

log = logging.getLogger(__name__)

ARCHIVE_KIND = "webhook-delivery"
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _token() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A subscription ready to post to; the HMAC key never appears in a repr."""

    key: str
    url: str
    secret: bytes = field(repr=False)
    types: frozenset[str] = frozenset()

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def filter(self) -> SubscriptionFilter:
        return SubscriptionFilter(self.key, self.types)


GONE = 410
# How often a worker stamps the subscriptions it serves and looks for removed ones.
HEARTBEAT = timedelta(minutes=1)
MIN_REMOVAL_GRACE = timedelta(minutes=5)


def removal_grace(lease: timedelta) -> timedelta:
    """How long nobody must have served a subscription before its deliveries are set aside: well
    over the longest gap between two stamps of a live worker (a minute, plus an attempt that may
    last a lease), so that a replica still on the old settings during a rolling restart that adds
    a subscription never takes it for a removed one."""
    return max(MIN_REMOVAL_GRACE, 2 * (HEARTBEAT + lease))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: retry n waits uniform(0, min(cap, base * 2**(n-1)))."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempt: int, draw: float) -> timedelta:
        """The wait after failed attempt `attempt` (1-based), for a uniform `draw` in [0, 1)."""
        ceiling = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** min(attempt - 1, 62))
        return timedelta(seconds=draw * ceiling)

    def next_attempt(self, attempt: int, now: datetime, draw: float) -> datetime | None:
        """When to try again after failed attempt `attempt`; None: that was the last one (dead)."""
        if attempt >= self.max_attempts:
            return None
        return now + self.delay(attempt, draw)


@dataclass
class RoundStats:
    """What one round did (for logs, `gateway deliver --once` and tests)."""

    queued_events: int = 0
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0  # outcome not recorded: the lease ran out and another worker took it over
    unsubscribed: int = 0  # dead-lettered unsent: their subscription is no longer configured

    @property
    def idle(self) -> bool:
        return self.queued_events == 0 and self.claimed == 0

    def add(self, other: RoundStats) -> None:
        for name in ("queued_events", "claimed", "delivered", "retried", "dead", "lost", "unsubscribed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def message_id(event_id: int) -> str:
    """The `webhook-id`: one per event, the same on every retry and for every subscription."""
    return f"evt_{event_id}"


def webhook_body(claimed: ClaimedDelivery) -> bytes:
    """The POST body: the feed's event document plus the Standard Webhooks `timestamp`."""
    event = EventRow(
        claimed.event_id,
        claimed.event_type,
        claimed.dossier_id,
        claimed.payload_json,
        claimed.event_created_at,
    )
    document = event_document(event)
    document["timestamp"] = utc_z(claimed.event_created_at)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class DeliveryWorker:
    """Delivers outbox events to the configured endpoints (see the module docstring)."""

    def __init__(
        self,
        deliveries: DeliveryQueue,
        endpoints: Iterable[Endpoint],
        sender: WebhookSender,
        *,
        archive: Archive,
        signer: Signer,
        retry: RetryPolicy,
        lease: timedelta,
        batch_size: int = 20,
        fan_out_batch: int = 500,
        clock: Clock = _utcnow,
        draw: Callable[[], float] = random.random,
        new_token: Callable[[], str] = _token,
        grace: timedelta | None = None,
    ) -> None:
        self.deliveries = deliveries
        self.endpoints: Mapping[str, Endpoint] = {e.key: e for e in endpoints}
        self.sender = sender
        self._archive = archive
        self._signer = signer
        self.retry = retry
        self.lease = lease
        self.batch_size = batch_size
        self._fan_out_batch = fan_out_batch
        self._clock = clock
        self._draw = draw
        self._new_token = new_token
        self.removal_grace = removal_grace(lease) if grace is None else grace
        self._stamped_at: datetime | None = None
        self._swept_at: datetime | None = None

    # --- one round ---------------------------------------------------------------------------

    def _due(self, last: datetime | None, now: datetime) -> bool:
        return last is None or now - last >= HEARTBEAT or now < last

    def heartbeat(self) -> None:
        """Stamp the subscriptions this worker serves (at most once per HEARTBEAT): alive."""
        now = self._clock()
        if self.endpoints and self._due(self._stamped_at, now):
            self.deliveries.heartbeat(self.endpoints.keys(), now=now)
            self._stamped_at = now

    def set_aside_removed(self) -> int:
        """Dead-letter, unsent, the pending deliveries of subscriptions nobody serves any more (at
        most once per HEARTBEAT); returns how many."""
        now = self._clock()
        if not self._due(self._swept_at, now):
            return 0
        self._swept_at = now
        ids = self.deliveries.set_aside_unsubscribed(
            self.endpoints.keys(), now=now, silent_since=now - self.removal_grace
        )
        if ids:
            # Ids only: a subscription's id is its URL unless given one, and URLs may hold tokens.
            shown = ", ".join(map(str, ids[:20])) + (", ..." if len(ids) > 20 else "")
            log.warning(
                "%d pending deliveries of subscription(s) no longer configured dead-lettered unsent"
                " (subscription-removed): %s",
                len(ids),
                shown,
            )
        return len(ids)

    def fan_out(self) -> int:
        """Queue deliveries for every new outbox event; returns how many events were read."""
        total = 0
        for endpoint in self.endpoints.values():
            while True:
                read = self.deliveries.fan_out(endpoint.filter, now=self._clock(), batch=self._fan_out_batch)
                total += read
                if read < self._fan_out_batch:
                    break
        return total

    def deliver_due(self) -> RoundStats:
        """Claim and post up to `batch_size` due deliveries, one claim at a time.

        One at a time, so that each attempt starts with a whole lease ahead of it, however long
        the previous ones took.
        """
        stats = RoundStats()
        for _ in range(self.batch_size):
            self.heartbeat()  # an attempt may last a lease: stay stamped between them
            claimed = self.deliveries.claim(
                self.endpoints.keys(),
                now=self._clock(),
                lease=self.lease,
                limit=1,
                token=self._new_token(),
            )
            if not claimed:
                break
            for item in claimed:
                stats.claimed += 1
                self._deliver(item, stats)
        return stats

    def run_once(self) -> RoundStats:
        stats = RoundStats(queued_events=self.fan_out())
        self.heartbeat()
        stats.unsubscribed = self.set_aside_removed()
        stats.add(self.deliver_due())
        return stats

    def drain(self) -> RoundStats:
        """Rounds until nothing is left to do now (`gateway deliver --once`)."""
        total = RoundStats()
        while True:
            stats = self.run_once()
            total.add(stats)
            if stats.idle:
                return total

    def run(self, stop: threading.Event, *, poll_seconds: float = 1.0) -> None:
        """Rounds until `stop` is set, waiting `poll_seconds` whenever there was nothing to do."""
        log.info("delivery worker started for %d subscription(s)", len(self.endpoints))
        while not stop.is_set():
            try:
                stats = self.run_once()
            except Exception as exc:
                # The type only: database errors can quote statement parameters.
                log.error("delivery round failed (%s); retrying", type(exc).__name__)
                stop.wait(poll_seconds)
                continue
            if stats.idle:
                stop.wait(poll_seconds)
        log.info("delivery worker stopped")

    # --- one attempt -------------------------------------------------------------------------

    def _deliver(self, claimed: ClaimedDelivery, stats: RoundStats) -> None:
        endpoint = self.endpoints[claimed.subscription]
        body = webhook_body(claimed)
        msg_id = message_id(claimed.event_id)
        stamp = int(self._clock().timestamp())
        headers = {
            "content-type": "application/json",
            "user-agent": "ifpa-gateway-webhooks/1",
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(endpoint.secret, msg_id, stamp, body),
        }
        result = self.sender.send(endpoint.url, body, headers)
        finished = self._clock()
        self._archive_attempt(endpoint, claimed, body=body, msg_id=msg_id, stamp=stamp, result=result)
        if result.ok:
            outcome = "delivered"
            recorded = self.deliveries.record_delivered(claimed, now=finished, status_code=result.status_code)
            stats.delivered += recorded
        else:
            retry_at = self.retry.next_attempt(claimed.attempt, finished, self._draw())
            if result.status_code == GONE:
                retry_at = None  # Standard Webhooks: 410 means the endpoint is gone; do not insist
            elif retry_at is not None and result.retry_after is not None:
                retry_at = max(retry_at, finished + result.retry_after)  # never sooner than asked
            outcome = "retry" if retry_at is not None else "dead"
            recorded = self.deliveries.record_failed(
                claimed,
                now=finished,
                status_code=result.status_code,
                error=result.describe(),
                retry_at=retry_at,
            )
            stats.retried += recorded and retry_at is not None
            stats.dead += recorded and retry_at is None
        if not recorded:
            stats.lost += 1
            outcome = "claim lost (lease over), not recorded"
        log.info(
            "delivery %d event %d to %s attempt %d: %s, %s",
            claimed.delivery_id,
            claimed.event_id,
            endpoint.host,
            claimed.attempt,
            result.describe(),
            outcome,
        )

    def _archive_attempt(
        self,
        endpoint: Endpoint,
        claimed: ClaimedDelivery,
        *,
        body: bytes,
        msg_id: str,
        stamp: int,
        result: SendResult,
    ) -> None:
        # Evidence of what was sent where and what came back; a failure here propagates, the
        # outcome is then not recorded and the delivery is posted again after its lease.
        self._archive.append(
            ARCHIVE_KIND,
            body,
            signature=self._signer.sign_detached(body),
            metadata={
                "host": endpoint.host,
                "event_id": str(claimed.event_id),
                "delivery_id": str(claimed.delivery_id),
                "webhook_id": msg_id,
                "webhook_timestamp": str(stamp),
                "attempt": str(claimed.attempt),
                "status_code": "" if result.status_code is None else str(result.status_code),
                "outcome": "delivered" if result.ok else result.describe(),
            },
        )
