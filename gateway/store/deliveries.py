"""Webhook deliveries in SQL: fan-out from the outbox, safe claims by several workers, outcomes.

One row per (subscription, event), `pending` until it is `delivered` or `dead` (dead-lettered
after the last allowed attempt; `requeue` makes it pending again).

Several workers (replicas) share the table. A worker *claims* due rows in a short transaction,
then delivers them outside any transaction, then records the outcome:

- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` lets concurrent claimers pass over each other's
  candidate rows instead of waiting or taking the same ones, and READ COMMITTED re-checks the
  conditions on the newest row version, so a row claimed by a transaction that committed meanwhile
  is not taken again. SQLite: write transactions are serialised (BEGIN IMMEDIATE) anyway.
- The claim writes a lease (`locked_until`) and a fresh `claim_token`: a claimed row is nobody
  else's until the lease is over, so a crashed worker's rows come back by themselves. The worker
  bounds every attempt below the lease; the outcome is recorded only if the token still matches,
  so a worker that overran its lease cannot overwrite the row another worker took over.
- Per dossier, a delivery is claimable only when no earlier delivery of the same subscription and
  dossier is still pending: a back-office receives one dossier's events in outbox order (a dead one
  stops blocking; replaying it then delivers it late).

The fan-out reads the outbox after a per-subscription cursor (ids follow commit order, see
gateway.store.sql) and inserts the deliveries and the new cursor in one transaction; the cursor row
is locked meanwhile so that two workers do not read the same events at once.

A subscription removed from the settings: its pending deliveries are nobody's to claim, and must
neither wait forever nor go to a URL no longer configured. Every worker stamps the cursors of the
subscriptions it serves (`heartbeat`, `webhook_cursors.updated_at`) about once a minute; a worker
that finds pending deliveries of a subscription it does not serve, whose cursor no worker has
stamped for a while (the grace covers a rolling restart that adds a subscription: the replicas
still on the old settings must not take it for removed), dead-letters them without an attempt,
with `last_error` starting `subscription-removed` (`set_aside_unsubscribed`). They are listed
with the other dead ones; put the subscription back (same id) and `requeue_dead` delivers them.
Rows are taken FOR UPDATE SKIP LOCKED and only when no lease holds them, and clearing the claim
token fences a late worker, exactly as for claims.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection, func, select, update
from sqlalchemy.engine import Row

from gateway.services.records import ClaimedDelivery, SubscriptionFilter
from gateway.store import schema
from gateway.store.engine import BEGIN_MODE_OPTION
from gateway.store.sql import SqlStore, _insert_ignoring_conflict

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
DEAD: Final = "dead"
STATUSES: Final = (PENDING, DELIVERED, DEAD)
# last_error of a delivery dead-lettered because its subscription is no longer configured.
SUBSCRIPTION_REMOVED: Final = "subscription-removed"
REMOVED_ERROR: Final = (
    f"{SUBSCRIPTION_REMOVED}: no worker serves this subscription (GATEWAY_WEBHOOKS); not sent."
    " Add it back with the same id, then `gateway deliveries retry`"
)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A delivery as stored (no payload: listing deliveries never shows personal data)."""

    delivery_id: int
    subscription: str
    event_id: int
    dossier_id: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    locked_until: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


def _row(row: Row[tuple[object, ...]]) -> DeliveryRow:
    m = row._mapping
    return DeliveryRow(**{name: m[name] for name in DeliveryRow.__slots__})


def _release(conn: Connection, ids: list[int], current: str, *, now: datetime, **values: object) -> None:
    """Set `values` on the deliveries `ids` still in status `current`, and free them of any claim."""
    d = schema.webhook_deliveries
    conn.execute(
        update(d)
        .where(d.c.delivery_id.in_(ids), d.c.status == current)
        .values(locked_until=None, claim_token=None, updated_at=now, **values)
    )


class SqlDeliveries:
    """The deliveries table on a SqlStore's engine; every method is its own transaction."""

    def __init__(self, store: SqlStore) -> None:
        self._engine = store.engine

    def _write(self) -> Connection:
        conn = self._engine.connect()
        conn.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"})
        return conn

    @property
    def _postgres(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    # --- fan-out -------------------------------------------------------------------------------

    def fan_out(self, subscription: SubscriptionFilter, *, now: datetime, batch: int = 500) -> int:
        """Queue deliveries for the outbox events after the subscription's cursor (up to `batch`
        events read); returns how many events were read, so callers loop while it equals `batch`."""
        d, c, e = schema.webhook_deliveries, schema.webhook_cursors, schema.events
        with self._write() as conn, conn.begin():
            conn.execute(
                _insert_ignoring_conflict(conn, c, ["subscription"]).values(
                    subscription=subscription.key, last_event_id=0, updated_at=now
                )
            )
            cursor_query = select(c.c.last_event_id).where(c.c.subscription == subscription.key)
            if self._postgres:
                cursor_query = cursor_query.with_for_update()
            after = int(conn.execute(cursor_query).scalar_one())
            events = conn.execute(
                select(e.c.event_id, e.c.type, e.c.dossier_id)
                .where(e.c.event_id > after)
                .order_by(e.c.event_id)
                .limit(batch)
            ).all()
            if not events:
                return 0
            rows = [
                {
                    "subscription": subscription.key,
                    "event_id": ev.event_id,
                    "dossier_id": ev.dossier_id,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for ev in events
                if subscription.wants(ev.type)
            ]
            if rows:
                conn.execute(_insert_ignoring_conflict(conn, d, ["subscription", "event_id"]), rows)
            conn.execute(
                update(c)
                .where(c.c.subscription == subscription.key)
                .values(last_event_id=events[-1].event_id, updated_at=now)
            )
            return len(events)

    def heartbeat(self, subscriptions: Collection[str], *, now: datetime) -> None:
        """Stamp the cursors of the subscriptions this worker serves: they are not removed ones.
        One short transaction per cursor (a fan-out may hold it a moment): no lock waits on others."""
        c = schema.webhook_cursors
        for key in sorted(subscriptions):
            with self._write() as conn, conn.begin():
                conn.execute(update(c).where(c.c.subscription == key).values(updated_at=now))

    # --- claims and outcomes -------------------------------------------------------------------

    def claim(
        self,
        subscriptions: Collection[str],
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        token: str,
    ) -> list[ClaimedDelivery]:
        """Take up to `limit` due deliveries of these subscriptions for `lease` (see the module)."""
        if not subscriptions or limit < 1:
            return []
        d, e = schema.webhook_deliveries, schema.events
        earlier = d.alias("earlier")
        earlier_pending = (
            select(earlier.c.delivery_id)
            .where(
                earlier.c.subscription == d.c.subscription,
                earlier.c.dossier_id == d.c.dossier_id,
                earlier.c.event_id < d.c.event_id,
                earlier.c.status == PENDING,
            )
            .exists()
        )
        due = (
            select(d.c.delivery_id)
            .where(
                d.c.status == PENDING,
                d.c.next_attempt_at <= now,
                (d.c.locked_until.is_(None)) | (d.c.locked_until <= now),
                d.c.subscription.in_(sorted(subscriptions)),
                ~earlier_pending,
            )
            .order_by(d.c.next_attempt_at, d.c.delivery_id)
            .limit(limit)
        )
        if self._postgres:
            due = due.with_for_update(skip_locked=True, of=d)
        locked_until = now + lease
        with self._write() as conn, conn.begin():
            ids = list(conn.execute(due).scalars())
            if not ids:
                return []
            conn.execute(
                update(d)
                .where(d.c.delivery_id.in_(ids))
                .values(
                    locked_until=locked_until,
                    claim_token=token,
                    attempts=d.c.attempts + 1,
                    updated_at=now,
                )
            )
            rows = conn.execute(
                select(
                    d.c.delivery_id,
                    d.c.subscription,
                    d.c.attempts,
                    e.c.event_id,
                    e.c.type,
                    e.c.dossier_id,
                    e.c.payload_json,
                    e.c.created_at,
                )
                .join(e, e.c.event_id == d.c.event_id)
                .where(d.c.delivery_id.in_(ids))
                .order_by(e.c.event_id)
            ).all()
        return [
            ClaimedDelivery(
                delivery_id=r.delivery_id,
                subscription=r.subscription,
                attempt=r.attempts,
                claim_token=token,
                locked_until=locked_until,
                event_id=r.event_id,
                event_type=r.type,
                dossier_id=r.dossier_id,
                payload_json=r.payload_json,
                event_created_at=r.created_at,
            )
            for r in rows
        ]

    def record_delivered(self, claimed: ClaimedDelivery, *, now: datetime, status_code: int | None) -> bool:
        """Mark delivered; False when the claim was lost (lease over and taken by another worker)."""
        return self._record(
            claimed,
            status=DELIVERED,
            last_status_code=status_code,
            last_error=None,
            next_attempt_at=None,
            delivered_at=now,
            now=now,
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
        """Schedule a retry at `retry_at`, or dead-letter when it is None; False if the claim was lost."""
        return self._record(
            claimed,
            status=PENDING if retry_at is not None else DEAD,
            last_status_code=status_code,
            last_error=error[:512],
            next_attempt_at=retry_at,
            delivered_at=None,
            now=now,
        )

    def _record(
        self,
        claimed: ClaimedDelivery,
        *,
        status: str,
        last_status_code: int | None,
        last_error: str | None,
        next_attempt_at: datetime | None,
        delivered_at: datetime | None,
        now: datetime,
    ) -> bool:
        d = schema.webhook_deliveries
        values: dict[str, object] = {
            "status": status,
            "last_status_code": last_status_code,
            "last_error": last_error,
            "locked_until": None,
            "claim_token": None,
            "updated_at": now,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if delivered_at is not None:
            values["delivered_at"] = delivered_at
        with self._write() as conn, conn.begin():
            result = conn.execute(
                update(d)
                .where(
                    d.c.delivery_id == claimed.delivery_id,
                    d.c.claim_token == claimed.claim_token,
                    d.c.status == PENDING,
                )
                .values(**values)
            )
            return result.rowcount == 1

    def set_aside_unsubscribed(
        self,
        served: Collection[str],
        *,
        now: datetime,
        silent_since: datetime,
        batch: int = 500,
    ) -> list[int]:
        """Dead-letter, without any attempt, the pending deliveries of subscriptions that are not
        in `served` and whose cursor nobody stamped since `silent_since` (or that have none); a
        delivery under a lease is left to its worker. Returns the ids set aside (see the module)."""
        d, c = schema.webhook_deliveries, schema.webhook_cursors
        alive = select(c.c.subscription).where(c.c.updated_at >= silent_since)
        due = select(d.c.delivery_id).where(
            d.c.status == PENDING,
            (d.c.locked_until.is_(None)) | (d.c.locked_until <= now),
            d.c.subscription.not_in(alive),
        )
        if served:
            due = due.where(d.c.subscription.not_in(sorted(served)))
        due = due.order_by(d.c.delivery_id).limit(batch)
        if self._postgres:
            due = due.with_for_update(skip_locked=True, of=d)
        set_aside: list[int] = []
        while True:
            with self._write() as conn, conn.begin():
                ids = list(conn.execute(due).scalars())
                if ids:
                    unsent = {"status": DEAD, "last_status_code": None, "last_error": REMOVED_ERROR}
                    _release(conn, ids, PENDING, now=now, **unsent)
            set_aside += ids
            if len(ids) < batch:
                return set_aside

    def has_pending(self) -> bool:
        """Whether any delivery is pending (a worker with no subscription still has work then)."""
        d = schema.webhook_deliveries
        with self._engine.connect() as conn, conn.begin():
            found = conn.execute(select(d.c.delivery_id).where(d.c.status == PENDING).limit(1)).first()
        return found is not None

    # --- operations ----------------------------------------------------------------------------

    def requeue_dead(
        self, delivery_ids: Sequence[int] | None, *, now: datetime, subscription: str | None = None
    ) -> list[int]:
        """Make dead deliveries pending again with a fresh set of attempts; `None`: every dead one
        (of `subscription` when given). Returns the ids re-queued (ids that are not dead, or not of
        that subscription, are left alone)."""
        d = schema.webhook_deliveries
        condition = d.c.status == DEAD
        if delivery_ids is not None:
            if not delivery_ids:
                return []
            condition = condition & d.c.delivery_id.in_(list(delivery_ids))
        if subscription is not None:
            condition = condition & (d.c.subscription == subscription)
        with self._write() as conn, conn.begin():
            ids = sorted(conn.execute(select(d.c.delivery_id).where(condition)).scalars())
            if ids:
                _release(conn, ids, DEAD, now=now, status=PENDING, attempts=0, next_attempt_at=now)
        return ids

    def list_rows(
        self,
        *,
        status: str | None = None,
        subscription: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[DeliveryRow]:
        """Deliveries by id, optionally of one status or subscription."""
        d = schema.webhook_deliveries
        query = select(d).where(d.c.delivery_id > after).order_by(d.c.delivery_id).limit(limit)
        if status is not None:
            query = query.where(d.c.status == status)
        if subscription is not None:
            query = query.where(d.c.subscription == subscription)
        with self._engine.connect() as conn, conn.begin():
            return [_row(r) for r in conn.execute(query)]

    def subscriptions_of(self, delivery_ids: Sequence[int]) -> set[str]:
        """The subscriptions these deliveries belong to."""
        if not delivery_ids:
            return set()
        d = schema.webhook_deliveries
        query = select(d.c.subscription).where(d.c.delivery_id.in_(list(delivery_ids))).distinct()
        with self._engine.connect() as conn, conn.begin():
            return set(conn.execute(query).scalars())

    def get(self, delivery_id: int) -> DeliveryRow | None:
        d = schema.webhook_deliveries
        with self._engine.connect() as conn, conn.begin():
            row = conn.execute(select(d).where(d.c.delivery_id == delivery_id)).first()
        return None if row is None else _row(row)

    def counts(self) -> dict[str, int]:
        """How many deliveries are in each status (for the command line and metrics)."""
        d = schema.webhook_deliveries
        with self._engine.connect() as conn, conn.begin():
            found = {
                str(status): int(n)
                for status, n in conn.execute(select(d.c.status, func.count()).group_by(d.c.status))
            }
        return {status: found.get(status, 0) for status in STATUSES}
