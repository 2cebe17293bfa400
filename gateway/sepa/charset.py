"""The EPC SEPA (Latin) character set: transliteration per EPC217-08, rejection of what remains.

Sources:
- EPC130-08 / EPC125-05 implementation guidelines, section 1.4 "Character set": SEPA messages
  use the Latin character set `a-z A-Z 0-9 / - ? : ( ) . , ' + space`.
- EPC217-08 "SEPA Requirements for an Extended Character Set (UNICODE Subset) - Best Practices",
  conversion table to the basic Latin set: accented letters to their base letter, and specific
  replacements for ASCII punctuation outside the set (`_` and `~` to `-`, `[ {` to `(`,
  `\\ |` to `/`, `;` to `,`, a back-quote to an apostrophe, `! # $ % * < = > @ ^` to `.`).

Letters outside Latin-1 are transliterated with `unidecode` (a well-kept library) *before* the
EPC table applies; what is still outside the set afterwards (emoji, control characters, scripts
unidecode cannot render) is rejected with `sepa-charset`, never silently dropped.

>>> to_sepa("Zoë Lefèvre-Œdipe & fils")
'Zoe Lefevre-OEdipe + fils'
>>> to_sepa("Straße 5; bât. C")
'Strasse 5, bat. C'
"""

from __future__ import annotations

import re

from unidecode import unidecode

from gateway.errors import Code, Issue, RuleViolation

SEPA_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
_ALL_SEPA = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")

# EPC217-08 basic-Latin conversion of ASCII characters outside the set.
_EPC217_ASCII: dict[str, str] = {
    "!": ".",
    "#": ".",
    "$": ".",
    "%": ".",
    "*": ".",
    ";": ",",
    "<": ".",
    "=": ".",
    ">": ".",
    "@": ".",
    "[": "(",
    "\\": "/",
    "]": ")",
    "^": ".",
    "_": "-",
    "`": "'",
    "{": "(",
    "|": "/",
    "}": ")",
    "~": "-",
    # Not in the EPC table (XML-reserved there); our choice, documented: keep the meaning.
    "&": "+",
    '"': "'",
}


def is_sepa(text: str) -> bool:
    """True when every character of `text` is in the SEPA Latin set."""
    return _ALL_SEPA.fullmatch(text) is not None


def _convert_char(char: str) -> str | None:
    if char in SEPA_CHARACTERS:
        return char
    if char in _EPC217_ASCII:
        return _EPC217_ASCII[char]
    if char.isspace():  # tabs, NBSP, line breaks: EPC217-08 maps NBSP to a space
        return " "
    if char.isascii():  # ASCII control characters
        return None
    latin = unidecode(char)
    if not latin:
        return None
    out = "".join(_EPC217_ASCII.get(c, c) for c in latin)
    return out if is_sepa(out) else None


def transliterate(text: str, field: str = "") -> tuple[str, list[Issue]]:
    """Convert `text` to the SEPA set; issues list each character that has no conversion
    (those characters are kept unchanged in the returned text, never dropped)."""
    if is_sepa(text):  # fast path: nearly every real value is already plain
        return text, []
    parts: list[str] = []
    issues: list[Issue] = []
    for index, char in enumerate(text):
        converted = _convert_char(char)
        if converted is None:
            issues.append(
                Issue(
                    Code.SEPA_CHARSET,
                    field,
                    f"character U+{ord(char):04X} at position {index} has no SEPA (EPC217-08) conversion",
                )
            )
            parts.append(char)  # kept so that a later check still sees it
        else:
            parts.append(converted)
    return "".join(parts), issues


def to_sepa(text: str, field: str = "") -> str:
    """Convert `text` to the SEPA set or raise RuleViolation(`sepa-charset`)."""
    converted, issues = transliterate(text, field)
    if issues:
        raise RuleViolation.from_issues(issues)
    return converted
