"""EPC SEPA character set: EPC217-08 transliteration, rejection of what has no conversion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import Code, RuleViolation
from gateway.sepa.charset import SEPA_CHARACTERS, is_sepa, to_sepa, transliterate


@pytest.mark.parametrize(
    ("raw", "sepa"),
    [
        ("Zoë Lefèvre", "Zoe Lefevre"),
        ("François Ngô", "Francois Ngo"),
        ("Œuvre Ærø", "OEuvre AEro"),
        ("Straße", "Strasse"),
        ("a_b~c", "a-b-c"),  # EPC217-08
        ("[x]{y}", "(x)(y)"),
        ("a\\b|c", "a/b/c"),
        ("x;y", "x,y"),
        ("mail@host#1!", "mail.host.1."),
        ("l`appel", "l'appel"),
        ("Dupont & fils", "Dupont + fils"),
        ("a\u00a0b\tc", "a b c"),  # no-break space, tab
        ("Łódź Dvořák", "Lodz Dvorak"),
        ("Ελένη", "Elene"),  # Greek through unidecode
    ],
)
def test_transliteration(raw: str, sepa: str) -> None:
    assert to_sepa(raw) == sepa


@pytest.mark.parametrize("raw", ["Jean 😀", "a\x00b", "x\x07", "\ufffd"])
def test_what_has_no_conversion_is_rejected(raw: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        to_sepa(raw, "debit.debtor_name")
    assert caught.value.code == Code.SEPA_CHARSET
    assert caught.value.field == "debit.debtor_name"


def test_rejected_characters_are_kept_not_dropped() -> None:
    converted, issues = transliterate("A😀B", "f")
    assert converted == "A😀B"
    assert len(issues) == 1
    assert "position 1" in issues[0].message


@given(st.text(max_size=60))
def test_output_is_always_sepa_or_rejected(raw: str) -> None:
    converted, issues = transliterate(raw, "f")
    if issues:
        assert all(i.code == Code.SEPA_CHARSET for i in issues)
    else:
        assert is_sepa(converted)
        assert set(converted) <= SEPA_CHARACTERS


@given(st.text(alphabet=sorted(SEPA_CHARACTERS), max_size=60))
def test_sepa_text_is_unchanged(raw: str) -> None:
    assert to_sepa(raw) == raw
