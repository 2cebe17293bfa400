"""Text that leaves the gateway (receipts, problems, logs, stdout) must be safe to encode and to quote.

Two rules, applied where such text is made rather than where it is sent:

- `xml_safe`: only characters XML 1.0 allows (§2.2 Char), hence also only characters UTF-8 can
  encode. A lone surrogate (`"\\udc80"` in a JSON key) or U+FFFF echoed in an error message must not
  make the receipt, the canonical XML or the problem document impossible to write.
- `unquoted`: libraries (libxml2, xmlschema) quote the value they refused (`Failed to parse QName
  'DateNaissance:1985-03-14'`); a sent value may be personal data, so quoted parts are replaced.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# the complement of XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# a set of schema values ({'FRST', 'RCUR'}: an enumeration libxml2 lists) first, kept whole
_QUOTED = re.compile(r"(\{'[^']*'(?:, '[^']*')*\})|'[^']*'|\"[^\"]*\"|‘[^’]*’|“[^”]*”")
QUOTED_MASK = "'…'"


def xml_safe(text: str) -> str:
    """`text` with every character XML 1.0 forbids (controls, lone surrogates, U+FFFE/F) as U+FFFD."""
    return _NOT_XML_CHAR.sub(REPLACEMENT, text)


def first_bad_char(text: str) -> int | None:
    """The index of the first character XML 1.0 forbids in `text`, or None."""
    found = _NOT_XML_CHAR.search(text)
    return None if found is None else found.start()


# what libxml2 and xmlschema quote after these words is a name of the schema, never a sent value
_NAMES_AFTER = re.compile(r"(?:element|attribute|type|facet|namespace|tag|node)\s*$", re.IGNORECASE)


def unquoted(message: str) -> str:
    """A library's message with every quoted value masked (it may be a name, an IBAN, a birth date);
    what follows `Element`, `attribute`, `type` or `facet` is a schema name and is kept, and so is
    a set of allowed values (`{'FRST', 'RCUR'}`)."""

    def mask(found: re.Match[str]) -> str:
        if found.group(1):  # the values the schema allows: not the sender's
            return found.group(0)
        before = message[max(0, found.start() - 16) : found.start()]
        return found.group(0) if _NAMES_AFTER.search(before) else QUOTED_MASK

    return _QUOTED.sub(mask, message)
