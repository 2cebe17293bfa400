"""Builds the delivery worker from Settings, and runs it in a background thread for `gateway serve`."""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from datetime import timedelta

from gateway.config import Settings
from gateway.delivery.sender import HttpSender, Sender
from gateway.delivery.worker import DeliveryWorker, DetachedSigner, Endpoint, EvidenceArchive, RetryPolicy
from gateway.errors import Code, ConfigurationError
from gateway.services.events import EVENT_TYPES
from gateway.signing.webhooks import SECRET_PREFIX
from gateway.store.deliveries import SqlDeliveries
from gateway.store.sql import SqlStore

log = logging.getLogger(__name__)

# An attempt is cut at the timeout; the lease must outlast it with as much again for archiving
# and recording the outcome, so that no other worker takes the delivery while it is in flight.
LEASE_OVER_TIMEOUT = 2.0
_MAX_KEY = 256  # webhook_deliveries.subscription


def _refuse(message: str, field: str) -> ConfigurationError:
    return ConfigurationError(message, code=Code.CONFIGURATION, field=field)


def endpoints_from_settings(settings: Settings) -> list[Endpoint]:
    """The subscriptions of GATEWAY_WEBHOOKS, checked; errors never quote a secret."""
    endpoints: list[Endpoint] = []
    seen: set[str] = set()
    for i, sub in enumerate(settings.webhooks):
        where = f"webhooks[{i}]"
        if not sub.url.startswith(("https://", "http://")):
            raise _refuse("a webhook URL starts with https:// (http:// for local tests)", f"{where}.url")
        raw = sub.secret.get_secret_value()
        if not raw.startswith(SECRET_PREFIX):
            raise _refuse("a webhook secret starts with whsec_", f"{where}.secret")
        try:
            key = base64.b64decode(raw.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            raise _refuse("a webhook secret is whsec_ followed by base64", f"{where}.secret") from None
        if not 24 <= len(key) <= 64:  # Standard Webhooks: 24 to 64 bytes
            raise _refuse("a webhook secret holds 24 to 64 bytes (32 suggested)", f"{where}.secret")
        unknown = sorted(set(sub.types) - EVENT_TYPES)
        if unknown:
            raise _refuse(f"unknown event types {unknown}", f"{where}.types")
        if len(sub.key) > _MAX_KEY:
            raise _refuse(f"subscription id longer than {_MAX_KEY}: give it a short `id`", f"{where}.id")
        if sub.key in seen:
            raise _refuse("two subscriptions with the same id (or URL): give each an `id`", f"{where}.id")
        seen.add(sub.key)
        endpoints.append(Endpoint(sub.key, sub.url, key, frozenset(sub.types)))
    return endpoints


def worker_from_settings(
    settings: Settings,
    *,
    store: SqlStore,
    archive: EvidenceArchive,
    signer: DetachedSigner,
    sender: Sender | None = None,
) -> DeliveryWorker:
    if settings.delivery_lease_seconds < LEASE_OVER_TIMEOUT * settings.webhook_timeout_seconds:
        raise _refuse(
            f"delivery_lease_seconds must be at least {LEASE_OVER_TIMEOUT:g} x webhook_timeout_seconds",
            "delivery_lease_seconds",
        )
    return DeliveryWorker(
        SqlDeliveries(store),
        endpoints_from_settings(settings),
        sender if sender is not None else HttpSender(settings.webhook_timeout_seconds),
        archive=archive,
        signer=signer,
        retry=RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            base=timedelta(seconds=settings.webhook_backoff_base_seconds),
            cap=timedelta(seconds=settings.webhook_backoff_cap_seconds),
        ),
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        batch_size=settings.delivery_batch_size,
    )


class BackgroundDelivery:
    """The worker in a daemon thread, for `gateway serve`: `start()`, then `stop()` at shutdown."""

    def __init__(self, worker: DeliveryWorker, *, poll_seconds: float) -> None:
        self.worker = worker
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gateway-delivery", daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run(self._stop, poll_seconds=self._poll)
        finally:
            self.worker.sender.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("delivery worker still busy after %.0f s; its lease will expire", timeout)


def background_from_settings(
    settings: Settings,
    *,
    store: SqlStore,
    archive: EvidenceArchive,
    signer: DetachedSigner,
) -> BackgroundDelivery | None:
    """The background worker `gateway serve` starts; None when disabled, or when nothing is
    subscribed and no delivery is pending (with none subscribed, the worker still dead-letters the
    pending deliveries of the subscriptions removed: `subscription-removed`)."""
    if not settings.deliver_in_serve:
        return None
    if not settings.webhooks and not SqlDeliveries(store).has_pending():
        return None
    worker = worker_from_settings(settings, store=store, archive=archive, signer=signer)
    return BackgroundDelivery(worker, poll_seconds=settings.delivery_poll_seconds)
