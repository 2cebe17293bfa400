"""The file's transaction read from the file's columns (FileDebit, gateway.store.payments
`file_debits`) is the one `direct_debit` makes of the whole recorded debit."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.sepa import addresses
from gateway.sepa.model import Amendment, PostalAddress
from gateway.services.collection import amendment_json, direct_debit, file_direct_debit
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
    read = FileDebit(*(getattr(row, name) for name in FileDebit._fields))
    assert file_direct_debit(read) == direct_debit(row)
