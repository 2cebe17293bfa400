"""Months held for a missing index value (`gateway indices missing`; docs/revaluation.md).

Nothing is stored for a held month: it is whatever the collection would hold if it ran now, so the
list is never stale. Once the missing value is imported, the month leaves the list and the next
collection run of that month debits it (a held month was never recorded as a debit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gateway.payments.dues import HeldDue, child_schedule
from gateway.payments.indices import IndexTable
from gateway.store.indices import SqlIndices
from gateway.store.payments import SqlPayments
from gateway.store.sql import SqlStore


@dataclass(frozen=True, slots=True)
class HeldMonth:
    dossier_id: str
    period: str
    child: int
    series: str
    index_period: str  # the month whose value is missing
    revalued_on: str
    code: str
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "dossier_id": self.dossier_id,
            "period": self.period,
            "child": self.child,
            "code": self.code,
            "series": self.series,
            "index_period": self.index_period,
            "revalued_on": self.revalued_on,
            "message": self.message,
        }


def held_months(store: SqlStore, period: str, base_indices: IndexTable | None = None) -> list[HeldMonth]:
    """Every accepted dossier's child whose `period` is held for want of an index value
    (`base_indices`: the values under the imported ones, default the shipped ones)."""
    found: list[HeldMonth] = []
    with store.read() as uow:
        indices = SqlIndices(uow.connection).index_source(base_indices)
        for page in SqlPayments(uow.connection).dossier_pages():
            for dossier in page:
                for item in child_schedule(json.loads(dossier.canonical_json), period, indices):
                    if isinstance(item, HeldDue):
                        m = item.missing
                        found.append(
                            HeldMonth(
                                dossier.dossier_id,
                                period,
                                item.child,
                                m.series,
                                m.period,
                                m.revalued_on.isoformat(),
                                m.code,
                                m.message,
                            )
                        )
    return found
