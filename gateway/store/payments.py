"""SQL repository of SEPA out: mandates, debits, payment files and payouts (SQLite and PostgreSQL).

Used inside a `SqlStore.transaction()` through `SqlUnitOfWork.connection`. Large runs page through
dossiers by key (`dossier_id > last`), so a national run reads a page at a time, never the table.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import date, datetime
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, bindparam, case, func, insert, or_, select, update

from gateway.services.ports import DossierRow
from gateway.services.records import (
    CreditRow,
    DebitRow,
    FileDebit,
    MandateRow,
    PaymentFileRow,
)
from gateway.store import schema

PAGE = 1000
R = TypeVar("R")
# A debit the bank settled in full, or for less than instructed (gateway.store.bank).
SETTLED = ("settled", "settled-partial")


_DEBIT_FIELDS = DebitRow._fields
_debit_values = attrgetter(*_DEBIT_FIELDS)
# the column names are DebitRow's fields (constants): nothing from outside goes into the SQL
_COLUMNS, _MARKS = ", ".join(_DEBIT_FIELDS), ", ".join("?" for _ in _DEBIT_FIELDS)
_SQLITE_INSERT_DEBIT = f"INSERT INTO debits ({_COLUMNS}) VALUES ({_MARKS})"  # noqa: S608
_PG_COPY_DEBITS = f"COPY debits ({_COLUMNS}) FROM STDIN"


def memo(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A column's processor asked once per distinct value (a run has few dates and one time)."""
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            found = seen[value] = process(value)
            if len(seen) > 10_000:
                seen.clear()
            return found

    return convert


STREAM_CHUNK = 5_000  # rows fetched at a time when a file is written


def _mandate(row: Any) -> MandateRow:
    data = dict(row._mapping)
    raw = data.pop("pending_amendment")
    return MandateRow(**data, pending_amendment=json.loads(raw) if raw else None)


class SqlPayments:
    """Mandates, debits, files and payouts on one connection (inside the caller's transaction)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for the repositories that share it (gateway.store.mandates)."""
        return self._conn

    # --- dossiers to collect from ------------------------------------------------------------

    def dossier_pages(self, *, status: str = "accepted", page: int = PAGE) -> Iterator[list[DossierRow]]:
        """Every dossier with `status`, a page at a time, in dossier id order."""
        t = schema.dossiers
        last = ""
        while True:
            rows = self._conn.execute(
                select(t)
                .where(and_(t.c.status == status, t.c.dossier_id > last))
                .order_by(t.c.dossier_id)
                .limit(page)
            ).all()
            if not rows:
                return
            yield [DossierRow(**dict(r._mapping)) for r in rows]
            last = rows[-1].dossier_id

    def count_dossiers(self, *, status: str = "accepted") -> int:
        t = schema.dossiers
        return int(self._conn.execute(select(func.count()).where(t.c.status == status)).scalar() or 0)

    def dossier(self, dossier_id: str) -> DossierRow | None:
        row = self._conn.execute(
            select(schema.dossiers).where(schema.dossiers.c.dossier_id == dossier_id)
        ).first()
        return DossierRow(**dict(row._mapping)) if row is not None else None

    # --- mandates ------------------------------------------------------------------------------

    def mandates(self, dossier_ids: Sequence[str], *, for_update: bool = False) -> dict[str, MandateRow]:
        """The mandates of `dossier_ids`; `for_update` locks them until the transaction ends
        (PostgreSQL), so that a signature or an amendment recorded meanwhile waits for the run
        instead of being overwritten by it."""
        t = schema.mandates
        query = select(t).where(t.c.dossier_id.in_(list(dossier_ids)))
        rows = self._conn.execute(query.with_for_update() if for_update else query).all()
        return {r.dossier_id: _mandate(r) for r in rows}

    def mandate(self, dossier_id: str) -> MandateRow | None:
        return self.mandates([dossier_id]).get(dossier_id)

    def save_mandate(self, row: MandateRow) -> None:
        t = schema.mandates
        values = asdict(row)
        values["pending_amendment"] = json.dumps(row.pending_amendment) if row.pending_amendment else None
        done = self._conn.execute(update(t).where(t.c.dossier_id == row.dossier_id).values(**values))
        if done.rowcount == 0:
            self._conn.execute(insert(t).values(**values))

    # --- debits --------------------------------------------------------------------------------

    def issued_periods(self, dossier_ids: Sequence[str], period: str) -> set[str]:
        """The dossiers among `dossier_ids` that already have a debit for `period`."""
        t = schema.debits
        rows = self._conn.execute(
            select(t.c.dossier_id).where(and_(t.c.period == period, t.c.dossier_id.in_(list(dossier_ids))))
        )
        return {r.dossier_id for r in rows}

    def add_debits(self, rows: Sequence[DebitRow]) -> None:
        """Insert debits in one statement: COPY on PostgreSQL, one executemany of plain tuples
        on SQLite (the values converted by the columns' own SQLAlchemy bind processors, so the
        rows read back exactly as if SQLAlchemy had written them)."""
        if not rows:
            return
        if self._conn.dialect.name == "postgresql":
            self._copy_debits(rows)
            return
        values = [list(_debit_values(r)) for r in rows]
        for position, convert in self._debit_converters():
            for value in values:
                value[position] = convert(value[position])
        cursor = self._conn.connection.cursor()
        try:
            cursor.executemany(_SQLITE_INSERT_DEBIT, values)
        finally:
            cursor.close()

    def _debit_converters(self) -> list[tuple[int, Callable[[Any], Any]]]:
        """(position, converter) of the columns whose type converts values (dates, times)."""
        found = []
        for position, name in enumerate(_DEBIT_FIELDS):
            process = schema.debits.c[name].type.bind_processor(self._conn.dialect)
            if process is not None:
                found.append((position, memo(process)))
        return found

    def _copy_debits(self, rows: Sequence[DebitRow]) -> None:
        raw = self._conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(_PG_COPY_DEBITS) as copy:
            for r in rows:
                copy.write_row(_debit_values(r))

    def debits_of_message(self, message_id: str) -> Iterator[DebitRow]:
        """The debits of one file, in file order (sequence type, collection date, dossier), streamed:
        one query read in chunks (streamed by PostgreSQL, SQLite's own stepping),
        in the order of the index `ix_debits_message` (no sort; 0011_sepa_scale, by dossier
        since 0013_collection_spans: the order the run inserts them in)."""
        return self._in_file_order(message_id, DebitRow._fields, DebitRow._make)

    def file_debits(self, message_id: str) -> Iterator[FileDebit]:
        """`debits_of_message`, only the columns the file says (FileDebit), in file order."""
        return self._in_file_order(message_id, FileDebit._fields, FileDebit._make)

    def _in_file_order(
        self, message_id: str, fields: Sequence[str], make: Callable[[Iterable[Any]], R]
    ) -> Iterator[R]:
        """`fields` of a file's debits in file order, each row made by `make`. The driver's rows,
        converted by the columns' own result processors (memoized: a file has few dates and one
        creation time; PostgreSQL's driver gives dates as they are, so most files convert
        nothing): SQLAlchemy's Row and its processing per debit cost as much as rendering it."""
        t = schema.debits
        query = (
            select(*(t.c[name] for name in fields))
            .where(t.c.message_id == bindparam("message_id"))
            .order_by(t.c.sequence, t.c.collection_date, t.c.dossier_id)
        )
        compiled = query.compile(dialect=self._conn.dialect)
        params = compiled.construct_params({"message_id": message_id})
        args = tuple(params[k] for k in compiled.positiontup or ()) if compiled.positional else params
        convert = []
        for position, name in enumerate(fields):
            column_type = t.c[name].type.dialect_impl(self._conn.dialect)
            process = column_type.result_processor(self._conn.dialect, None)
            if process is not None:
                convert.append((position, memo(process)))
        for chunk in self._chunks(str(compiled), args):
            if not convert:
                yield from map(make, chunk)
                continue
            for r in chunk:
                values = list(r)
                for position, converter in convert:
                    if values[position] is not None:
                        values[position] = converter(values[position])
                yield make(values)

    def _chunks(self, sql: str, args: Any) -> Iterator[Sequence[Sequence[Any]]]:
        """The rows of a long read, STREAM_CHUNK at a time (one call per chunk, not per row).
        The driver's own cursor and its plain tuples (a SQLAlchemy Row per debit cost 2.5 s of a
        1,000,000-debit file on SQLite), closed with the generator. On PostgreSQL the query is
        streamed (psycopg's chunked mode, libpq 17+): the server sends the rows while the run
        renders them, instead of waiting for each FETCH of a server-side cursor (1.6 s of
        1,000,000); the connection's socket holds back a server that runs ahead."""
        raw = self._conn.connection.driver_connection
        assert raw is not None
        if self._conn.dialect.name == "sqlite":
            cursor = raw.cursor()
            try:
                cursor.execute(sql, args)
                while chunk := cursor.fetchmany(STREAM_CHUNK):
                    yield chunk
            finally:
                cursor.close()
            return
        with raw.cursor() as cursor:
            rows = cursor.stream(sql, args, binary=True, size=STREAM_CHUNK)  # no dates as text
            try:
                while chunk := list(itertools.islice(rows, STREAM_CHUNK)):
                    yield chunk
            finally:
                rows.close()  # read to its end, or cancelled (psycopg) if the caller stopped early

    def message_batches(
        self, message_id: str, flag_countries: Collection[str] = ()
    ) -> list[tuple[str, date, int, int, bool]]:
        """(sequence, collection date, count, total cents, flagged) of each PmtInf of one file, in
        file order, computed by the database (NbOfTxs and CtrlSum without reading the debits).
        `flagged`: a debtor's IBAN (letters 1-2) or BIC (letters 5-6) is of one of
        `flag_countries` (the run passes the non-EEA SEPA countries: such a batch carries the
        fund's address, SDD Core rulebook 2025 AT-05)."""
        t = schema.debits
        non_eea = sorted(flag_countries)
        outside = or_(
            func.substr(t.c.debtor_iban, 1, 2).in_(non_eea),
            func.coalesce(func.substr(t.c.debtor_bic, 5, 2), "").in_(non_eea),
        )
        rows = self._conn.execute(
            select(
                t.c.sequence,
                t.c.collection_date,
                func.count(),
                func.sum(t.c.amount_cents),
                func.max(case((outside, 1), else_=0)),
            )
            .where(t.c.message_id == message_id)
            .group_by(t.c.sequence, t.c.collection_date)
            .order_by(t.c.sequence, t.c.collection_date)
        ).all()
        return [(str(r[0]), r[1], int(r[2]), int(r[3]), bool(r[4])) for r in rows]

    def mark_collected(self, dossier_ids: Sequence[str], now: datetime) -> None:
        """The mandates of `dossier_ids` had their first collection (FRST) or their amendment
        sent: one executemany per page, only for the mandates that change."""
        if not dossier_ids:
            return
        t = schema.mandates
        self._conn.execute(
            update(t)
            .where(t.c.dossier_id == bindparam("b_dossier_id"))
            .values(first_collection_done=True, pending_amendment=None, updated_at=now),
            [{"b_dossier_id": dossier_id} for dossier_id in dossier_ids],
        )

    def debit(self, end_to_end_id: str) -> DebitRow | None:
        t = schema.debits
        row = self._conn.execute(select(t).where(t.c.end_to_end_id == end_to_end_id)).first()
        return DebitRow(**dict(row._mapping)) if row is not None else None

    def set_debit_status(self, end_to_end_id: str, status: str, reason: str | None) -> None:
        t = schema.debits
        self._conn.execute(
            update(t).where(t.c.end_to_end_id == end_to_end_id).values(status=status, reason=reason)
        )

    def settled_unpaid_pages(self, *, until: date, page: int = PAGE) -> Iterator[list[tuple[DebitRow, int]]]:
        """Debits settled (fully or partly) and collected on or before `until` that no payout
        covers yet, each with the amount actually collected, paged."""
        d, c, p = schema.debits, schema.credits, schema.debit_progress
        last = ""
        while True:
            rows = self._conn.execute(
                select(d, p.c.collected_cents)
                .outerjoin(c, c.c.debit_end_to_end_id == d.c.end_to_end_id)
                .outerjoin(p, p.c.end_to_end_id == d.c.end_to_end_id)
                .where(
                    and_(
                        d.c.status.in_(SETTLED),
                        d.c.collection_date <= until,
                        c.c.end_to_end_id.is_(None),
                        d.c.end_to_end_id > last,
                    )
                )
                .order_by(d.c.end_to_end_id)
                .limit(page)
            ).all()
            if not rows:
                return
            found = []
            for r in rows:
                fields = dict(r._mapping)
                collected = fields.pop("collected_cents")
                debit = DebitRow(**fields)
                found.append((debit, debit.amount_cents if collected is None else int(collected)))
            yield found
            last = rows[-1].end_to_end_id

    # --- payouts -------------------------------------------------------------------------------

    def add_credits(self, rows: Sequence[CreditRow]) -> None:
        if rows:
            self._conn.execute(insert(schema.credits), [asdict(r) for r in rows])

    def credits_of_message(self, message_id: str) -> Iterator[CreditRow]:
        t = schema.credits
        last = ""
        while True:
            rows = self._conn.execute(
                select(t)
                .where(and_(t.c.message_id == message_id, t.c.end_to_end_id > last))
                .order_by(t.c.end_to_end_id)
                .limit(PAGE)
            ).all()
            if not rows:
                return
            for r in rows:
                yield CreditRow(**dict(r._mapping))
            last = rows[-1].end_to_end_id

    # --- files ---------------------------------------------------------------------------------

    def add_file(self, row: PaymentFileRow) -> None:
        self._conn.execute(insert(schema.payment_files).values(**asdict(row)))

    def set_file_delivery(self, message_id: str, *, archive_seq: int, channel_ref: str) -> None:
        t = schema.payment_files
        self._conn.execute(
            update(t)
            .where(t.c.message_id == message_id)
            .values(archive_seq=archive_seq, channel_ref=channel_ref)
        )

    def count_files(self, kind: str, label: str) -> int:
        t = schema.payment_files
        found = self._conn.execute(
            select(func.count()).where(and_(t.c.kind == kind, t.c.label == label))
        ).scalar()
        return int(found or 0)

    def files(self) -> list[PaymentFileRow]:
        t = schema.payment_files
        return [
            PaymentFileRow(**dict(r._mapping)) for r in self._conn.execute(select(t).order_by(t.c.created_at))
        ]
