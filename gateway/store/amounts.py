"""The rows of the amounts table an operator added, in the store so that every replica shares them.

The effective table is the shipped one (gateway/payments/data/amounts.json) with these rows after it
(gateway.payments.amounts.AmountsTable.with_rows: a shipped row wins over an added row of the same
year). Rows are only ever added, never changed: a wrong row is a new release's business, or the
database administrator's, with its trace.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, select

from gateway.errors import Code, RuleViolation
from gateway.payments.amounts import AmountsRow, AmountsTable, derive_row, next_row_check, shipped_table
from gateway.store import schema
from gateway.store.sql import _insert_ignoring_conflict


def added_rows(conn: Connection) -> list[AmountsRow]:
    """The rows operators added, oldest first, computed from their BMAF and rates."""
    t = schema.amounts_rows
    return [
        derive_row(
            row.since,
            int(row.bmaf_cents),
            row.source,
            rsa_single_cents=None if row.rsa_single_cents is None else int(row.rsa_single_cents),
            asf_rate_one_parent=Decimal(row.asf_rate_one_parent),
            asf_rate_both_parents=Decimal(row.asf_rate_both_parents),
        )
        for row in conn.execute(select(t).order_by(t.c.since))
    ]


def amounts_table(conn: Connection) -> AmountsTable:
    """The table in force: shipped rows, then the rows operators added."""
    return shipped_table().with_rows(added_rows(conn))


def add_row(conn: Connection, row: AmountsRow, *, at: datetime) -> AmountsTable:
    """Add the next year's row (checked by `next_row_check`); returns the new table.

    Two operators adding the same year at once: the second insert finds the first one's row
    (ON CONFLICT DO NOTHING) and is refused with `amounts-row-exists`."""
    table = amounts_table(conn)
    if any(existing.since == row.since for existing in table.rows):
        raise RuleViolation(
            f"the amounts table has a row from {row.since.isoformat()} already",
            code=Code.AMOUNTS_ROW_EXISTS,
            field="since",
        )
    next_row_check(table, row)
    t = schema.amounts_rows
    inserted = conn.execute(
        _insert_ignoring_conflict(conn, t, ["since"]).returning(t.c.since),
        {
            "since": row.since,
            "bmaf_cents": row.bmaf_cents,
            "asf_rate_one_parent": str(row.asf_rate_one_parent),
            "asf_rate_both_parents": str(row.asf_rate_both_parents),
            "rsa_single_cents": row.rsa_single_cents,
            "source": row.source,
            "added_at": at,
        },
    )
    if inserted.first() is None:
        raise RuleViolation(
            f"the amounts table has a row from {row.since.isoformat()} already (added meanwhile)",
            code=Code.AMOUNTS_ROW_EXISTS,
            field="since",
        )
    return table.with_rows([row])
