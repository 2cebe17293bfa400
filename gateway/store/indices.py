"""SQL repository of index values and applied revaluations (tables of migration 0006_indices).

`index_source` is what every revaluation on a store reads: the values shipped with the gateway,
then the ones operators imported (`gateway indices import`) on top, so that a value imported on
one replica is used by all. `record_revaluation` inserts a revaluation once (ON CONFLICT DO
NOTHING) and says whether this call inserted it: the caller publishes `pension.revalued` then, in
the same transaction. Used inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, delete, insert, select, update

from gateway.payments.indices import IndexTable, IndexValue, series_key, shipped_table
from gateway.services.records import RevaluationRow
from gateway.store import schema
from gateway.store.sql import _insert_ignoring_conflict


@dataclass(frozen=True, slots=True)
class ImportCounts:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


class SqlIndices:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def imported(self, series: str | None = None) -> list[IndexValue]:
        t = schema.index_values
        query = select(t.c.series, t.c.period, t.c.value, t.c.source).order_by(t.c.series, t.c.period)
        if series is not None:
            query = query.where(t.c.series == series_key(series))
        return [IndexValue(r.series, r.period, Decimal(r.value), r.source) for r in self._conn.execute(query)]

    def index_source(self, base: IndexTable | None = None) -> IndexTable:
        """The imported values over `base` (default: the values shipped with the gateway)."""
        return (base if base is not None else shipped_table()).over(self.imported())

    def save(self, values: Iterable[IndexValue], *, at: datetime) -> ImportCounts:
        """Insert new values, replace changed ones (a corrected publication), count the rest."""
        t = schema.index_values
        wanted = {(series_key(v.series), v.period): v for v in values}
        existing = {
            (r.series, r.period): Decimal(r.value)
            for r in self._conn.execute(
                select(t.c.series, t.c.period, t.c.value).where(t.c.series.in_({s for s, _ in wanted}))
            )
        }
        added = changed = unchanged = overrides = 0
        shipped = shipped_table()
        for (series, period), item in sorted(wanted.items()):
            before = existing.get((series, period))
            if before is None:
                self._conn.execute(
                    insert(t).values(
                        series=series,
                        period=period,
                        value=str(item.value),
                        source=item.source,
                        imported_at=at,
                    )
                )
                added += 1
                overrides += shipped.value(series, period) not in {None, item.value}
            elif before != item.value:
                self._conn.execute(
                    update(t)
                    .where(t.c.series == series, t.c.period == period)
                    .values(value=str(item.value), source=item.source, imported_at=at)
                )
                changed += 1
            else:
                unchanged += 1
        if changed or overrides:
            # a value the collection's steady spans may have been computed with is corrected (or
            # a shipped one overridden): they are forgotten, the next run computes every dossier
            # (gateway.payments.span; an added value never changes a span: docs/collection-run.md)
            self._conn.execute(delete(schema.collection_spans))
        return ImportCounts(added, changed, unchanged)

    def record_revaluation(self, row: RevaluationRow) -> bool:
        """Insert the revaluation unless it is recorded already; True when this call inserted it."""
        t = schema.revaluations
        stmt = _insert_ignoring_conflict(self._conn, t, ["dossier_id", "child", "revalued_on"])
        inserted = self._conn.execute(
            stmt.returning(t.c.dossier_id),
            {
                "dossier_id": row.dossier_id,
                "child": row.child,
                "revalued_on": row.revalued_on,
                "old_cents": row.old_cents,
                "new_cents": row.new_cents,
                "series": row.series,
                "base_value": str(row.base_value),
                "base_period": row.base_period,
                "value": str(row.value),
                "value_period": row.value_period,
                "recorded_at": row.recorded_at,
            },
        )
        return inserted.first() is not None

    def revaluations(self, dossier_id: str) -> list[RevaluationRow]:
        t = schema.revaluations
        rows = self._conn.execute(
            select(t).where(t.c.dossier_id == dossier_id).order_by(t.c.child, t.c.revalued_on)
        )
        found = []
        for r in rows:
            row = RevaluationRow(
                r.dossier_id, r.child, r.revalued_on, r.old_cents, r.new_cents, r.series,
                Decimal(r.base_value), r.base_period, Decimal(r.value), r.value_period, r.recorded_at,
            )  # fmt: skip
            found.append(row)
        return found
