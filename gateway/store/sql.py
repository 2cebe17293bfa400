"""SQL implementation of the storage ports (SQLAlchemy Core) for SQLite and PostgreSQL.

Insert-or-get: `create_once` and `remember` use INSERT ... ON CONFLICT DO NOTHING on the unique key,
then read the winner's row. On PostgreSQL (READ COMMITTED) a concurrent insert of the same key waits
for the first transaction to end, then sees its committed row; on SQLite write transactions start
with BEGIN IMMEDIATE, so writers are serialised and the second one finds the first one's row.

Outbox order: a feed reader asks for `event_id > cursor`, which is only correct if ids become visible
in id order. A sequence does not guarantee that on PostgreSQL: transaction A takes id 7, B takes id 8
and commits first, a reader moves its cursor to 8 and never sees 7. So events appended in a
transaction are buffered and written at the very end, just before COMMIT, under a transaction-level
advisory lock (`pg_advisory_xact_lock`): ids are allocated and committed by one writer at a time,
and the lock is released only after the commit is visible. Taking the lock last keeps the serialised
part short (a few inserts and the commit) and cannot deadlock, since its holder waits for nothing
else. Gaps left by rolled-back transactions are harmless: the cursor only needs ids to grow. SQLite
serialises writers anyway (BEGIN IMMEDIATE), so there ids follow commit order by construction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Insert, Table, func, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.services.ports import (
    DossierRow,
    EventRow,
    IdempotencyRow,
    NewEvent,
    Profile,
    ReceiptRow,
)
from gateway.store import schema
from gateway.store.bulk import insert_rows
from gateway.store.engine import BEGIN_MODE_OPTION, create_engine_from_url
from gateway.store.migrate import upgrade_to_head
from gateway.store.profiles import save_profile, save_profiles

if TYPE_CHECKING:  # the payment side's repositories import this module: built lazily below
    from gateway.store.indices import SqlIndices
    from gateway.store.mandates import SqlMandates
    from gateway.store.outbox import SqlBankOutbox
    from gateway.store.payments import SqlPayments
    from gateway.store.profiles import SqlCollection
    from gateway.store.repositories import SqlBankReports, SqlLedgers

# Arbitrary constant key of the advisory lock that orders outbox writers on PostgreSQL.
_PG_OUTBOX_LOCK = 0x6761_7465_0002


def _insert_ignoring_conflict(conn: Connection, table: Table, keys: list[str]) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO NOTHING in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    raise NotImplementedError(f"unsupported database {conn.dialect.name!r}")


class SqlDossiers:
    """Dossiers in SQL; one row per dedupe key."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def create_once(self, dossier: DossierRow) -> tuple[DossierRow, bool]:
        t = schema.dossiers
        stmt = _insert_ignoring_conflict(self._conn, t, ["dedupe_key"])
        # RETURNING says whether this insert won; rowcount is not reliable on every driver.
        # Parameters apart from the statement: its SQL is compiled once and cached, not per row.
        inserted = self._conn.execute(stmt.returning(t.c.dossier_id), _fields(dossier))
        if inserted.first() is not None:
            save_profile(self._conn, dossier.dossier_id, dossier.canonical_json)
            return dossier, True
        existing = self.get_by_dedupe_key(dossier.dedupe_key)
        if existing is None:  # pragma: no cover - the conflicting row was deleted meanwhile
            raise RuntimeError("dedupe key conflicted but no dossier holds it")
        return existing, False

    def create_many(
        self, dossiers: Sequence[DossierRow], profiles: Mapping[str, Profile | None] | None = None
    ) -> set[str]:
        if not dossiers:
            return set()
        t = schema.dossiers
        stmt = _insert_ignoring_conflict(self._conn, t, ["dedupe_key"]).returning(t.c.dedupe_key)
        # one INSERT ... VALUES (...), (...) RETURNING for the lot (SQLAlchemy's insertmanyvalues)
        inserted = self._conn.execute(stmt, [_fields(d) for d in dossiers])
        keys = {key for (key,) in inserted}
        # their collection profiles, in the same transaction (0012_collection_profile)
        save_profiles(
            self._conn,
            [(d.dossier_id, d.canonical_json) for d in dossiers if d.dedupe_key in keys],
            made=profiles,
        )
        return keys

    def get(self, dossier_id: str) -> DossierRow | None:
        t = schema.dossiers
        row = self._conn.execute(select(t).where(t.c.dossier_id == dossier_id)).first()
        return None if row is None else DossierRow(**row._mapping)

    def get_by_dedupe_key(self, dedupe_key: str) -> DossierRow | None:
        t = schema.dossiers
        row = self._conn.execute(select(t).where(t.c.dedupe_key == dedupe_key)).first()
        return None if row is None else DossierRow(**row._mapping)

    def set_status(self, dossier_id: str, status: str) -> None:
        t = schema.dossiers
        self._conn.execute(update(t).where(t.c.dossier_id == dossier_id).values(status=status))


class SqlReceipts:
    """Signed receipts in SQL."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, receipt: ReceiptRow) -> None:
        self._conn.execute(schema.receipts.insert(), _fields(receipt))

    def add_many(self, receipts: Sequence[ReceiptRow]) -> None:
        insert_rows(self._conn, schema.receipts, [_fields(r) for r in receipts])

    def get(self, receipt_id: str) -> ReceiptRow | None:
        t = schema.receipts
        row = self._conn.execute(select(t).where(t.c.receipt_id == receipt_id)).first()
        return None if row is None else ReceiptRow(**row._mapping)

    def first_for_dossier(self, dossier_id: str) -> ReceiptRow | None:
        t = schema.receipts
        query = (
            select(t).where(t.c.dossier_id == dossier_id).order_by(t.c.created_at, t.c.receipt_id).limit(1)
        )
        row = self._conn.execute(query).first()
        return None if row is None else ReceiptRow(**row._mapping)


class SqlIdempotency:
    """`Idempotency-Key` records in SQL; one row per (sender, key)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def remember(self, row: IdempotencyRow) -> tuple[IdempotencyRow, bool]:
        t = schema.idempotency_keys
        stmt = _insert_ignoring_conflict(self._conn, t, ["sender", "key"])
        inserted = self._conn.execute(stmt.returning(t.c.key), _fields(row))
        if inserted.first() is not None:
            return row, True
        existing = self.lookup(row.sender, row.key)
        if existing is None:  # pragma: no cover - the conflicting row was deleted meanwhile
            raise RuntimeError("idempotency key conflicted but no row holds it")
        return existing, False

    def remember_many(self, rows: Sequence[IdempotencyRow]) -> None:
        insert_rows(
            self._conn,
            schema.idempotency_keys,
            [_fields(r) for r in rows],
            ignore_conflict_on=["sender", "key"],
        )

    def lookup(self, sender: str, key: str) -> IdempotencyRow | None:
        t = schema.idempotency_keys
        query = select(t).where(t.c.sender == sender, t.c.key == key)
        row = self._conn.execute(query).first()
        return None if row is None else IdempotencyRow(**row._mapping)

    def lookup_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], IdempotencyRow]:
        if not keys:
            return {}
        t = schema.idempotency_keys
        query = select(t).where(tuple_(t.c.sender, t.c.key).in_(sorted(set(keys))))
        rows = (IdempotencyRow(**row._mapping) for row in self._conn.execute(query))
        return {(row.sender, row.key): row for row in rows}


class SqlEvents:
    """The outbox: appended events are buffered and written at commit (see the module docstring)."""

    def __init__(self, conn: Connection, *, writable: bool) -> None:
        self._conn = conn
        self._writable = writable
        self._pending: list[NewEvent] = []

    def append(self, event: NewEvent) -> None:
        if not self._writable:
            raise RuntimeError("events can only be appended in a write transaction")
        self._pending.append(event)

    def flush(self) -> None:
        """Write the buffered events; called by the unit of work just before COMMIT."""
        if not self._pending:
            return
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_OUTBOX_LOCK})
        insert_rows(
            self._conn,
            schema.events,
            [
                {
                    "type": e.type,
                    "dossier_id": e.dossier_id,
                    "payload_json": e.payload_json,
                    "created_at": e.created_at,
                }
                for e in self._pending
            ],
        )
        self._pending.clear()

    def read_after(self, after: int, limit: int) -> Sequence[EventRow]:
        t = schema.events
        query = select(t).where(t.c.event_id > after).order_by(t.c.event_id).limit(limit)
        return [EventRow(**row._mapping) for row in self._conn.execute(query)]

    def last_id(self) -> int:
        value = self._conn.execute(select(func.max(schema.events.c.event_id))).scalar()
        return int(value or 0)


class SqlUnitOfWork:
    """The repositories of one SQL transaction."""

    def __init__(self, conn: Connection, *, writable: bool) -> None:
        self.connection = conn  # for SQL-only repositories (gateway.store.payments)
        self._dossiers = SqlDossiers(conn)
        self._receipts = SqlReceipts(conn)
        self._idempotency = SqlIdempotency(conn)
        self._events = SqlEvents(conn, writable=writable)

    @property
    def dossiers(self) -> SqlDossiers:
        return self._dossiers

    @property
    def receipts(self) -> SqlReceipts:
        return self._receipts

    @property
    def idempotency(self) -> SqlIdempotency:
        return self._idempotency

    @property
    def events(self) -> SqlEvents:
        return self._events

    # The payment side (gateway.services.ports.PaymentsUnitOfWork), made on first use.

    @cached_property
    def payments(self) -> SqlPayments:
        from gateway.store.payments import SqlPayments

        return SqlPayments(self.connection)

    @cached_property
    def mandates(self) -> SqlMandates:
        from gateway.store.mandates import SqlMandates

        return SqlMandates(self.connection)

    @cached_property
    def indices(self) -> SqlIndices:
        from gateway.store.indices import SqlIndices

        return SqlIndices(self.connection)

    @cached_property
    def outbox(self) -> SqlBankOutbox:
        from gateway.store.outbox import SqlBankOutbox

        return SqlBankOutbox(self.connection)

    @cached_property
    def bank_reports(self) -> SqlBankReports:
        from gateway.store.repositories import SqlBankReports

        return SqlBankReports(self.connection)

    @cached_property
    def collection(self) -> SqlCollection:
        from gateway.store.profiles import SqlCollection

        return SqlCollection(self.connection)

    @cached_property
    def ledgers(self) -> SqlLedgers:
        from gateway.store.repositories import SqlLedgers

        return SqlLedgers(self.connection)


class SqlStore:
    """The gateway's store on a SQLAlchemy Engine (implements gateway.services.ports.Store)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[SqlUnitOfWork]:
        with self.engine.connect() as conn:
            conn.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"})
            with conn.begin():
                uow = SqlUnitOfWork(conn, writable=True)
                yield uow
                uow.events.flush()

    @contextmanager
    def read(self) -> Iterator[SqlUnitOfWork]:
        """A read-only transaction: on SQLite it does not take the write lock."""
        with self.engine.connect() as conn, conn.begin():
            yield SqlUnitOfWork(conn, writable=False)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()


def open_sql_store(url: str, *, migrate: bool = True, pool_size: int = 10) -> SqlStore:
    """Connect to `url` and, unless told otherwise, apply the migrations (`upgrade head`)."""
    engine = create_engine_from_url(url, pool_size=pool_size)
    if migrate:
        upgrade_to_head(engine)
    return SqlStore(engine)


def _fields(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__slots__}
