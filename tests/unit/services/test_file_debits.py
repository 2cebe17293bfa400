"""The file's transaction of a recorded debit, from its whole row (`direct_debit`, the computed
path) or from the file's columns alone (FileDebit, gateway.store.payments `file_debits`), says
what the row says: each field of the pain.008 transaction from its column, by name."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.sepa import addresses
from gateway.sepa.model import Amendment, DirectDebit, PostalAddress, SequenceType
from gateway.services.collection import amendment_json, direct_debit, file_direct_debit, remittance
from gateway.services.records import DebitRow, FileDebit

TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=0x17F), max_size=40)
ADDRESSES = st.none() | st.builds(
    PostalAddress, country=st.sampled_from(["CH", "MC", "FR"]), town=TEXT, postcode=st.none() | TEXT,
    street=st.none() | TEXT,
).map(addresses.to_json)  # fmt: skip
AMENDMENTS = st.none() | st.builds(
    Amendment, original_mandate_id=st.none() | TEXT, original_debtor_iban=st.none() | TEXT,
    new_debtor_agent=st.booleans(),
).map(amendment_json)  # fmt: skip
ROWS = st.builds(
    DebitRow,
    end_to_end_id=TEXT, dossier_id=TEXT, period=st.sampled_from(["2026-12", "2027-01"]),
    amount_cents=st.integers(1, 10**9), collection_date=st.dates(date(2026, 1, 1), date(2030, 1, 1)),
    sequence=st.sampled_from(["FRST", "RCUR", "OOFF", "FNAL"]), mandate_reference=TEXT,
    mandate_signed_on=st.dates(date(2020, 1, 1), date(2026, 1, 1)), debtor_name=TEXT, debtor_iban=TEXT,
    debtor_bic=st.none() | TEXT, amendment=AMENDMENTS, message_id=TEXT, payment_info_id=TEXT,
    status=st.just("issued"), reason=st.none(), created_at=st.just(datetime(2026, 12, 6, tzinfo=UTC)),
    debtor_address=ADDRESSES,
)  # fmt: skip


@given(ROWS)
def test_a_file_s_transaction_is_the_recorded_debit_s(row: DebitRow) -> None:
    said = DirectDebit(
        end_to_end_id=row.end_to_end_id,
        amount_cents=row.amount_cents,
        mandate_id=row.mandate_reference,
        mandate_signed_on=row.mandate_signed_on,
        sequence=SequenceType(row.sequence),
        collection_date=row.collection_date,
        debtor_name=row.debtor_name,
        debtor_iban=row.debtor_iban,
        debtor_bic=row.debtor_bic,
        debtor_address=addresses.from_json(row.debtor_address),
        remittance=remittance(row.dossier_id, row.period),
        amendment=Amendment(**json.loads(row.amendment)) if row.amendment else None,
    )
    read = FileDebit(*(getattr(row, name) for name in FileDebit._fields))
    assert file_direct_debit(read) == said
    assert direct_debit(row) == said
