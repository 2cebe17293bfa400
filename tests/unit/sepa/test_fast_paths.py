"""The writers' fast paths give the detailed rules' verdict, never a laxer one.

`rules._iban_ok` (one integer mod 97) against `rules.iban_rule` (schwifty's registry and ISO 7064
mod 97-10): # EPC130-08 AT-07, EPC125-05 AT-20, ISO 13616. Generated IBANs of every SEPA country
schwifty knows, valid ones and every kind of damage: a digit changed, two swapped, the check
digits set to 00, 01, 99 or off by 97, lower case, a non-ASCII digit, a character added or cut.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from schwifty import IBAN

from gateway.sepa import rules
from gateway.sepa.countries import SEPA

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
        return next(rules.iban_rule(value, "iban"), None) is None
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
