"""PostgreSQL compares the gateway's identifiers as bytes, as SQLite does, and a file's debits
index keeps its status as a payload (bench/README.md, "Identifiers compared as bytes, the
collectable mandates' index").

1. The identifier columns take the "C" collation: every dossier id, the debits' and credits'
   end-to-end, message and batch ids, periods, sequence types and statuses, the files' and the
   outbox's message ids, the spans' periods. With the database's own collation (whatever locale
   the server was created with: C.UTF-8 on Debian, fr_FR.UTF-8 at a fund), each comparison of two
   ids goes through the C library's `strcoll`: the merge joins of the monthly statement and every
   index entry of its million debits compare dozens of times per debit. Bytes compare with
   `memcmp`. Nothing changes meaning: the ids are ASCII codes, never sorted for a reader, and the
   order is now SQLite's (BINARY), whatever the server's locale. The tables are not rewritten
   (same type), their indexes are rebuilt: about 18 s at 1,000,000 dossiers (bench/README.md).
2. `ix_debits_message` (message_id, sequence, collection_date, dossier_id) keeps `status` as an
   included column instead of a fifth key column: the file order and the console's count of a
   file's debits by status are read from the index as before, and each of a run's entries is
   cheaper to insert (a key of four columns; no deduplication pass, which finds nothing to merge
   among unique keys). SQLite has no included columns and keeps its index as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_ids_bytewise"
down_revision = "0015_debits_checks"
branch_labels = None
depends_on = None

_DOSSIER_TABLES = (
    "bank_anomalies", "collection_profiles", "collection_spans", "credits", "debits", "dossiers",
    "events", "mandates", "payout_accounts", "receipts", "revaluations", "webhook_deliveries",
)  # fmt: skip
_IDS = (
    *((table, "dossier_id") for table in _DOSSIER_TABLES),
    ("debits", "end_to_end_id"), ("debits", "message_id"), ("debits", "payment_info_id"),
    ("debits", "period"), ("debits", "sequence"), ("debits", "status"),
    ("credits", "end_to_end_id"), ("credits", "debit_end_to_end_id"), ("credits", "message_id"),
    ("credits", "payment_info_id"), ("credits", "period"), ("credits", "status"),
    ("debit_progress", "end_to_end_id"), ("payment_files", "message_id"), ("bank_outbox", "message_id"),
    ("collection_spans", "first_period"), ("collection_spans", "last_period"),
)  # fmt: skip
# a trigger naming dossiers.dossier_id (0015_debits_checks) must be dropped while its type
# changes, then created again as it was (its definition read from the database, not copied)
_ID_KEPT = "gateway_dossiers_id_kept"
_KEYS = ["message_id", "sequence", "collection_date", "dossier_id"]


def _collate(collation: str) -> None:
    bind = op.get_bind()
    lengths = {
        (table, column): length
        for table, column, length in bind.exec_driver_sql(
            "SELECT table_name, column_name, character_maximum_length FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        )
    }
    kept = bind.execute(
        sa.text("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = :name"), {"name": _ID_KEPT}
    ).scalar_one()
    op.execute(f"DROP TRIGGER {_ID_KEPT} ON dossiers")
    for table, column in _IDS:
        length = lengths[(table, column)]  # a KeyError here is a schema this migration does not know
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length}) COLLATE "{collation}"')
    op.execute(kept)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite compares text as bytes (BINARY) and has no included columns
    _collate("C")
    op.drop_index("ix_debits_message", table_name="debits")
    op.create_index("ix_debits_message", "debits", _KEYS, postgresql_include=["status"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_debits_message", table_name="debits")
    op.create_index("ix_debits_message", "debits", [*_KEYS, "status"])
    _collate("default")
