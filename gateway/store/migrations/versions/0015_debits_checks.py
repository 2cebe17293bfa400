"""What each debit a run inserts costs the database, without giving up a guarantee
(bench/README.md, "PostgreSQL's monthly statement").

1. One index for a file's debits instead of two: `ix_debits_message` (message_id, sequence,
   collection_date, dossier_id, status) reads a file's debits in file order, as
   `ix_debits_message_order` did, and answers the console's count of a file's debits by status
   from the index alone, as `ix_debits_message_status` did. One index entry less per debit.

2. PostgreSQL: "no debit without its dossier" is checked once per statement instead of once
   per row. A foreign key runs a trigger for each debit inserted, which reads and locks the
   dossier's row (FOR KEY SHARE): a million dossier rows read and written to the WAL each month,
   13 of the 29 seconds of the spans statement at 1,000,000. Instead:
   - `gateway_debits_have_dossiers`: after each INSERT or COPY into `debits`, one anti-join of
     the statement's new rows (a transition table) against `dossiers`; a debit whose dossier does
     not exist fails the statement with SQLSTATE 23503 (foreign_key_violation), as the foreign
     key would;
   - what the foreign key's lock protected against, a dossier deleted or renamed while a debit
     referring to it is inserted, cannot happen: `gateway_dossiers_kept` refuses to delete a
     dossier or change its id (no part of the gateway does either: a dossier is the evidence its
     receipts, debits and archive entries refer to).
   SQLite keeps its foreign key (its check is a cheap lookup; SQLite has no statement triggers).
"""

from __future__ import annotations

from alembic import op

revision = "0015_debits_checks"
down_revision = "0014_debits_indexes"
branch_labels = None
depends_on = None

_MESSAGE_COLUMNS = ["message_id", "sequence", "collection_date", "dossier_id", "status"]

_HAVE_DOSSIERS = """
CREATE FUNCTION gateway_debits_have_dossiers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    SELECT n.dossier_id INTO missing FROM gateway_new_debits n
    WHERE NOT EXISTS (SELECT 1 FROM dossiers d WHERE d.dossier_id = n.dossier_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a debit refers to dossier %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation', TABLE = 'debits', COLUMN = 'dossier_id';
    END IF;
    RETURN NULL;
END
$$
"""
_HAVE_DOSSIERS_TRIGGER = """
CREATE TRIGGER gateway_debits_have_dossiers AFTER INSERT ON debits
REFERENCING NEW TABLE AS gateway_new_debits
FOR EACH STATEMENT EXECUTE FUNCTION gateway_debits_have_dossiers()
"""
_KEPT = """
CREATE FUNCTION gateway_dossiers_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'dossier % cannot be deleted: debits and receipts refer to it', OLD.dossier_id
            USING ERRCODE = 'restrict_violation', TABLE = 'dossiers';
    END IF;
    RAISE EXCEPTION 'dossier % cannot change its id', OLD.dossier_id
        USING ERRCODE = 'restrict_violation', TABLE = 'dossiers', COLUMN = 'dossier_id';
END
$$
"""
_KEPT_TRIGGERS = (
    "CREATE TRIGGER gateway_dossiers_not_deleted BEFORE DELETE ON dossiers "
    "FOR EACH ROW EXECUTE FUNCTION gateway_dossiers_kept()",
    "CREATE TRIGGER gateway_dossiers_id_kept BEFORE UPDATE OF dossier_id ON dossiers "
    "FOR EACH ROW WHEN (OLD.dossier_id IS DISTINCT FROM NEW.dossier_id) "
    "EXECUTE FUNCTION gateway_dossiers_kept()",
)


def upgrade() -> None:
    op.create_index("ix_debits_message", "debits", _MESSAGE_COLUMNS)
    op.drop_index("ix_debits_message_status", table_name="debits")
    op.drop_index("ix_debits_message_order", table_name="debits")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_KEPT)
    for trigger in _KEPT_TRIGGERS:
        op.execute(trigger)
    op.execute(_HAVE_DOSSIERS)
    op.execute(_HAVE_DOSSIERS_TRIGGER)
    op.drop_constraint("fk_debits_dossier", "debits", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key("fk_debits_dossier", "debits", "dossiers", ["dossier_id"], ["dossier_id"])
        op.execute("DROP TRIGGER gateway_debits_have_dossiers ON debits")
        op.execute("DROP FUNCTION gateway_debits_have_dossiers()")
        op.execute("DROP TRIGGER gateway_dossiers_id_kept ON dossiers")
        op.execute("DROP TRIGGER gateway_dossiers_not_deleted ON dossiers")
        op.execute("DROP FUNCTION gateway_dossiers_kept()")
    op.create_index(
        "ix_debits_message_order", "debits", ["message_id", "sequence", "collection_date", "dossier_id"]
    )
    op.create_index("ix_debits_message_status", "debits", ["message_id", "status"])
    op.drop_index("ix_debits_message", table_name="debits")
