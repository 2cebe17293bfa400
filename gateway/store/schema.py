"""SQLAlchemy Core tables of the gateway's store (the migrations create the same shapes).

Identifiers (dossier, end-to-end, message and batch ids, periods, statuses of debits and credits)
compare as bytes on both backends: SQLite's BINARY, PostgreSQL's "C" collation on those columns
(0016_ids_bytewise), whatever locale the PostgreSQL server was created with."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC datetime on every backend (SQLite keeps no offset, so we store UTC and say so)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: times are tz-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (auto-increment); PostgreSQL gets BIGINT.
EventId = BigInteger().with_variant(Integer(), "sqlite")

dossiers = Table(
    "dossiers",
    metadata,
    Column("dossier_id", String(64), primary_key=True),
    Column("dedupe_key", String(128), nullable=False),
    Column("source_kind", String(16), nullable=False),
    Column("sender", String(256), nullable=False),
    Column("reference", String(256), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("canonical_json", Text(), nullable=False),
    Column("status", String(32), nullable=False),
    UniqueConstraint("dedupe_key", name="uq_dossiers_dedupe_key"),
    Index("ix_dossiers_received_source", "received_at", "source_kind"),  # 0010_console_audit
    Index("ix_dossiers_status", "status"),  # 0010_console_audit
)

receipts = Table(
    "receipts",
    metadata,
    Column("receipt_id", String(64), primary_key=True),
    Column("dossier_id", String(64), ForeignKey("dossiers.dossier_id"), nullable=True, index=True),
    Column("receipt_json", Text(), nullable=False),
    Column("signature", LargeBinary(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_receipts_dossier_created", "dossier_id", "created_at", "receipt_id"),  # 0010_console_audit
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("sender", String(256), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("receipt_id", String(64), ForeignKey("receipts.receipt_id"), nullable=False),
    Column("payload_sha256", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

# AUTOINCREMENT on SQLite: an id is never reused, even after the highest row is deleted.
events = Table(
    "events",
    metadata,
    Column("event_id", EventId, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("dossier_id", String(64), nullable=True, index=True),
    Column("payload_json", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    sqlite_autoincrement=True,
)

# Back-office push (issue 7): one row per (subscription, event), see gateway.store.deliveries.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", EventId, primary_key=True, autoincrement=True),
    Column("subscription", String(256), nullable=False),
    Column("event_id", EventId, ForeignKey("events.event_id"), nullable=False),
    Column("dossier_id", String(64), nullable=True),  # copied from the event: per-dossier order
    Column("status", String(16), nullable=False),  # pending, delivered, dead
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),  # lease of the worker delivering it
    Column("claim_token", String(64), nullable=True),  # fences a worker whose lease ran out
    Column("last_status_code", Integer(), nullable=True),
    Column("last_error", String(512), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime(), nullable=True),
    UniqueConstraint("subscription", "event_id", name="uq_webhook_deliveries_subscription_event"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_dossier", "subscription", "dossier_id", "event_id"),
    Index("ix_webhook_deliveries_status_subscription", "status", "subscription", "attempts"),  # 0010
    sqlite_autoincrement=True,
)

# How far the fan-out has read the outbox for each subscription.
webhook_cursors = Table(
    "webhook_cursors",
    metadata,
    Column("subscription", String(256), primary_key=True),
    Column("last_event_id", EventId, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# SEPA out (issue 5): one mandate per dossier, one debit per (dossier, period), the files emitted,
# and one payout per collected debit. See gateway.store.payments.
mandates = Table(
    "mandates",
    metadata,
    Column("dossier_id", String(64), ForeignKey("dossiers.dossier_id"), primary_key=True),
    Column("reference", String(35), nullable=False),
    # pending until the back-office records the debtor's signature (migration 0005_mandates)
    Column("status", String(16), nullable=False, server_default="pending"),  # pending, signed
    Column("signed_on", Date(), nullable=True),  # EPC016 AT-25; None while pending
    Column("method", String(16), nullable=True),  # paper, electronic
    Column("amended_on", Date(), nullable=True),  # the debtor's last signed change of account
    Column("debtor_name", String(140), nullable=False),
    Column("iban", String(34), nullable=False),
    Column("bic", String(11), nullable=True),
    Column("collection_day", Integer(), nullable=True),  # fixed by the title, else None
    Column("chosen_day", Integer(), nullable=False),  # 1, 10 or 15 (the debtor's choice)
    Column("first_collection_done", Boolean(), nullable=False),
    Column("pending_amendment", Text(), nullable=True),  # JSON, sent with the next debit
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("reference", name="uq_mandates_reference"),
    # PostgreSQL only: ix_mandates_collectable, the collectable mandates (signed, first collection
    # done, no pending amendment) with what the spans statement compares, read without their rows
    # (0017_mandates_collectable, partial and covering: INCLUDE)
)

# What the monthly run reads of a dossier instead of its canonical JSON (0012_collection_profile,
# gateway.payments.profile): written with the dossier at intake, backfilled by the migration.
collection_profiles = Table(
    "collection_profiles",
    metadata,
    Column("dossier_id", String(64), ForeignKey("dossiers.dossier_id"), primary_key=True),
    Column("terms", Text(), nullable=False),  # gateway.payments.profile.encode
    Column("debtor_address", Text(), nullable=True),  # JSON (gateway.sepa.addresses), hybrid
)

# A dossier's steady span (0013_collection_spans, gateway.payments.span): the months after one the
# run computed in full that owe the same amount, with the mandate as that debit had it; the run
# issues a covered month in SQL while the mandate still matches (docs/collection-run.md).
collection_spans = Table(
    "collection_spans",
    metadata,
    Column("dossier_id", String(64), ForeignKey("dossiers.dossier_id"), primary_key=True),
    Column("first_period", String(7), nullable=False),  # YYYY-MM, inclusive
    Column("last_period", String(7), nullable=False),
    Column("amount_cents", BigInteger(), nullable=False),
    Column("basis", String(64), nullable=False),  # gateway.payments.span rules + shipped index values
    Column("mandate_reference", String(35), nullable=False),
    Column("mandate_signed_on", Date(), nullable=False),
    Column("debtor_name", String(140), nullable=False),
    Column("debtor_iban", String(34), nullable=False),
    Column("debtor_bic", String(11), nullable=True),
    Column("collection_day", Integer(), nullable=True),
    Column("chosen_day", Integer(), nullable=False),
    Column("debtor_address", Text(), nullable=True),  # as the debit carries it (non-EEA banks)
)

# The creditor parent's account as the back-office recorded it: payouts go there only.
payout_accounts = Table(
    "payout_accounts",
    metadata,
    Column("dossier_id", String(64), ForeignKey("dossiers.dossier_id"), primary_key=True),
    Column("holder", String(140), nullable=False),
    Column("iban", String(34), nullable=False),
    Column("bic", String(11), nullable=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

debits = Table(
    "debits",
    metadata,
    Column("end_to_end_id", String(35), primary_key=True),
    # a foreign key on SQLite; on PostgreSQL checked once per statement, and dossiers are never
    # deleted (0015_debits_checks: a per-row check read and locked a million dossiers a month)
    Column("dossier_id", String(64), ForeignKey("dossiers.dossier_id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("amount_cents", BigInteger(), nullable=False),
    Column("collection_date", Date(), nullable=False),
    Column("sequence", String(4), nullable=False),
    Column("mandate_reference", String(35), nullable=False),
    # what the file said, so that it can be written again from this row alone
    Column("mandate_signed_on", Date(), nullable=False),
    Column("debtor_name", String(140), nullable=False),
    Column("debtor_iban", String(34), nullable=False),
    Column("debtor_bic", String(11), nullable=True),
    Column("amendment", Text(), nullable=True),  # JSON of gateway.sepa.model.Amendment
    # JSON of gateway.sepa.model.PostalAddress, when the EPC rules need it (0011_sepa_scale)
    Column("debtor_address", Text(), nullable=True),
    Column("message_id", String(35), nullable=False),  # found by ix_debits_message (0015)
    Column("payment_info_id", String(35), nullable=False),
    Column("status", String(16), nullable=False),  # issued, settled, rejected, returned
    Column("reason", String(8), nullable=True),  # EPC/ISO reason code of a reject or return
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("dossier_id", "period", name="uq_debits_dossier_period"),
    # a file's debits in file order, read without a sort (0011_sepa_scale), within a batch by
    # dossier: the run inserts in dossier order, so each batch's entries are appended
    # (0013_collection_spans); the status last, so that the console counts a file's debits by
    # status from the index alone (0015_debits_checks: one index instead of two); on PostgreSQL
    # the status is an included column, not a key (0016_ids_bytewise: a cheaper entry per debit)
    Index("ix_debits_message", "message_id", "sequence", "collection_date", "dossier_id", "status"),
)

payment_files = Table(
    "payment_files",
    metadata,
    Column("message_id", String(35), primary_key=True),
    Column("kind", String(16), nullable=False),  # pain.008 or pain.001
    Column("version", String(32), nullable=False),
    Column("label", String(32), nullable=False),  # the period (debits) or the execution date (credits)
    Column("created_at", UtcDateTime(), nullable=False),
    Column("file_name", String(128), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("count", Integer(), nullable=False),
    Column("total_cents", BigInteger(), nullable=False),
    Column("archive_seq", BigInteger(), nullable=True),
    Column("channel_ref", String(512), nullable=True),
)

credits = Table(
    "credits",
    metadata,
    Column("end_to_end_id", String(35), primary_key=True),
    Column("dossier_id", String(64), ForeignKey("dossiers.dossier_id"), nullable=False),
    Column("debit_end_to_end_id", String(35), ForeignKey("debits.end_to_end_id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("amount_cents", BigInteger(), nullable=False),
    Column("creditor_name", String(140), nullable=False),
    Column("creditor_iban", String(34), nullable=False),
    Column("creditor_bic", String(11), nullable=True),
    # JSON of gateway.sepa.model.PostalAddress, when the EPC rules need it (0011_sepa_scale)
    Column("creditor_address", Text(), nullable=True),
    Column("execution_date", Date(), nullable=False),
    Column("message_id", String(35), nullable=False),  # found by ix_..._message_status (0014)
    Column("payment_info_id", String(35), nullable=False),
    Column("status", String(16), nullable=False),  # issued, settled, rejected, returned
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("debit_end_to_end_id", name="uq_credits_debit"),
    Index("ix_credits_message_status", "message_id", "status"),  # 0010_console_audit
)

# --- bank reports in (issue 6): migration 0004_bank_reports --------------------------------------

bank_reports = Table(
    "bank_reports",
    metadata,
    Column("report_key", String(80), primary_key=True),  # "camt.054:<MsgId>", "pain.002:<MsgId>"
    Column("message", String(32), nullable=False),
    Column("report_id", String(35), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("archive_seq", BigInteger(), nullable=True),
    Column("imported_at", UtcDateTime(), nullable=False),
    Column("summary_json", Text(), nullable=False),
)

# The money side of a debit (debits.status keeps the state for SEPA out's payouts).
debit_progress = Table(
    "debit_progress",
    metadata,
    Column("end_to_end_id", String(35), ForeignKey("debits.end_to_end_id"), primary_key=True),
    Column("state", String(16), nullable=False),  # pending, accepted, settled, rejected, returned
    Column("collected_cents", BigInteger(), nullable=False),
    Column("returned_cents", BigInteger(), nullable=False),
    Column("reason", String(8), nullable=True),  # EPC reason code of the last reject or return
    Column("report_key", String(80), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_debit_progress_report_reason", "report_key", "reason"),  # 0010_console_audit
)

bank_anomalies = Table(
    "bank_anomalies",
    metadata,
    Column("anomaly_id", EventId, primary_key=True, autoincrement=True),
    Column("report_key", String(80), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("code", String(48), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("dossier_id", String(64), nullable=True),
    Column("amount_cents", BigInteger(), nullable=True),
    Column("note", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    sqlite_autoincrement=True,
)

# The archive's log (gateway/archive/log.py, docs/archive.md): entries appended in the transaction
# of the rows they prove; `archive_head` is the one counter row that sequences them.
archive_entries = Table(
    "archive_entries",
    metadata,
    Column("seq", BigInteger(), primary_key=True, autoincrement=False),
    Column("leaf", LargeBinary(), nullable=False),  # canonical entry JSON: the RFC 9162 leaf data
    Column("leaf_hash", LargeBinary(), nullable=False),
)

archive_head = Table(
    "archive_head",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("size", BigInteger(), nullable=False),
)

archive_blobs = Table(
    "archive_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("data", LargeBinary(), nullable=False),
)

archive_checkpoints = Table(
    "archive_checkpoints",
    metadata,
    Column("size", BigInteger(), primary_key=True, autoincrement=False),
    Column("note", Text(), nullable=False),
    Column("cms", LargeBinary(), nullable=False),
)

# --- money (issue 11): migration 0007_amounts ---------------------------------------------------

# Rows of the amounts table an operator added (`gateway amounts add`), shared by every replica; the
# rows shipped with the package are in gateway/payments/data/amounts.json. The amounts of a row are
# computed from its BMAF and rates (gateway.payments.amounts.derive_row), so only those are kept.
amounts_rows = Table(
    "amounts_rows",
    metadata,
    Column("since", Date(), primary_key=True),  # 1 April of the row's year
    Column("bmaf_cents", BigInteger(), nullable=False),
    Column("asf_rate_one_parent", String(16), nullable=False),  # decimal text, e.g. "0.4220"
    Column("asf_rate_both_parents", String(16), nullable=False),
    Column("rsa_single_cents", BigInteger(), nullable=True),
    Column("source", Text(), nullable=False),
    Column("added_at", UtcDateTime(), nullable=False),
)

# --- revaluation (issue 11): migration 0006_indices ------------------------------------------------

# Index values imported by operators (`gateway indices import`), shared by every replica; the
# values shipped as package data are under them (gateway.payments.indices). Values are decimal
# text: exact on every backend.
index_values = Table(
    "index_values",
    metadata,
    Column("series", String(64), primary_key=True),  # INSEE-<idBank>
    Column("period", String(7), primary_key=True),  # YYYY-MM
    Column("value", String(24), nullable=False),
    Column("source", Text(), nullable=False),
    Column("imported_at", UtcDateTime(), nullable=False),
)

# One row per revaluation applied to a child's amount: `pension.revalued` is published once, when
# its row is inserted (by the collection run that first debits the new amount).
revaluations = Table(
    "revaluations",
    metadata,
    Column("dossier_id", String(64), ForeignKey("dossiers.dossier_id"), primary_key=True),
    Column("child", Integer(), primary_key=True),
    Column("revalued_on", Date(), primary_key=True),
    Column("old_cents", BigInteger(), nullable=True),  # None when the previous amount was held
    Column("new_cents", BigInteger(), nullable=False),
    Column("series", String(64), nullable=False),
    Column("base_value", String(24), nullable=False),
    Column("base_period", String(7), nullable=True),
    Column("value", String(24), nullable=False),
    Column("value_period", String(7), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

# --- the operators' console (issue 16): migration 0010_console_audit ------------------------------

# Every console action: who (the operator's certificate), when, what, on what, and how it ended;
# `archive_seq` is the signed copy of the same record in the archive.
console_audit = Table(
    "console_audit",
    metadata,
    Column("audit_id", EventId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("operator_subject", String(512), nullable=False),
    Column("operator_fingerprint", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256), nullable=False),
    Column("outcome", String(64), nullable=False),
    Column("details_json", Text(), nullable=False),
    Column("archive_seq", BigInteger(), nullable=True),
    Index("ix_console_audit_action", "action", "audit_id"),
    sqlite_autoincrement=True,
)

# SEPA files recorded by a run, handed to the bank channel after its commit (gateway.services.emission)
bank_outbox = Table(
    "bank_outbox",
    metadata,
    Column("message_id", String(35), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("file_name", String(128), nullable=False),
    Column("path", Text(), nullable=False),  # the recorded file, as signed and archived
    Column("sha256", String(64), nullable=False),
    Column("signature", LargeBinary(), nullable=False),
    Column("status", String(8), nullable=False),  # pending, sent
    Column("attempts", Integer(), nullable=False),
    Column("last_error", Text(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("channel_ref", String(512), nullable=True),
    Index("ix_bank_outbox_status", "status", "created_at"),
)
