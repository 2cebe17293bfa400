"""The writers' fast paths give the detailed rules' verdict, never a laxer one.

`rules.debit_is_clean` / `credit_is_clean` on raw transactions (True: normalized and clean
already, neither normalized again nor checked in detail) against `normalize_*` and `check_*`;
`debit_renderer` against `debit_xml`; and `rules._iban_ok` (one integer mod 97) against
`rules._iban_issues` (schwifty's registry and ISO 7064 mod 97-10): # EPC130-08 AT-07, EPC125-05
AT-20, ISO 13616. Generated IBANs of every SEPA country schwifty knows, valid ones and every kind
of damage: a digit changed, two swapped, the check digits set to 00, 01, 99 or off by 97, lower
case, a non-ASCII digit, a character added or cut.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schwifty import IBAN

from gateway.errors import Code, RuleViolation
from gateway.sepa import pain001, pain008, rules
from gateway.sepa.countries import SEPA
from gateway.sepa.model import CreditTransfer, DirectDebit, PostalAddress, SequenceType
from gateway.sepa.pain008 import debit_renderer, debit_xml, write_pain008
from tests.unit.sepa.samples import DEBIT_HEADER, FUND, credit, debit, source
from tests.unit.sepa.test_properties import debits

# one real-shaped IBAN per country: schwifty computes the check digits of a BBAN of the right form
_SAMPLE_BBANS = {
    "FR": "30006000011234567890189",
    "DE": "370400440532013000",
    "IT": "X0542811101000000123456",
    "GB": "NWBK60161331926819",
    "CH": "00762011623852957",
    "MC": "11222000010123456789030",
    "SM": "U0322509800000000270100",
    "AD": "00012030200359100100",
    "VA": "001123000012345678",
    "BE": "539007547034",
    "NL": "ABNA0417164300",
    "ES": "21000418450200051332",
    "PT": "000201231234567890154",
    "MT": "MALT011000012345MTLCAST001S",
    "LI": "088100002324013AA",
    "NO": "86011117947",
    "RS": "260005601001611379",
    "FR-letters": "20041010050500013M02606",
}


def _with_check(country: str, bban: str) -> str:
    """ISO 7064 mod 97-10 check digits, computed here on their own (98 - n * 100 mod 97)."""
    number = int((bban + country).translate(rules._IBAN_LETTERS)) * 100
    return f"{country}{98 - number % 97:02d}{bban}"


VALID = [_with_check(key[:2], bban) for key, bban in _SAMPLE_BBANS.items()]


def _slow_ok(value: str) -> bool | None:
    """The detailed rule's verdict; None when schwifty itself cannot read the value."""
    try:
        return next(rules._iban_issues(value, "iban"), None) is None
    except (KeyError, ValueError):
        return None


def test_every_sample_is_valid_for_both() -> None:
    for value in VALID:
        assert _slow_ok(value) is True, value
        assert rules._iban_ok(value), value
        assert IBAN(value).in_sepa_zone or value[:2] in SEPA.all


_damage = st.sampled_from(
    ["digit", "swap", "check00", "check01", "check99", "check+97", "lower", "arabic", "add", "cut", "country"]
)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(VALID), _damage, st.integers(min_value=0, max_value=40), st.integers(0, 9))
def test_the_fast_iban_check_never_accepts_what_the_rule_refuses(
    value: str, damage: str, where: int, digit: int
) -> None:
    position = 4 + where % (len(value) - 4)
    if damage == "digit":
        value = value[:position] + str(digit) + value[position + 1 :]
    elif damage == "swap" and position + 1 < len(value):
        value = value[:position] + value[position + 1] + value[position] + value[position + 2 :]
    elif damage.startswith("check"):
        if damage == "check+97":
            check = int(value[2:4]) + 97
            value = value[:2] + (str(check) if check < 100 else value[2:4]) + value[4:]
        else:
            value = value[:2] + damage[5:] + value[4:]
    elif damage == "lower":
        value = value[:4] + value[4:].lower()
    elif damage == "arabic":
        value = value[:position] + "\u0663" + value[position + 1 :]
    elif damage == "add":
        value = value[:position] + str(digit) + value[position:]
    elif damage == "cut":
        value = value[:position] + value[position + 1 :]
    else:
        value = ["XK", "NC", "US", "ZZ", "fr", "F1"][digit % 6] + value[2:]
    slow = _slow_ok(value)
    fast = rules._iban_ok(value)
    if slow is None:  # schwifty cannot read it: the fast path must not accept it either
        assert not fast, value
    else:
        assert fast == slow, value


# --- is_clean: "normalized and clean already" --------------------------------------------

_raw_text = st.text(
    alphabet=st.sampled_from([*"abcXYZ09 /-?:().,'+", "é", "ß", "&", "_", "\t", "\n"]), max_size=80
)
_raw_bic = st.sampled_from(
    [None, "AGRIFRPP", "agrifrpp", "AGRI FRPP", "COBADEFFXXX", "NOTABIC!", "UBSWCHZH80A"]
)
_raw_iban = st.sampled_from(
    [
        *VALID,
        "FR76 3000 6000 0112 3456 7890 189",
        "fr7630006000011234567890189",
        "FR0030006000011234567890189",
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    name=_raw_text,
    remittance=st.none() | _raw_text,
    bic=_raw_bic,
    iban=_raw_iban,
    identifier=st.sampled_from(["E2E-1", "/E2E", "E2E//1", " E2E", "E" * 36, "E2E-é", "E2E\n1", "E2E/"]),
    cents=st.integers(min_value=-1, max_value=10**12),
    address=st.none() | st.just(PostalAddress("CH", "Zurich")),
)
def test_clean_means_normalizing_changes_nothing_and_the_rules_find_nothing(
    name: str, remittance: str | None, bic: str | None, iban: str, identifier: str, cents: int,
    address: PostalAddress | None,
) -> None:  # fmt: skip
    """# EPC130-08 / EPC125-05 (every rule of check_debit / check_credit): the writers skip the
    normalization and the detailed rules of a clean transaction, so `is_clean` must never be laxer."""
    item = debit(
        end_to_end_id=identifier, debtor_name=name, remittance=remittance, debtor_bic=bic,
        debtor_iban=iban, amount_cents=cents, debtor_address=address,
    )  # fmt: skip
    if rules.debit_is_clean(item):
        assert rules.normalize_debit(item) is item
        assert rules.check_debit(item) == []
    payout = credit(
        end_to_end_id=identifier, creditor_name=name, remittance=remittance, creditor_bic=bic,
        creditor_iban=iban, amount_cents=cents, creditor_address=address,
    )  # fmt: skip
    if rules.credit_is_clean(payout):
        assert rules.normalize_credit(payout) is payout
        assert rules.check_credit(payout) == []


def test_the_plain_debits_of_a_run_are_clean_as_they_come() -> None:
    """The fast path is the usual path: a debit as the store returns it is clean."""
    assert rules.debit_is_clean(debit())
    assert rules.debit_is_clean(debit(debtor_bic=None))
    assert rules.credit_is_clean(credit())
    assert not rules.debit_is_clean(debit(debtor_bic="agrifrpp"))  # normalizing would change it


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["plain", "accent", "lower-bic", "spaced-iban", "amp"]), min_size=1, max_size=40)
)
def test_pass_two_normalizes_exactly_what_pass_one_did(kinds: list[str]) -> None:
    """The two-pass writer renders each transaction as normalized in pass 1 (only the ones that
    normalizing changed are normalized again): the file equals the one written from transactions
    normalized beforehand, whatever the mix."""
    changes: dict[str, dict[str, object]] = {
        "plain": {},
        "accent": {"debtor_name": "Hélène Dupré"},
        "lower-bic": {"debtor_bic": "agrifrpp"},
        "spaced-iban": {"debtor_iban": "FR76 3000 6000 0112 3456 7890 189"},
        "amp": {"remittance": "Pension & frais"},
    }
    items = [debit(f"D-{i:04d}", **changes[kind]) for i, kind in enumerate(kinds)]
    written, expected = io.BytesIO(), io.BytesIO()
    write_pain008(written, DEBIT_HEADER, FUND, source(items))
    write_pain008(expected, DEBIT_HEADER, FUND, source([rules.normalize_debit(d) for d in items]))
    assert written.getvalue() == expected.getvalue()
    assert b"Helene Dupre" in written.getvalue() or "accent" not in kinds


@settings(max_examples=300, deadline=None)
@given(debits(), st.booleans(), st.sampled_from(["", "&", "<b>", "x>y"]))
def test_the_renderer_writes_what_debit_xml_writes(item: DirectDebit, v08: bool, extra: str) -> None:
    """One format string for the usual debit, `debit_xml` for the rest: the same text always
    (an address, an amendment, a character to escape, any field order of DirectDebit)."""
    for candidate in (item, rules.normalize_debit(item), item._replace(debtor_name=item.debtor_name + extra)):
        assert debit_renderer(v08=v08)(candidate) == debit_xml(candidate, v08=v08)


def test_pass_two_refuses_a_source_that_grew_or_moved() -> None:
    """The one loop per batch keeps the recount: a transaction more (after the last batch, or in
    a batch) on the second read stops the file with `totals-mismatch`."""
    first = [debit("D-1"), debit("D-2", sequence=SequenceType.FRST)]
    for second in (
        [*first, debit("D-3", collection_date=date(2026, 11, 20))],  # after the last planned batch
        [first[0], debit("D-9"), first[1]],  # one more in the first batch
        [first[1], first[0]],  # the batches' order moved
    ):
        reads = iter([first, second])

        def factory(reads: Iterator[list[DirectDebit]] = reads) -> Iterator[DirectDebit]:
            return iter(next(reads))

        with pytest.raises(RuleViolation) as caught:
            write_pain008(io.BytesIO(), DEBIT_HEADER, FUND, factory)
        assert caught.value.code == Code.TOTALS_MISMATCH


def test_the_all_digit_shortcut_is_only_for_countries_whose_bban_admits_digits_everywhere() -> None:
    """France's BBAN is runs of digits and letters-or-digits: an all-digit IBAN skips the pattern
    match. The United Kingdom's starts with four letters: an all-digit one, even with good check
    digits, is refused by both the fast path and the detailed rule (ISO 13616, # EPC130-08 AT-07)."""
    assert rules._iban_format("FR")[3] is True
    assert rules._iban_format("GB")[3] is False
    all_digits_gb = _with_check("GB", "1234" + "56" * 7)
    assert len(all_digits_gb) == 22
    assert not rules._iban_ok(all_digits_gb)
    assert _slow_ok(all_digits_gb) is False
    french = _with_check("FR", "3000600001" + "12345678901" + "89")
    assert rules._iban_ok(french)
    assert _slow_ok(french) is True
    # check digits 00, 01, 99 never come out of ISO 7064 mod 97-10, even when mod 97 says 1
    for check in ("00", "01", "99"):
        assert not rules._iban_ok(french[:2] + check + french[4:])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(SequenceType)), st.dates(), st.dates())
def test_the_writers_cheap_batch_keys_equal_the_batch_keys(
    sequence: SequenceType, day: date, other: date
) -> None:
    """`Spec.same_key` stands for `batch_key` in the writing loop's comparisons with the plan."""
    debit = DirectDebit("E2E", 100, "M", day, sequence, day, "N", "FR7630006000011234567890189")
    assert pain008.DEBIT_SPEC.same_key is not None
    assert pain008.DEBIT_SPEC.same_key(debit) == debit.batch_key
    assert (pain008.DEBIT_SPEC.same_key(debit) == (str(sequence), other)) == (
        debit.batch_key == (str(sequence), other)
    )
    credit = CreditTransfer("E2E", 100, day, "N", "FR7630006000011234567890189")
    assert pain001.CREDIT_SPEC.same_key is not None
    assert pain001.CREDIT_SPEC.same_key(credit) == credit.batch_key
