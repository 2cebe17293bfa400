"""Shared doubles for the delivery tests: a settable clock, a signer, events, a worker on a store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from gateway.delivery.sender import HttpSender, Sender
from gateway.delivery.worker import DeliveryWorker, DetachedSigner, Endpoint, EvidenceArchive, RetryPolicy
from gateway.services.events import DOSSIER_ACCEPTED, publish
from gateway.signing.webhooks import decode_secret
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import SqlStore
from tests.fakes import FakeArchive

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


class FakeSigner:
    """Stands for the CMS signer: a deterministic 'signature' the archive keeps beside the body."""

    def sign_detached(self, data: bytes) -> bytes:
        return b"SIG:" + hashlib.sha256(data).digest()


def endpoint(key: str = "bo", url: str = URL, types: Sequence[str] = ()) -> Endpoint:
    return Endpoint(key, url, decode_secret(SECRET), frozenset(types))


def add_events(
    store: SqlStore,
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


def make_worker(
    store: SqlStore,
    *,
    clock: Callable[[], datetime],
    archive: EvidenceArchive | None = None,
    signer: DetachedSigner | None = None,
    endpoints: Sequence[Endpoint] | None = None,
    sender: Sender | None = None,
    max_attempts: int = 3,
    base: timedelta = timedelta(seconds=10),
    lease: timedelta = timedelta(seconds=60),
    draw: Callable[[], float] = lambda: 0.5,
) -> DeliveryWorker:
    return DeliveryWorker(
        SqlDeliveries(store),
        [endpoint()] if endpoints is None else endpoints,
        sender if sender is not None else HttpSender(2.0),
        archive=archive if archive is not None else FakeArchive(),
        signer=signer if signer is not None else FakeSigner(),
        retry=RetryPolicy(max_attempts=max_attempts, base=base, cap=timedelta(hours=1)),
        lease=lease,
        clock=clock,
        draw=draw,
    )
