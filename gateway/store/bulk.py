"""Multi-row INSERTs of the intake's hot path, without SQLAlchemy's per-call compilation.

`insert_rows` writes a batch of rows to one table in one statement. On SQLite it sends the SQL
that SQLAlchemy compiles for that table and those columns (compiled once per table, columns and
conflict clause, then kept) straight to the driver's `executemany`, each value converted by its
column type's own bind processor: the same bytes reach the database as through Core, without
the cache-key, compilation-lookup and parameter-processing work Core does on every call
(13 µs of 58 for 8 event rows, measured: bench/README.md, intake, "SQL statements a batch").
Other databases go through Core as before (PostgreSQL batches an executemany INSERT into one
multi-VALUES statement there). Either way the statement goes through the connection, so it is
in the caller's transaction and seen by the engine's events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    columns: tuple[str, ...]  # in the statement's parameter order
    processors: tuple[Callable[[Any], Any] | None, ...]


_CACHE: dict[tuple[str, str, tuple[str, ...], tuple[str, ...] | None], _Compiled] = {}


def insert_statement(dialect_name: str, table: Table, conflict: Sequence[str] | None) -> Insert:
    """INSERT into `table`, ignoring rows whose `conflict` key exists when it is given."""
    if conflict is None:
        return table.insert()
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    if dialect_name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    raise NotImplementedError(f"unsupported database {dialect_name!r}")


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    ignore_conflict_on: Sequence[str] | None = None,
) -> None:
    """INSERT `rows` (every one with the same keys) into `table` in one statement."""
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name != "sqlite":
        conn.execute(insert_statement(dialect.name, table, ignore_conflict_on), list(rows))
        return
    columns = tuple(rows[0])
    conflict = None if ignore_conflict_on is None else tuple(ignore_conflict_on)
    key = (dialect.name, table.name, columns, conflict)
    compiled = _CACHE.get(key)
    if compiled is None:
        compiled = _CACHE[key] = _compile(conn, table, columns, conflict)
    order, processors = compiled.columns, compiled.processors
    params = [
        tuple(
            row[name] if process is None else process(row[name])
            for name, process in zip(order, processors, strict=True)
        )
        for row in rows
    ]
    conn.exec_driver_sql(compiled.sql, params)


def _compile(
    conn: Connection, table: Table, columns: tuple[str, ...], conflict: tuple[str, ...] | None
) -> _Compiled:
    dialect = conn.dialect
    compiled = insert_statement(dialect.name, table, conflict).compile(
        dialect=dialect, column_keys=list(columns)
    )
    order = tuple(compiled.positiontup or ())
    if not compiled.positional or sorted(order) != sorted(columns):  # pragma: no cover - sqlite is qmark
        raise NotImplementedError(f"{dialect.name}: no positional INSERT for {table.name}")
    processors = tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order)
    return _Compiled(str(compiled), order, processors)
