"""`gateway deliver` (the webhook worker) and `gateway deliveries list|retry` (dead letters, replay)."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import click

from gateway.cli import current_settings, failure, main
from gateway.errors import Code

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.store.deliveries import DeliveryRow, SqlDeliveries


def _settings() -> Settings:

    # An invalid setting is reported by its name only (gateway.cli.failure): values may be secrets.
    return current_settings()


@contextmanager
def _deliveries() -> Iterator[SqlDeliveries]:
    from gateway.bootstrap import open_store
    from gateway.store.deliveries import SqlDeliveries

    store = open_store(_settings())
    try:
        yield SqlDeliveries(store)
    finally:
        store.close()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(type(value).__name__)


def _emit(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, default=_json_default))


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (default: run until stopped).")
def deliver(once: bool) -> None:
    """Push outbox events to the webhook subscriptions (GATEWAY_WEBHOOKS), with retries.

    Safe to run as several replicas on PostgreSQL; `gateway serve` runs one too unless
    GATEWAY_DELIVER_IN_SERVE=false. SIGTERM or Ctrl-C stops it after the current attempt.
    Pending deliveries of a subscription no longer configured (no worker served it for 5 minutes)
    are dead-lettered unsent, as `subscription-removed`: see `gateway deliveries retry`.
    """
    import logging

    from gateway import logs
    from gateway.bootstrap import build

    logs.configure("WARNING" if once else logs.level_from_env())  # --once: the JSON summary says it all
    # httpx logs every request with its full URL, whose path may hold a subscription's token;
    # the worker logs each attempt itself, with the host only.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = _settings()
    gateway = build(settings)
    with gateway:
        worker = gateway.delivery_worker()
        if not worker.endpoints:
            click.echo("no webhook subscriptions configured (GATEWAY_WEBHOOKS): nothing to deliver", err=True)
            if not worker.deliveries.has_pending():
                return
            # Pending deliveries of removed subscriptions: set them aside (subscription-removed).
        try:
            if once:
                _emit(asdict(worker.drain()))
                return
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            worker.run(stop, poll_seconds=settings.delivery_poll_seconds)
        finally:
            worker.sender.close()


@main.group()
def deliveries() -> None:
    """Webhook deliveries: list them, re-queue dead ones."""


@deliveries.command("list")
@click.option(
    "--status",
    type=click.Choice(["pending", "delivered", "dead"]),
    default=None,
    help="Only deliveries in this state.",
)
@click.option("--subscription", default=None, help="Only deliveries of this subscription id.")
@click.option("--after", type=int, default=0, show_default=True, help="Only ids above this one (paging).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def list_deliveries(status: str | None, subscription: str | None, after: int, limit: int) -> None:
    """Print deliveries (ids, state, attempts, last error; never payloads) and counts per state.

    A dead delivery whose last error starts with `subscription-removed` was never sent: its
    subscription is no longer in GATEWAY_WEBHOOKS."""
    with _deliveries() as repo:
        rows = repo.list_rows(status=status, subscription=subscription, after=after, limit=limit)
        _emit({"counts": repo.counts(), "deliveries": [asdict(r) for r in rows]})


@deliveries.command()
@click.option("--all-dead", is_flag=True, help="Re-queue every dead delivery.")
@click.option(
    "--subscription", default=None, help="Only dead deliveries of this subscription id (with --all-dead)."
)
@click.argument("ids", nargs=-1, type=int)
def retry(all_dead: bool, subscription: str | None, ids: tuple[int, ...]) -> None:
    """Re-queue dead deliveries (IDS, or --all-dead) with a fresh set of attempts.

    Deliveries set aside as `subscription-removed` are delivered once their subscription is back
    in GATEWAY_WEBHOOKS under the same id; re-queued while it is not, they are set aside again.
    Exit status 1 when one of the given IDS was not dead (unknown, pending or delivered).
    """
    if all_dead == bool(ids):
        raise click.UsageError("give delivery IDS or --all-dead (one of the two)")
    if subscription is not None and not all_dead:
        raise click.UsageError("--subscription goes with --all-dead")
    with _deliveries() as repo:
        requeued = repo.requeue_dead(
            None if all_dead else list(ids), now=datetime.now(UTC), subscription=subscription
        )
        subscriptions = repo.subscriptions_of(requeued)
        left = {n: repo.get(n) for n in sorted(set(ids) - set(requeued))}
    _emit({"requeued": requeued})
    configured = {sub.key for sub in _settings().webhooks}
    for missing in sorted(subscriptions - configured):
        # The id only when it was given one: an id defaulting to the URL may hold a token.
        named = "a subscription named by its URL" if "://" in missing else f"subscription {missing!r}"
        click.echo(
            f"warning: {named} is not in GATEWAY_WEBHOOKS: its re-queued deliveries will be set aside"
            " again (subscription-removed) unless a worker serves it",
            err=True,
        )
    if left:
        _left_alone(left)


def _left_alone(left: dict[int, DeliveryRow | None]) -> NoReturn:
    """One line for the ids given that were not re-queued: unknown ones, then those not dead."""
    unknown = [str(n) for n, row in left.items() if row is None]
    alive = [f"{n} is {row.status}" for n, row in left.items() if row is not None]
    said = ([f"no delivery {', '.join(unknown)}"] if unknown else []) + alive
    failure.fail(
        "gateway deliveries retry",
        Code.NOT_FOUND if unknown else Code.NOT_DEAD,
        "; ".join(said) + " (left alone: only dead deliveries are re-queued)",
        hint="see 'gateway deliveries list --status dead'",
    )
