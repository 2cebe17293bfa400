"""What a dossier's ledger is built from, read from the store in one place (HTTP, CLI, bank import).

The canonical dossier (its children's dues: gateway.payments.dues), its debits with their progress,
the import time of the report that last changed each debit (follow-up deadlines), each debit's
collection date (the day the month fell due: prescription), and the amounts table in force.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Connection, select

from gateway.payments.ledger import Ledger
from gateway.services.records import LedgerInputs
from gateway.store import schema
from gateway.store.amounts import amounts_table
from gateway.store.bank import debit_report_times, dossier_debits
from gateway.store.indices import SqlIndices


def collection_dates(conn: Connection, dossier_id: str) -> dict[str, date]:
    """EndToEndId -> the collection date the debit asked for."""
    d = schema.debits
    query = select(d.c.end_to_end_id, d.c.collection_date).where(d.c.dossier_id == dossier_id)
    return {row.end_to_end_id: row.collection_date for row in conn.execute(query)}


def ledger_inputs(conn: Connection, dossier_id: str) -> LedgerInputs | None:
    """Everything the dossier's ledger needs; None when there is no such dossier."""
    t = schema.dossiers
    canonical = conn.execute(select(t.c.canonical_json).where(t.c.dossier_id == dossier_id)).scalar()
    if canonical is None:
        return None
    return LedgerInputs(
        dossier_id,
        json.loads(canonical),
        list(dossier_debits(conn, dossier_id)),
        debit_report_times(conn, dossier_id),
        collection_dates(conn, dossier_id),
        amounts_table(conn),
        SqlIndices(conn).index_source(),
    )


def read_ledger(conn: Connection, dossier_id: str, *, as_of: date | None) -> Ledger | None:
    """The dossier's ledger as of `as_of`; None when there is no such dossier."""
    inputs = ledger_inputs(conn, dossier_id)
    return None if inputs is None else inputs.ledger(as_of=as_of)
