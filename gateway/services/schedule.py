"""A dossier's schedule as the back-office reads it (`GET /v1/dossiers/{id}/schedule`, `gateway
schedule`): per month and per child the amount due after revaluation, with the index values used,
or the month held when one is not known (gateway.payments.schedule_view; docs/revaluation.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.errors import NotFound
from gateway.payments.schedule_view import schedule_json
from gateway.services.ports import PaymentsStore


@dataclass(frozen=True, slots=True)
class Schedules:
    """Reads schedules from the store: the dossier and the index values it knows (shipped and
    imported)."""

    store: PaymentsStore

    def of(self, dossier_id: str, start: str | None, end: str | None) -> dict[str, Any]:
        """The schedule document from month `start` to `end` (YYYY-MM, both included); NotFound for
        a dossier that does not exist, an InvalidPeriod naming `from` or `to` for a bad month."""
        with self.store.read() as uow:
            row = uow.payments.dossier(dossier_id)
            if row is None:
                raise NotFound(f"no dossier {dossier_id}", field="dossier_id")
            indices = uow.indices.index_source()
        return schedule_json(json.loads(row.canonical_json), start, end, indices)
