"""Collection profiles in SQL (table `collection_profiles`, 0012_collection_profile).

A dossier's profile is written in the transaction that stores the dossier (gateway.store.sql
`SqlDossiers.create_once`); a dossier's canonical JSON never changes afterwards, so neither does
its profile. Mandates, index values and revaluations are not in it: the run reads them as they
are on the day (docs/collection-run.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql

from gateway.payments.profile import profile_or_none
from gateway.sepa.ids import (
    GATEWAY_BODY_ALPHABET,
    GATEWAY_BODY_LENGTH,
    GATEWAY_DOSSIER_ID,
    GATEWAY_PREFIX,
    period_key,
)
from gateway.services.records import STATUS_SIGNED, CollectionRow, MandateRow, SpanRow
from gateway.store import schema
from gateway.store.bulk import insert_rows
from gateway.store.payments import memo as _memo

ACCEPTED = "accepted"
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
_SPAN_COLUMNS = tuple(f.name for f in fields(SpanRow))
_span_values = attrgetter(*_SPAN_COLUMNS)
_SIGNED_ON = _SPAN_COLUMNS.index("mandate_signed_on")
_MARKS = ", ".join("?" * len(_SPAN_COLUMNS))
_SQLITE_SAVE_SPANS = (
    f"INSERT INTO collection_spans ({', '.join(_SPAN_COLUMNS)}) VALUES ({_MARKS}) "  # noqa: S608
    f"ON CONFLICT (dossier_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _SPAN_COLUMNS[1:])}"
)
_DEBIT_COLUMNS = (
    "end_to_end_id", "dossier_id", "period", "amount_cents", "collection_date", "sequence",
    "mandate_reference", "mandate_signed_on", "debtor_name", "debtor_iban", "debtor_bic", "amendment",
    "debtor_address", "message_id", "payment_info_id", "status", "reason", "created_at",
)  # fmt: skip


def _not_accepted() -> Select[tuple[str]]:
    """The dossiers not accepted, read by the status index (`<` and `>`: SQLite's OR of two
    index ranges; `!=` would read every dossier's row)."""
    d = schema.dossiers
    return select(d.c.dossier_id).where(or_(d.c.status < ACCEPTED, d.c.status > ACCEPTED))


def debit_end_to_end_id(period: str) -> Callable[[str], str]:
    """gateway.sepa.ids.end_to_end_id(dossier_id, "DD", period) for one period, its constant
    parts computed once (SQLite calls it for each debit a span issues; tested equal)."""
    prefix, suffix, sha256 = f"DD{period_key(period)}-", f"\x1fDD\x1f{period}".encode(), hashlib.sha256
    gateway_id = GATEWAY_DOSSIER_ID.fullmatch

    def of(dossier_id: str) -> str:
        if gateway_id(dossier_id):
            return prefix + dossier_id
        return prefix + sha256(dossier_id.encode() + suffix).hexdigest()[:24].upper()

    return of


def _pg_end_to_end_id(dossier_id: ColumnElement[str], period: str) -> ColumnElement[str]:
    """gateway.sepa.ids.end_to_end_id(dossier_id, "DD", period) in PostgreSQL's own SQL: a
    gateway dossier id as it is, any other the first 24 hex digits, upper case, of SHA-256 over
    the parts joined by U+001F, UTF-8. A gateway id (GATEWAY_DOSSIER_ID) is told by its length,
    prefix and alphabet with string functions: a regular expression cost 0.7 s a month."""
    joined = func.convert_to(dossier_id + literal(f"\x1fDD\x1f{period}", String), "UTF8")
    digest = func.upper(func.substr(func.encode(func.sha256(joined), "hex"), 1, 24))
    gateway = and_(
        func.length(dossier_id) == len(GATEWAY_PREFIX) + GATEWAY_BODY_LENGTH,
        func.left(dossier_id, len(GATEWAY_PREFIX)) == literal(GATEWAY_PREFIX, String),
        func.ltrim(func.substr(dossier_id, len(GATEWAY_PREFIX) + 1), literal(GATEWAY_BODY_ALPHABET, String))
        == "",
    )
    tail = case((gateway, dossier_id), else_=digest)
    return literal(f"DD{period_key(period)}-", String) + tail


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

    def pages(
        self, period: str, *, page: int = COLLECTION_PAGE, skip_message: str = ""
    ) -> Iterator[list[CollectionRow]]:
        """The accepted dossiers, a page at a time, but those whose debit for `period` is in the
        file `skip_message` (issued by this run from their spans: `issue_spans`)."""
        d, p, m = schema.dossiers, schema.collection_profiles, schema.mandates
        pa, x = schema.payout_accounts, schema.debits
        query = (
            select(
                d.c.dossier_id,
                null().label("status"),  # read apart (below): this query then reads no dossier row
                p.c.terms,
                p.c.debtor_address,
                pa.c.dossier_id.label("payout"),
                x.c.end_to_end_id.label("issued"),
                *(m.c[name] for name in _MANDATE_COLUMNS),
            )
            .select_from(
                # the period's debit first: a dossier this run issued from its span stops there
                d.outerjoin(x, and_(x.c.dossier_id == d.c.dossier_id, x.c.period == period))
                .outerjoin(p, p.c.dossier_id == d.c.dossier_id)
                .outerjoin(m, m.c.dossier_id == d.c.dossier_id)
                .outerjoin(pa, pa.c.dossier_id == d.c.dossier_id)
            )
            .order_by(d.c.dossier_id)
            .limit(page)
        )
        # the status is filtered here, not in SQL: with `status = ?` SQLite walks the status
        # index and sorts every accepted dossier for each page (quadratic); by the primary key,
        # each page is one range read on both backends. The few dossiers not accepted are read
        # first by the status index, so that the pages read the primary key's index alone, not
        # each dossier's row (its canonical JSON: a page of the table per dossier)
        others = set(self._conn.execute(_not_accepted()).scalars())
        query = query.where(d.c.dossier_id > bindparam("last"))
        if skip_message:
            query = query.where(or_(x.c.message_id.is_(None), x.c.message_id != skip_message))
        compiled = query.compile(dialect=self._conn.dialect)
        sql, convert = str(compiled), _row_converter(self._conn)
        last = ""
        while True:
            # the driver's own rows, the mandate's values converted by their columns' processors
            # (memoized: a run has few distinct dates); SQLAlchemy's Row per row costs 2x more
            params = compiled.construct_params({"last": last})
            args = tuple(params[k] for k in compiled.positiontup or ()) if compiled.positional else params
            rows = self._conn.exec_driver_sql(sql, args).all()
            if not rows:
                return
            yield [convert(r) for r in rows if r[0] not in others]
            last = rows[-1][0]

    def hold_mandates(self) -> None:
        """Hold every mandate as it is until the run's transaction ends; the run's first statement.

        PostgreSQL: `LOCK TABLE mandates IN EXCLUSIVE MODE`. A signature, amendment or withdrawal
        being recorded is committed first; one recorded during the run waits for its commit,
        before it reads the mandate it changes (`SELECT ... FOR UPDATE`), so it never works
        from the mandate as it was before the run moved it on (FRST sent). Plain reads (the
        console, GET) are not held. One lock instead of a row lock on each mandate the run
        reads: those wrote every mandate's row and a WAL record for it, 5 s of a national
        month (bench/README.md). SQLite: nothing, its writers are serial (BEGIN IMMEDIATE)."""
        if self._conn.dialect.name == "postgresql":
            self._conn.exec_driver_sql("LOCK TABLE mandates IN EXCLUSIVE MODE")

    def save_spans(self, rows: Sequence[SpanRow]) -> None:
        """Store the dossiers' new steady spans, replacing their former ones (one statement: on
        SQLite the driver's executemany of plain tuples, dates converted by the column's own
        bind processor, as `SqlPayments.add_debits`)."""
        if not rows:
            return
        values = [list(_span_values(r)) for r in rows]
        if self._conn.dialect.name == "postgresql":
            t = schema.collection_spans
            statement = postgresql.insert(t)
            kept = {c.name: statement.excluded[c.name] for c in t.columns if c.name != "dossier_id"}
            self._conn.execute(
                statement.on_conflict_do_update(index_elements=[t.c.dossier_id], set_=kept),
                [dict(zip(_SPAN_COLUMNS, v, strict=True)) for v in values],
            )
            return
        process = schema.collection_spans.c.mandate_signed_on.type.bind_processor(self._conn.dialect)
        if process is not None:
            convert = _memo(process)
            for value in values:
                value[_SIGNED_ON] = convert(value[_SIGNED_ON])
        cursor = self._conn.connection.cursor()
        try:
            cursor.executemany(_SQLITE_SAVE_SPANS, values)
        finally:
            cursor.close()

    def drop_spans(self) -> int:
        """Forget every steady span (an index value they may have used was corrected)."""
        return self._conn.execute(delete(schema.collection_spans)).rowcount or 0

    def issue_spans(
        self,
        period: str,
        *,
        message_id: str,
        created_at: datetime,
        days: Mapping[int, tuple[date, str]],
        basis: str,
    ) -> int:
        """Issue `period`'s debit of every dossier whose steady span covers it, in one
        INSERT ... SELECT; how many it issued. A span is taken only while everything
        its amount and its EPC check relied on still holds: the run's `basis` (rules and shipped
        index values), the dossier accepted, its mandate signed, recurrent, without a pending
        amendment and with the reference, signature date, name, IBAN, BIC and days the span
        recorded, a payout account recorded, and no debit for the period yet. Anything else is
        left to the computed path (`pages`). `days`: per debit day (the title's, else the
        debtor's choice) the collection date and the RCUR batch's PmtInfId for the period.

        The mandates it reads are the run's (`hold_mandates`): none changes until it commits."""
        s, m, pa, t = schema.collection_spans, schema.mandates, schema.payout_accounts, schema.debits
        if not days:
            return 0
        others = _not_accepted()  # the few dossiers not accepted, by the status index
        # the debit day's collection date and batch, a CASE over the days (a join with a table of
        # days made PostgreSQL hash every mandate, then sort the whole month to insert it in order)
        day = func.coalesce(m.c.collection_day, m.c.chosen_day)
        ordered = sorted(days.items())
        collection_date = case({d: literal(on, Date) for d, (on, _) in ordered}, value=day)
        batch_id = case({d: literal(batch, String) for d, (_, batch) in ordered}, value=day)
        postgres = self._conn.dialect.name == "postgresql"
        if postgres:
            e2e: ColumnElement[str] = _pg_end_to_end_id(s.c.dossier_id, period)
        else:
            raw = self._conn.connection.driver_connection
            raw.create_function(  # type: ignore[union-attr]
                "gateway_end_to_end_id", 1, debit_end_to_end_id(period), deterministic=True
            )
            e2e = func.gateway_end_to_end_id(s.c.dossier_id, type_=String)
        # SQLite finds each span's mandate by its key (the dossier, in the order the spans are read)
        # only if the reference is kept out of its choice: by the reference's unique index, a hash,
        # each mandate was a random page (1,000,000 of them a run); `|| ''` leaves the test as it is
        reference = m.c.reference if postgres else m.c.reference.concat("")
        chosen = select(
            e2e, s.c.dossier_id, literal(period, String), s.c.amount_cents, collection_date,
            literal("RCUR", String), m.c.reference, m.c.signed_on, m.c.debtor_name, m.c.iban, m.c.bic,
            literal(None, String), s.c.debtor_address, literal(message_id, String), batch_id,
            literal("issued", String), literal(None, String), literal(created_at, t.c.created_at.type),
        ).select_from(s.join(m, m.c.dossier_id == s.c.dossier_id)).where(
            day.in_([d for d, _ in ordered]),
            s.c.first_period <= period, s.c.last_period >= period, s.c.basis == basis,
            s.c.amount_cents > 0,
            s.c.dossier_id.not_in(others),
            m.c.status == STATUS_SIGNED, m.c.first_collection_done == true(), m.c.pending_amendment.is_(None),
            reference == s.c.mandate_reference, m.c.signed_on == s.c.mandate_signed_on,
            m.c.debtor_name == s.c.debtor_name, m.c.iban == s.c.debtor_iban,
            m.c.bic.is_not_distinct_from(s.c.debtor_bic),
            m.c.collection_day.is_not_distinct_from(s.c.collection_day), m.c.chosen_day == s.c.chosen_day,
            exists().where(pa.c.dossier_id == s.c.dossier_id),
            ~exists().where(t.c.dossier_id == s.c.dossier_id, t.c.period == period),
        )  # fmt: skip
        chosen = chosen.order_by(s.c.dossier_id)  # the debits' indexes then take appended keys
        with self._statement_settings():
            statement = (
                insert(t).from_select(_DEBIT_COLUMNS, chosen).execution_options(preserve_rowcount=True)
            )
            issued = self._conn.execute(statement).rowcount
        return int(issued)

    @contextmanager
    def _statement_settings(self) -> Iterator[None]:
        """PostgreSQL, for the spans statement alone (then as they were; bench/README.md,
        "PostgreSQL's monthly statement"):
        merge joins of index scans only: the statement reads every span, its mandate, its payout
        account and its period's debit, all in dossier order by their keys (no hash table, no
        sort; the mandates from their partial covering index, 0017_mandates_collectable, whose
        predicate is this statement's conditions on the mandate). The planner cannot see that: a
        span must equal its mandate on seven columns, so it expects a handful of rows, and chose
        nested loops, or hashes and a sort of the whole month spilled to disk (29 s instead of
        16 s at 1,000,000 debits), or a sort of every mandate (2.6 s)."""
        if self._conn.dialect.name != "postgresql":
            yield
            return
        wanted = {"enable_hashjoin": "off", "enable_nestloop": "off", "enable_sort": "off"}
        before = {n: self._conn.execute(select(func.current_setting(n))).scalar_one() for n in wanted}
        for name, value in wanted.items():
            self._conn.execute(select(func.set_config(name, value, true())))
        yield
        # not on an error: the transaction is then aborted (and rolls the settings back with it)
        for name, value in before.items():
            self._conn.execute(select(func.set_config(name, value, true())))

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
