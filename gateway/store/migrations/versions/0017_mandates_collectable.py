"""PostgreSQL: the monthly statement reads the collectable mandates from one index, not their rows
(bench/README.md, "Identifiers compared as bytes, the collectable mandates' index").

The spans statement (gateway.store.profiles.SqlCollection.issue_spans) merge-joins every span
with its mandate in dossier order and compares the mandate's reference, signature date, name,
IBAN, BIC and days with the span's. Read by the primary key, each of a million mandates is a
fetch of its row from the table: about 2 s of the statement at 1,000,000. This partial index
holds exactly those columns for the mandates the statement can take (signed, first collection
done, no pending amendment), in dossier order: an index-only scan, once autovacuum has marked
the table's pages all-visible (mandates change seldom after their first month).

Its predicate is the statement's own conditions on the mandate: if they change, change it too
(tests/store/test_debits_checks.py checks the plan reads it). About 146 MB per million mandates.
SQLite keeps its plan: each mandate found by its key (tests/store/test_spans_store.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_mandates_collectable"
down_revision = "0016_ids_bytewise"
branch_labels = None
depends_on = None

_NAME = "ix_mandates_collectable"
# what the statement compares with the span, and its conditions on the mandate
_COMPARED = ("reference", "signed_on", "debtor_name", "iban", "bic", "collection_day", "chosen_day")
_COLLECTABLE = "status = 'signed' AND first_collection_done = true AND pending_amendment IS NULL"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        _NAME,
        "mandates",
        ["dossier_id"],
        postgresql_include=list(_COMPARED),
        postgresql_where=sa.text(_COLLECTABLE),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(_NAME, table_name="mandates")
