"""An in-memory webhook delivery queue (gateway.services.ports.DeliveryQueue) for the worker's unit
tests: the same semantics as gateway.store.deliveries.SqlDeliveries, which
tests/store/test_delivery_queue_contract.py checks on both (and on PostgreSQL).

It reads the outbox of a MemoryStore (gateway.store.memory), as the SQL queue reads the events table
of its store: one cursor per subscription, one delivery per (subscription, event), claims under a
lease fenced by a token, per-dossier order, dead letters and their replay, and the set-aside of a
subscription nobody serves any more.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway.services.ports import EventRow, SendResult
from gateway.services.records import ClaimedDelivery, SubscriptionFilter
from gateway.store.deliveries import DEAD, DELIVERED, PENDING, REMOVED_ERROR, STATUSES, DeliveryRow
from gateway.store.memory import MemoryStore


@dataclass
class _Cursor:
    last_event_id: int
    updated_at: datetime


class FakeDeliveryQueue:
    """Deliveries in a dict, by id; every method is atomic (the tests are single-threaded)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._rows: dict[int, DeliveryRow] = {}
        self._tokens: dict[int, str | None] = {}
        self._cursors: dict[str, _Cursor] = {}
        self._next_id = 1

    # --- the port ------------------------------------------------------------------------------

    def has_pending(self) -> bool:
        return any(r.status == PENDING for r in self._rows.values())

    def heartbeat(self, subscriptions: Collection[str], *, now: datetime) -> None:
        for key in subscriptions:
            if key in self._cursors:
                self._cursors[key].updated_at = now

    def fan_out(self, subscription: SubscriptionFilter, *, now: datetime, batch: int = 500) -> int:
        cursor = self._cursors.setdefault(subscription.key, _Cursor(0, now))
        with self._store.read() as uow:
            events = list(uow.events.read_after(cursor.last_event_id, batch))
        if not events:
            return 0
        taken = {(r.subscription, r.event_id) for r in self._rows.values()}
        for event in events:
            if subscription.wants(event.type) and (subscription.key, event.event_id) not in taken:
                self._add(subscription.key, event.event_id, event.dossier_id, now)
        cursor.last_event_id, cursor.updated_at = events[-1].event_id, now
        return len(events)

    def claim(
        self, subscriptions: Collection[str], *, now: datetime, lease: timedelta, limit: int, token: str
    ) -> list[ClaimedDelivery]:
        if not subscriptions or limit < 1:
            return []
        due = sorted(
            (
                r
                for r in self._rows.values()
                if r.status == PENDING
                and r.next_attempt_at <= now
                and self._free(r, now)
                and r.subscription in subscriptions
                and not self._earlier_pending(r)
            ),
            key=lambda r: (r.next_attempt_at, r.delivery_id),
        )[:limit]
        locked_until = now + lease
        claimed = []
        for row in due:
            taken = replace(row, locked_until=locked_until, attempts=row.attempts + 1, updated_at=now)
            self._rows[taken.delivery_id], self._tokens[taken.delivery_id] = taken, token
            claimed.append(taken)
        events = self._events({r.event_id for r in claimed})
        return [
            ClaimedDelivery(
                delivery_id=r.delivery_id,
                subscription=r.subscription,
                attempt=r.attempts,
                claim_token=token,
                locked_until=locked_until,
                event_id=r.event_id,
                event_type=events[r.event_id].type,
                dossier_id=events[r.event_id].dossier_id,
                payload_json=events[r.event_id].payload_json,
                event_created_at=events[r.event_id].created_at,
            )
            for r in sorted(claimed, key=lambda r: r.event_id)
        ]

    def record_delivered(self, claimed: ClaimedDelivery, *, now: datetime, status_code: int | None) -> bool:
        return self._record(
            claimed, now, status=DELIVERED, last_status_code=status_code, last_error=None, delivered_at=now
        )

    def record_failed(
        self,
        claimed: ClaimedDelivery,
        *,
        now: datetime,
        status_code: int | None,
        error: str,
        retry_at: datetime | None,
    ) -> bool:
        if retry_at is None:
            return self._record(
                claimed, now, status=DEAD, last_status_code=status_code, last_error=error[:512]
            )
        return self._record(
            claimed,
            now,
            status=PENDING,
            last_status_code=status_code,
            last_error=error[:512],
            next_attempt_at=retry_at,
        )

    def set_aside_unsubscribed(
        self, served: Collection[str], *, now: datetime, silent_since: datetime, batch: int = 500
    ) -> list[int]:
        alive = {key for key, c in self._cursors.items() if c.updated_at >= silent_since}
        ids = sorted(
            r.delivery_id
            for r in self._rows.values()
            if r.status == PENDING
            and self._free(r, now)
            and r.subscription not in alive
            and r.subscription not in served
        )
        for delivery_id in ids:
            self._release(delivery_id, now, status=DEAD, last_status_code=None, last_error=REMOVED_ERROR)
        return ids

    # --- operations (as gateway deliveries list / retry use them) ------------------------------

    def requeue_dead(
        self, delivery_ids: Sequence[int] | None, *, now: datetime, subscription: str | None = None
    ) -> list[int]:
        wanted = None if delivery_ids is None else set(delivery_ids)
        ids = sorted(
            r.delivery_id
            for r in self._rows.values()
            if r.status == DEAD
            and (wanted is None or r.delivery_id in wanted)
            and (subscription is None or r.subscription == subscription)
        )
        for delivery_id in ids:
            self._release(delivery_id, now, status=PENDING, attempts=0, next_attempt_at=now)
        return ids

    def list_rows(
        self, *, status: str | None = None, subscription: str | None = None, after: int = 0, limit: int = 100
    ) -> list[DeliveryRow]:
        rows = [
            r
            for _, r in sorted(self._rows.items())
            if r.delivery_id > after
            and (status is None or r.status == status)
            and (subscription is None or r.subscription == subscription)
        ]
        return rows[:limit]

    def get(self, delivery_id: int) -> DeliveryRow | None:
        return self._rows.get(delivery_id)

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self._rows.values()) for s in STATUSES}

    # --- inside --------------------------------------------------------------------------------

    def _add(self, subscription: str, event_id: int, dossier_id: str | None, now: datetime) -> None:
        row = DeliveryRow(
            delivery_id=self._next_id,
            subscription=subscription,
            event_id=event_id,
            dossier_id=dossier_id,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            locked_until=None,
            last_status_code=None,
            last_error=None,
            created_at=now,
            updated_at=now,
            delivered_at=None,
        )
        self._rows[row.delivery_id], self._tokens[row.delivery_id] = row, None
        self._next_id += 1

    @staticmethod
    def _free(row: DeliveryRow, now: datetime) -> bool:
        return row.locked_until is None or row.locked_until <= now

    def _earlier_pending(self, row: DeliveryRow) -> bool:
        # As SQL's `earlier.dossier_id = d.dossier_id`: an event without a dossier never waits.
        return row.dossier_id is not None and any(
            other.subscription == row.subscription
            and other.dossier_id == row.dossier_id
            and other.event_id < row.event_id
            and other.status == PENDING
            for other in self._rows.values()
        )

    def _events(self, event_ids: set[int]) -> dict[int, EventRow]:
        with self._store.read() as uow:
            first = min(event_ids, default=1)
            found = uow.events.read_after(first - 1, uow.events.last_id())
        return {e.event_id: e for e in found if e.event_id in event_ids}

    def _record(self, claimed: ClaimedDelivery, now: datetime, **values: object) -> bool:
        row = self._rows.get(claimed.delivery_id)
        if row is None or row.status != PENDING or self._tokens[row.delivery_id] != claimed.claim_token:
            return False
        self._release(row.delivery_id, now, **values)
        return True

    def _release(self, delivery_id: int, now: datetime, **values: object) -> None:
        """Set `values` and free the delivery of any claim."""
        row = self._rows[delivery_id]
        self._rows[delivery_id] = replace(row, locked_until=None, updated_at=now, **values)  # type: ignore[arg-type]
        self._tokens[delivery_id] = None


@dataclass(frozen=True, slots=True)
class Posted:
    """One attempt as a receiver would have seen it."""

    url: str
    body: bytes
    headers: dict[str, str]


class ScriptedSender:
    """A webhook sender (gateway.services.ports.WebhookSender) that records every attempt and
    answers from a script, per URL: each attempt takes the next answer, the last one repeats."""

    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self._answers: dict[str, list[SendResult]] = {}
        self.closed = False

    def answer(self, url: str, *results: SendResult) -> None:
        self._answers[url] = list(results)

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        self.posted.append(Posted(url, body, dict(headers)))
        script = self._answers.get(url) or [SendResult(None, "connect error")]
        return script.pop(0) if len(script) > 1 else script[0]

    def close(self) -> None:
        self.closed = True

    def to(self, url: str) -> list[Posted]:
        return [p for p in self.posted if p.url == url]
