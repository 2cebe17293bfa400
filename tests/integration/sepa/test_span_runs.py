"""The monthly run from steady spans (one INSERT ... SELECT for the dossiers whose span covers the
month: gateway.payments.span, docs/collection-run.md) leaves exactly what the run that computes
every dossier leaves: the same debits to the cent, the same months held, waiting lists, refusals,
mandates moved on, revaluations and events, month after consecutive month, on SQLite and
PostgreSQL, across every event that can change what a dossier owes or how it is debited: a
revaluation month, an index value imported late, an index value corrected, mandates changed
mid-way (account, debit day, signature withdrawn, amendment pending), payout accounts recorded
or removed, a dossier no longer accepted, children reaching the title's end date. The second
store has its spans removed before each run, so it takes the computed path for every dossier."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from gateway.payments.indices import SILENT_SERIES, IndexValue, shipped_values
from gateway.store import SqlStore, open_sql_store, schema
from gateway.store.indices import SqlIndices
from tests.integration.sepa.test_profile_runs import AT, dossiers, fill, state, summary, urls
from tests.integration.sepa.test_runs import Env
from tests.pg import postgres_server

__all__ = ["postgres_server", "urls"]

MONTHS = ("2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04")


def _spans(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.collection_spans)).scalar_one())


def _covered(store: SqlStore, period: str) -> list[str]:
    """Dossiers with a signed, recurrent mandate and a span covering `period` (the SQL path's)."""
    s, m = schema.collection_spans, schema.mandates
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                select(s.c.dossier_id)
                .join(m, m.c.dossier_id == s.c.dossier_id)
                .where(s.c.first_period <= period, s.c.last_period >= period, m.c.status == "signed")
                .where(m.c.first_collection_done.is_(True), m.c.pending_amendment.is_(None))
                .order_by(s.c.dossier_id)
            ).scalars()
        )


def _between(store: SqlStore, month: str, chosen: dict[str, list[str]]) -> None:
    """What happens to both stores after `month`'s run (the same to each)."""
    m, pa, d = schema.mandates, schema.payout_accounts, schema.dossiers
    if month == "2025-10":  # a value the silent clauses needed, imported late: held months resume
        with store.transaction() as uow:
            SqlIndices(uow.connection).save(
                [IndexValue(SILENT_SERIES, "2025-05", Decimal("140"), "late")], at=AT
            )
    if month == "2025-11":  # a published value corrected: spans computed with it are forgotten
        with store.transaction() as uow:
            SqlIndices(uow.connection).save(
                [IndexValue(SILENT_SERIES, "2024-11", Decimal("131.5"), "fix")], at=AT
            )
    if month == "2025-12":  # mandates changed mid-way, payout accounts, a dossier withdrawn
        one, two, three, four, five, six, seven = chosen["covered"][:7]
        with store.engine.begin() as conn:
            conn.execute(update(m).where(m.c.dossier_id == one).values(iban="FR1420041010050500013M02606"))
            conn.execute(update(m).where(m.c.dossier_id == two).values(collection_day=28, chosen_day=15))
            conn.execute(update(m).where(m.c.dossier_id == three).values(status="pending", signed_on=None))
            conn.execute(
                update(m)
                .where(m.c.dossier_id == four)
                .values(pending_amendment='{"original_debtor_iban": "FR7630006000011234567890189"}')
            )
            conn.execute(update(m).where(m.c.dossier_id == five).values(debtor_name="Nouveau nom"))
            conn.execute(delete(pa).where(pa.c.dossier_id == six))
            conn.execute(update(d).where(d.c.dossier_id == seven).values(status="withdrawn"))
    if month == "2026-01":  # a payout account recorded for a dossier that waited for one
        with store.engine.begin() as conn:
            conn.execute(
                pa.insert().values(
                    dossier_id=chosen["covered"][5], holder="Creancier", iban="FR7630006000011234567890189",
                    bic=None, recorded_at=AT,
                )
            )  # fmt: skip


def test_runs_from_spans_equal_runs_computing_every_dossier(
    urls: tuple[str, str], tmp_path: Path, dev_pki: Path
) -> None:
    rows = list(dossiers(120))
    fast_store, exact_store = open_sql_store(urls[0]), open_sql_store(urls[1])
    try:
        fill(fast_store, rows)
        fill(exact_store, rows)
        fast, exact = (
            Env(fast_store, tmp_path / "fast", dev_pki),
            Env(exact_store, tmp_path / "exact", dev_pki),
        )
        seen: dict[str, Any] = {"from_spans": [], "count": 0, "held": 0, "revalued": 0, "refused": 0}
        chosen: dict[str, list[str]] = {}
        for number, period in enumerate(MONTHS):
            at = AT + timedelta(days=600 + 31 * number)
            covered = _covered(fast_store, period)
            with exact_store.engine.begin() as conn:  # the computed path for every dossier
                conn.execute(delete(schema.collection_spans))
            one, two = fast.debits(period, at), exact.debits(period, at)
            assert two.from_spans == 0
            assert summary(one) == summary(two), period
            assert state(fast_store) == state(exact_store), period
            # a span is taken unless the mandate, payout account or dossier changed since
            assert one.from_spans <= len(covered)
            seen["from_spans"].append(one.from_spans)
            for key in ("count", "revalued"):
                seen[key] += getattr(one, key)
            seen["held"] += len(one.held)
            seen["refused"] += len(one.refused)
            if period == "2025-11":
                chosen["covered"] = covered
            # the same month again issues nothing, from spans or otherwise
            if period in {"2025-10", "2026-02"}:
                again, again_exact = fast.debits(period, at), exact.debits(period, at)
                assert (again.count, again.from_spans, again.message_id) == (0, 0, None)
                assert summary(again) == summary(again_exact)
                assert state(fast_store) == state(exact_store), period
            _between(fast_store, period, chosen)
            _between(exact_store, period, chosen)
            if period == "2025-11":  # the corrected value dropped every span
                assert _spans(fast_store) == 0
        spans = seen["from_spans"]
        assert spans[0] == 0  # nothing computed before: every dossier takes the computed path
        assert spans[1] > seen["count"] / len(MONTHS) / 2, spans  # a normal month: most from spans
        assert spans[3] == 0  # after the correction: all computed again
        assert min(spans[4:]) > 0, spans
        assert min(seen[k] for k in ("held", "revalued", "refused")) > 0, seen
    finally:
        fast_store.close()
        exact_store.close()


@pytest.mark.parametrize("added", ["2031-01"])
def test_an_added_index_value_keeps_the_spans_a_corrected_one_drops_them(
    urls: tuple[str, str], tmp_path: Path, dev_pki: Path, added: str
) -> None:
    """An added value never changes a month a span covers (that month would have been held);
    a corrected value, or one that overrides a shipped value, may: every span is dropped."""
    store = open_sql_store(urls[0])
    try:
        fill(store, list(dossiers(30)))
        Env(store, tmp_path, dev_pki).debits("2025-09", AT + timedelta(days=600))
        kept = _spans(store)
        assert kept > 0
        with store.transaction() as uow:
            SqlIndices(uow.connection).save([IndexValue(SILENT_SERIES, added, Decimal("150"), "t")], at=AT)
        assert _spans(store) == kept
        with store.transaction() as uow:
            SqlIndices(uow.connection).save([IndexValue(SILENT_SERIES, added, Decimal("151"), "t")], at=AT)
        assert _spans(store) == 0
        Env(store, tmp_path, dev_pki).debits("2025-10", AT + timedelta(days=631))
        assert _spans(store) > 0
        shipped = next(v for v in shipped_values() if v.series == SILENT_SERIES and v.period < "2023-01")
        with store.transaction() as uow:  # a shipped value overridden by an import: dropped too
            SqlIndices(uow.connection).save([replace(shipped, value=shipped.value + 1)], at=AT)
        assert _spans(store) == 0
    finally:
        store.close()
