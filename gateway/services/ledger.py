"""A dossier's ledger as the back-office reads it (`GET /v1/dossiers/{id}/ledger`, `gateway ledger`).

Per month and per child: due, paid, unpaid, ASF complement, recoverable part, prescription and
follow-up deadlines (gateway.payments.ledger computes it; docs/payment-cycle.md). The day it is
read "as of" is today in metropolitan France unless the caller names one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from gateway.errors import NotFound
from gateway.payments.follow_up import legal_day
from gateway.payments.ledger import Ledger
from gateway.services.ports import Clock, PaymentsStore


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Ledgers:
    """Reads ledgers from the store; `of` raises NotFound for a dossier that does not exist."""

    store: PaymentsStore
    clock: Clock = _utcnow

    def of(self, dossier_id: str, *, as_of: date | None = None) -> Ledger:
        day = legal_day(self.clock()) if as_of is None else as_of
        with self.store.read() as uow:
            found = uow.ledgers.ledger(dossier_id, as_of=day)
        if found is None:
            raise NotFound(f"no dossier {dossier_id}", field="dossier_id")
        return found
