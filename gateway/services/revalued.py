"""`pension.revalued`: recorded and published once per child and revaluation (docs/revaluation.md).

The collection run calls `record_revaluations` for each dossier it debits, in its transaction: a
child's due computed with a revaluation not recorded yet gets its row (gateway.store.indices) and
its event, with the amount before and after, the base and new index values with their months and
the revaluation date. Running the month again, or a later month at the same amount, finds the row
and publishes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from gateway.payments.dues import ChildDue
from gateway.payments.indices import IndexSource
from gateway.payments.revaluation import Clause, IndexMissing, revaluation_dates, revalued_on
from gateway.services.events import PENSION_REVALUED, publish
from gateway.services.ports import EventRepository, IndicesRepository
from gateway.services.records import RevaluationRow


def amount_before(clause: Clause, due: ChildDue, indices: IndexSource) -> int | None:
    """The child's monthly amount before the revaluation `due` was computed with (`clause`: the
    child's revaluation clause): the previous revaluation's, or the title's; None when that one
    cannot be computed (an index is missing)."""
    assert due.index is not None
    earlier = [d for d in revaluation_dates(clause, due.index.revalued_on) if d < due.index.revalued_on]
    if not earlier:
        return due.title_cents
    try:
        return revalued_on(due.title_cents, clause, earlier[-1], indices, field="").cents
    except IndexMissing:
        return None


def record_revaluations(
    indices_repo: IndicesRepository,
    events: EventRepository,
    *,
    dossier_id: str,
    clauses: Sequence[Clause],
    dues: Iterable[ChildDue],
    indices: IndexSource,
    at: datetime,
) -> int:
    """Record and publish the revaluations `dues` apply that were not recorded yet; how many.
    `clauses`: the dossier's children's clauses, in the title's order (its `DossierTerms`, from
    its JSON or its collection profile)."""
    published = 0
    for due in dues:
        use = due.index
        if use is None:
            continue
        old = amount_before(clauses[due.child], due, indices)
        row = RevaluationRow(
            dossier_id=dossier_id, child=due.child, revalued_on=use.revalued_on, old_cents=old,
            new_cents=use.revalued_cents, series=use.series, base_value=use.base_value,
            base_period=use.base_period, value=use.value, value_period=use.value_period, recorded_at=at,
        )  # fmt: skip
        if not indices_repo.record_revaluation(row):
            continue
        publish(
            events,
            PENSION_REVALUED,
            {
                "dossier_id": dossier_id,
                "child": due.child,
                "revalued_on": use.revalued_on.isoformat(),
                "first_period": due.period,
                "title_cents": due.title_cents,
                "old_cents": old,
                "new_cents": use.revalued_cents,
                "series": use.series,
                "base_index": {"value": str(use.base_value), "period": use.base_period},
                "new_index": {"value": str(use.value), "period": use.value_period},
            },
            at=at,
            dossier_id=dossier_id,
        )
        published += 1
    return published
