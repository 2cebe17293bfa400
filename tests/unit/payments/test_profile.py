"""The collection profile (gateway.payments.profile): the monthly run's fast path owes exactly what
`gateway.payments.dues.child_dues` owes — same children, same cents, same index used, same months
held — for any dossier, any month and any index table (art. 1074-4 II 5°, 6° and 9° CPC: amount
per child, revaluation clause, end date; art. L. 582-1 I CSS: the fund revalues). Wrong money is
the worst bug the product can have, so this is checked over generated dossiers, not examples."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.payments.dues import ChildDue, child_dues, dossier_terms, terms_dues
from gateway.payments.indices import SILENT_SERIES, IndexTable, IndexValue, month_shift, shipped_values
from gateway.payments.mandates import DebtorAccount, Mandate
from gateway.payments.profile import Decoder, InForceMemo, ProfileOutdated, decode, encode, profile_of
from gateway.payments.revaluation import IndexMissing
from gateway.payments.schedule import Collectable, due_debit, scheduled_day
from gateway.sepa import addresses
from gateway.services.collection import collectable_of
from gateway.services.records import STATUS_SIGNED, MandateRow

DAYS = st.dates(min_value=date(2019, 1, 1), max_value=date(2029, 12, 31))
FIRSTS = st.sampled_from([date(2021, 1, 1), date(2023, 4, 1)]) | DAYS  # shared revaluation dates
# amounts repeat across dossiers (as in a fund): the memo of amounts in force is shared by them
AMOUNTS = st.sampled_from(["150.00", "200.00", "87.55"]) | st.integers(min_value=1, max_value=500_000).map(
    lambda c: f"{c // 100}.{c % 100:02d}"
)
ROUNDINGS = st.sampled_from(
    [None, "", "à l'euro le plus proche", "à l'euro supérieur", "arrondi à l'euro inférieur",
     "au centime", "à l'euro par excès", "Euro par défaut", "sans précision"]
)  # fmt: skip
OTHER_SERIES = "INSEE-000000042"
SERIES = st.sampled_from(["INSEE-001763852", "001763852", "insee 001763852", OTHER_SERIES])
INDEX_TEXT = st.sampled_from(["100", "120.37", "118.830", "99.9"]) | st.decimals(
    min_value=Decimal("50"), max_value=Decimal("250"), places=3
).map(lambda d: format(d, "f"))


def _indexed(series: str, value: str, first: date, rounding: str | None) -> dict[str, Any]:
    return {"mode": "indexed", "index_type": series, "index_value": value,
            "first_revaluation_date": first.isoformat(), "rounding": rounding}  # fmt: skip


def _plain(mode: str) -> dict[str, Any]:
    return {"mode": mode, "index_type": None, "index_value": None,
            "first_revaluation_date": None, "rounding": None}  # fmt: skip


INDEXATIONS = st.one_of(
    st.just("absent"),
    st.none(),
    st.just(_plain("excluded")),
    st.just(_plain("silent")),
    st.builds(_indexed, SERIES, INDEX_TEXT, FIRSTS, ROUNDINGS),
)


def _child(amount: str, effective: date, indexation: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"monthly_amount": amount, "effective_date": effective.isoformat()}
    if indexation != "absent":
        found["indexation"] = indexation
    return found


ADDRESSES = st.one_of(
    st.none(),
    st.builds(
        lambda lines, town: {"lines": lines, "postal_code": "98000", "commune": town, "country": "MC"},
        st.lists(st.text(min_size=1, max_size=90), max_size=4),
        st.text(min_size=1, max_size=40),
    ),
)
DOSSIERS = st.builds(
    lambda title, children, end, address: {
        "dossier_id": "DOS-P",
        "title": {"date": title.isoformat()} if title is not None else {},
        "children": children,
        "end_date": end.isoformat() if end is not None else None,
        "debtor": {"address": address},
    },
    st.one_of(st.none(), DAYS),
    st.lists(st.builds(_child, AMOUNTS, DAYS, INDEXATIONS), min_size=1, max_size=4),
    st.one_of(st.none(), DAYS),
    ADDRESSES,
)
PERIODS = DAYS.map(lambda d: f"{d.year:04d}-{d.month:02d}")


@st.composite
def index_tables(draw: st.DrawFn) -> IndexTable:
    """The shipped values, then generated ones for both series over the years, with gaps (a
    month nobody has: held)."""
    extra = []
    for series in (SILENT_SERIES, OTHER_SERIES):
        for offset in draw(st.sets(st.integers(min_value=0, max_value=12 * 11), max_size=60)):
            value = draw(st.decimals(min_value=Decimal("80"), max_value=Decimal("160"), places=2))
            extra.append(IndexValue(series, month_shift("2018-01", offset), value, "generated"))
    return IndexTable(shipped_values()).over(extra)


def outcome(compute: Any) -> Any:
    """The dues, or what a held month says (code, field, series, period, message)."""
    try:
        return compute()
    except IndexMissing as missing:
        return ("held", missing.code, missing.field, missing.series, missing.period, missing.message)


def reference_collectable(
    data: dict[str, Any], signed: MandateRow, dues: tuple[ChildDue, ...]
) -> Collectable:
    """The collectable as the run built it from the dossier's JSON before collection profiles
    (gateway.services.collection.collectable at commit ad37644), kept here as the oracle."""
    assert signed.signed_on is not None
    start = min(date.fromisoformat(c["effective_date"]) for c in data["children"])
    total = sum(d.due_cents for d in dues)
    start = min((d.owed_from for d in dues if d.owed_from is not None), default=start)
    found = Collectable(
        dossier_id="DOS-P", monthly_total_cents=total, collection_day=signed.collection_day,
        effective_date=start, end_date=None,
        mandate=Mandate(
            signed.reference, signed.signed_on, DebtorAccount(signed.debtor_name, signed.iban, signed.bic)
        ),
        first_collection_done=signed.first_collection_done, chosen_day=signed.chosen_day, amendment=None,
    )  # fmt: skip
    if dues:
        nominal = scheduled_day(dues[0].period, found)
        if nominal < start and (nominal.year, nominal.month) == (start.year, start.month):
            found = replace(found, collection_day=start.day)
    return found


def mandate(collection_day: int | None, chosen_day: int, first_done: bool) -> MandateRow:
    return MandateRow(
        dossier_id="DOS-P", reference="M-1", signed_on=date(2019, 1, 1), debtor_name="DEBITEUR",
        iban="FR7630006000011234567890189", bic=None, collection_day=collection_day,
        chosen_day=chosen_day, first_collection_done=first_done, pending_amendment=None,
        updated_at=date(2019, 1, 1), status=STATUS_SIGNED,  # type: ignore[arg-type]
    )  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(DOSSIERS, min_size=1, max_size=4),
    st.lists(PERIODS, min_size=1, max_size=6),
    index_tables(),
    st.one_of(st.none(), st.integers(min_value=1, max_value=31)),
    st.sampled_from([1, 10, 15]),
)
def test_the_profile_path_owes_what_child_dues_owes(
    dossiers: list[dict[str, Any]],
    periods: list[str],
    table: IndexTable,
    collection_day: int | None,
    chosen_day: int,
) -> None:
    # one decoder and one memo for the whole example, as in a run: shared entries must not leak
    decoder, memo = Decoder(), InForceMemo()
    debtor = mandate(collection_day, chosen_day, first_done=True)
    for data in dossiers:
        text, address = profile_of(data)
        terms = decoder.decode(text)
        assert terms == dossier_terms(data)
        assert address == addresses.to_json(addresses.hybrid_address(data["debtor"]["address"]))
        for period in periods:
            exact = outcome(lambda: child_dues(data, period, table))  # noqa: B023
            fast = outcome(lambda: terms_dues(terms, period, table, memo))  # noqa: B023
            assert fast == exact
            if isinstance(exact, tuple) and exact and isinstance(exact[0], ChildDue):
                # the debit the schedule makes of those dues: same amount, day, sequence
                before = due_debit(period, reference_collectable(data, debtor, exact))
                after = due_debit(period, collectable_of("DOS-P", debtor, fast))
                assert after == before


@given(DOSSIERS)
def test_encode_and_decode_are_inverse(data: dict[str, Any]) -> None:
    terms = dossier_terms(data)
    assert decode(encode(terms)) == terms
    assert encode(decode(encode(terms))) == encode(terms)


def test_the_text_is_short_and_keeps_the_base_index_as_written() -> None:
    data = {
        "title": {"date": "2026-11-16"},
        "end_date": "2040-03-31",
        "children": [
            _child("180.00", date(2026, 12, 1), _indexed("INSEE-001763852", "120.370", date(2027, 12, 1),
                                                         "à l'euro le plus proche")),
            _child("150.00", date(2026, 12, 1), _plain("silent")),
        ],
    }  # fmt: skip
    text = encode(dossier_terms(data))
    assert text == (
        '[1,"2040-03-31",[[18000,"2026-12-01","i","INSEE-001763852","120.370","2027-12-01","euro-nearest"],'
        '[15000,"2026-12-01","s","INSEE-001763852","2026-09","2027-11-16"]]]'
    )
    assert str(decode(text).children[0].clause.base_value) == "120.370"


@pytest.mark.parametrize("text", ["[2,null,[]]", '{"v":1}', '[1,null,[[100,"2026-01-01","?"]]]', "[1,null]"])
def test_a_profile_of_another_version_is_not_read(text: str) -> None:
    with pytest.raises(ProfileOutdated):
        decode(text)


def test_a_document_without_terms_has_no_profile() -> None:
    from gateway.payments.profile import profile_or_none

    assert profile_or_none({"dossier_id": "X"}) is None
    assert profile_or_none({"children": [{"monthly_amount": "abc"}], "debtor": {}}) is None
