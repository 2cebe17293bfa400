"""Collection profiles in SQL (table `collection_profiles`, 0012_collection_profile).

A dossier's profile is written in the transaction that stores the dossier (gateway.store.sql
`SqlDossiers.create_once`); a dossier's canonical JSON never changes afterwards, so neither does
its profile. Mandates, index values and revaluations are not in it: the run reads them as they
are on the day (docs/collection-run.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select

from gateway.payments.profile import profile_or_none
from gateway.services.records import CollectionRow, MandateRow
from gateway.store import schema
from gateway.store.bulk import insert_rows
from gateway.store.payments import SqlPayments
from gateway.store.payments import memo as _memo

COLLECTION_PAGE = 5_000  # dossiers read per query by the monthly run
RUN_CACHE_KIB = 48 * 1024  # SQLite page cache of the run's connection (the 200 MB budget)


def _profile(canonical_json: str) -> tuple[str, str | None] | None:
    """The profile of a stored document, None when it is not a canonical dossier's JSON."""
    try:
        data = json.loads(canonical_json)
    except ValueError:
        return None
    return profile_or_none(data) if isinstance(data, dict) else None


def save_profile(conn: Connection, dossier_id: str, canonical_json: str) -> bool:
    """Write the profile of a dossier just stored, from its canonical JSON; False when none can
    be made (the run then reads the dossier's JSON)."""
    t = schema.collection_profiles
    found = _profile(canonical_json)
    if found is None:
        return False
    conn.execute(insert(t).values(dossier_id=dossier_id, terms=found[0], debtor_address=found[1]))
    return True


def save_profiles(
    conn: Connection,
    dossiers: Sequence[tuple[str, str]],
    *,
    made: Mapping[str, tuple[str, str | None] | None] | None = None,
) -> None:
    """`save_profile` for a batch of dossiers just stored, (dossier id, canonical JSON) each, in
    one statement (the HTTP intake stores its batches so). `made`: the profiles already made from
    these dossiers, by dossier id (the intake's validation process makes them)."""
    rows = []
    for dossier_id, canonical_json in dossiers:
        found = made[dossier_id] if made is not None and dossier_id in made else _profile(canonical_json)
        if found is not None:
            rows.append({"dossier_id": dossier_id, "terms": found[0], "debtor_address": found[1]})
    insert_rows(conn, schema.collection_profiles, rows)


_MANDATE_COLUMNS = tuple(f.name for f in fields(MandateRow))  # in MandateRow's order
_AMENDMENT = _MANDATE_COLUMNS.index("pending_amendment")


class SqlCollection:
    """The run's reads: narrow rows in dossier id order, one query per page (keyset), each page
    read whole before the run writes (no cursor left open across its inserts)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @contextmanager
    def page_cache(self, kib: int = RUN_CACHE_KIB) -> Iterator[None]:
        """SQLite: a larger page cache while the run inserts its debits (their indexes take
        random keys: with the default 2 MiB each insert goes back to the file), then the
        connection's own setting again. PostgreSQL has its shared buffers."""
        if self._conn.dialect.name != "sqlite":
            yield
            return
        before = self._conn.exec_driver_sql("PRAGMA cache_size").scalar()
        self._conn.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
        try:
            yield
        finally:
            self._conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")

    def pages(self, period: str, *, page: int = COLLECTION_PAGE) -> Iterator[list[CollectionRow]]:
        d, p, m = schema.dossiers, schema.collection_profiles, schema.mandates
        pa, x = schema.payout_accounts, schema.debits
        query = (
            select(
                d.c.dossier_id,
                d.c.status,
                p.c.terms,
                p.c.debtor_address,
                pa.c.dossier_id.label("payout"),
                x.c.end_to_end_id.label("issued"),
                *(m.c[name] for name in _MANDATE_COLUMNS),
            )
            .select_from(
                d.outerjoin(p, p.c.dossier_id == d.c.dossier_id)
                .outerjoin(m, m.c.dossier_id == d.c.dossier_id)
                .outerjoin(pa, pa.c.dossier_id == d.c.dossier_id)
                .outerjoin(x, and_(x.c.dossier_id == d.c.dossier_id, x.c.period == period))
            )
            .order_by(d.c.dossier_id)
            .limit(page)
        )
        # the status is filtered here, not in SQL: with `status = ?` SQLite walks the status
        # index and sorts every accepted dossier for each page (quadratic); by the primary key,
        # each page is one range read on both backends
        compiled = query.where(d.c.dossier_id > bindparam("last")).compile(dialect=self._conn.dialect)
        sql, convert = str(compiled), _row_converter(self._conn)
        lock = self._conn.dialect.name == "postgresql"  # SQLite's writers are serial (BEGIN IMMEDIATE)
        last = ""
        while True:
            # the driver's own rows, the mandate's values converted by their columns' processors
            # (memoized: a run has few distinct dates); SQLAlchemy's Row per row costs 2x more
            params = compiled.construct_params({"last": last})
            args = tuple(params[k] for k in compiled.positiontup or ()) if compiled.positional else params
            rows = self._conn.exec_driver_sql(sql, args).all()
            if not rows:
                return
            found = [convert(r) for r in rows if r[1] == "accepted"]
            yield self._locked(found) if lock else found
            last = rows[-1][0]

    def _locked(self, page: list[CollectionRow]) -> list[CollectionRow]:
        """The page's mandates read again with SELECT ... FOR UPDATE (PostgreSQL): a signature or
        an amendment recorded meanwhile waits for the run instead of being overwritten by it, and
        the run debits the mandate as it is under the lock. Row locks, page by page, as before
        profiles: a table lock would make every mandate change wait for the whole run while
        holding its dossier's row, which the run's debit of that dossier needs (a deadlock)."""
        locked = SqlPayments(self._conn).mandates([r.dossier_id for r in page], for_update=True)
        return [replace(r, mandate=locked.get(r.dossier_id)) for r in page]

    def recorded_revaluations(self, dossier_ids: Sequence[str]) -> set[tuple[str, int, date]]:
        """(dossier, child, revaluation date) of the revaluations recorded for `dossier_ids`."""
        t = schema.revaluations
        rows = self._conn.execute(
            select(t.c.dossier_id, t.c.child, t.c.revalued_on).where(t.c.dossier_id.in_(list(dossier_ids)))
        )
        return {(r[0], r[1], r[2]) for r in rows}


def _row_converter(conn: Connection) -> Callable[[Any], CollectionRow]:
    """The page query's driver row -> CollectionRow, with the mandate columns' result processors."""
    dialect = conn.dialect
    processors = []
    for name in _MANDATE_COLUMNS:
        process = schema.mandates.c[name].type.dialect_impl(dialect).result_processor(dialect, None)
        processors.append(_memo(process) if process is not None else None)

    def convert(r: Any) -> CollectionRow:
        dossier_id, _status, terms, address, payout, issued, *mandate = r
        if mandate[0] is None:
            return CollectionRow(dossier_id, terms, address, None, payout is not None, issued is not None)
        for position, process in enumerate(processors):
            if process is not None and mandate[position] is not None:
                mandate[position] = process(mandate[position])
        raw = mandate[_AMENDMENT]
        mandate[_AMENDMENT] = json.loads(raw) if raw else None
        return CollectionRow(
            dossier_id, terms, address, MandateRow(*mandate), payout is not None, issued is not None
        )

    return convert
