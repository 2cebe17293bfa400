"""Shared doubles for the delivery tests: a settable clock, events, a worker on a queue or a store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.infra.webhook_sender import HttpSender
from gateway.services.delivery import DeliveryWorker, Endpoint, RetryPolicy
from gateway.services.events import DOSSIER_ACCEPTED, publish
from gateway.services.ports import Archive, DeliveryQueue, Signer, Store, WebhookSender
from gateway.signing.webhooks import decode_secret
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import SqlStore
from tests.fakes import FakeArchive, FakeSigner

# The Standard Webhooks specification's example secret.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL = "https://bo.example/hooks"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def endpoint(key: str = "bo", url: str = URL, types: Sequence[str] = ()) -> Endpoint:
    return Endpoint(key, url, decode_secret(SECRET), frozenset(types))


def add_events(
    store: Store,
    dossiers: Sequence[str | None],
    *,
    type_: str = DOSSIER_ACCEPTED,
    at: datetime = T0,
) -> None:
    """One committed event per dossier id given, in that order (one transaction each)."""
    for n, dossier_id in enumerate(dossiers):
        with store.transaction() as uow:
            publish(
                uow.events, type_, {"dossier": {"n": n, "nir": "2850775123456"}}, at=at, dossier_id=dossier_id
            )


def make_worker(store: SqlStore, **options: Any) -> DeliveryWorker:
    """A worker on the deliveries table of `store` (options: those of `worker_on`)."""
    return worker_on(SqlDeliveries(store), **options)


def worker_on(
    queue: DeliveryQueue,
    *,
    clock: Callable[[], datetime],
    archive: Archive | None = None,
    signer: Signer | None = None,
    endpoints: Sequence[Endpoint] | None = None,
    sender: WebhookSender | None = None,
    max_attempts: int = 3,
    base: timedelta = timedelta(seconds=10),
    lease: timedelta = timedelta(seconds=60),
    draw: Callable[[], float] = lambda: 0.5,
    fan_out_batch: int = 500,
) -> DeliveryWorker:
    return DeliveryWorker(
        queue,
        [endpoint()] if endpoints is None else endpoints,
        sender if sender is not None else HttpSender(2.0),
        archive=archive if archive is not None else FakeArchive(),
        signer=signer if signer is not None else FakeSigner(),
        retry=RetryPolicy(max_attempts=max_attempts, base=base, cap=timedelta(hours=1)),
        lease=lease,
        clock=clock,
        draw=draw,
        fan_out_batch=fan_out_batch,
    )
