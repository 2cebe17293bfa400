"""The next collection: its period, first date and expected total, computed off the request path.

Working it out reads every accepted dossier (the schedule of each), which takes seconds with a
national caseload: far too long for a page. So the dashboard asks `Forecast.current()`, which
answers the last result at once (or None at first) and, when it is older than `max_age`,
recomputes it in a background thread (one at a time).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gateway.domain.calendar import add_months
from gateway.payments.schedule import due_debit
from gateway.services.collection import collectable, signed
from gateway.store.payments import SqlPayments
from gateway.store.sql import SqlStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NextCollection:
    period: str
    first_date: date | None  # the earliest collection date of the period's debits
    count: int
    total_cents: int
    computed_at: datetime


def next_period(store: SqlStore, today: date) -> str:
    """This month, unless its collection file was already emitted: then next month."""
    period = f"{today.year:04d}-{today.month:02d}"
    with store.read() as uow:
        emitted = SqlPayments(uow.connection).count_files("pain.008", period)
    if not emitted:
        return period
    return f"{add_months(today.replace(day=1), 1):%Y-%m}"


def compute(store: SqlStore, now: datetime) -> NextCollection:
    """What the next collection run would emit (without recording anything)."""
    period = next_period(store, now.date())
    count = total = 0
    first: date | None = None
    with store.read() as uow:
        payments = SqlPayments(uow.connection)
        for page in payments.dossier_pages():
            ids = [d.dossier_id for d in page]
            issued = payments.issued_periods(ids, period)
            mandates = payments.mandates(ids)
            for dossier in page:
                if dossier.dossier_id in issued:
                    continue
                mandate = signed(mandates.get(dossier.dossier_id))
                if mandate is None:  # not collected until the debtor's signature is recorded
                    continue
                data = json.loads(dossier.canonical_json)
                due = due_debit(period, collectable(dossier, data, mandate))
                if due is None:
                    continue
                count += 1
                total += due.amount_cents
                if first is None or due.collection_date < first:
                    first = due.collection_date
    return NextCollection(period, first, count, total, now)


class Forecast:
    """The last `NextCollection`, refreshed in the background when older than `max_age`."""

    def __init__(
        self, store: SqlStore, *, clock: Callable[[], datetime], max_age: timedelta = timedelta(minutes=30)
    ) -> None:
        self._store = store
        self._clock = clock
        self._max_age = max_age
        self._lock = threading.Lock()
        self._value: NextCollection | None = None
        self._running: threading.Thread | None = None

    def current(self) -> NextCollection | None:
        """The last result (None before the first one); starts a refresh when it is stale."""
        with self._lock:
            value = self._value
            stale = value is None or self._clock() - value.computed_at > self._max_age
            if stale and (self._running is None or not self._running.is_alive()):
                self._running = threading.Thread(target=self._refresh, name="console-forecast", daemon=True)
                self._running.start()
        return value

    def refresh_now(self) -> NextCollection:
        """Compute in this thread (tests, and the first dashboard of a small store)."""
        self._refresh()
        assert self._value is not None
        return self._value

    def wait(self, timeout: float | None = None) -> None:
        running = self._running
        if running is not None:
            running.join(timeout)

    def _refresh(self) -> None:
        try:
            value = compute(self._store, self._clock())
        except Exception:  # a page must never fail for the forecast; the next view tries again
            log.exception("computing the next collection failed")
            return
        with self._lock:
            self._value = value
