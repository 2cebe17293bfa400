"""JSON Schema validation of the avocat documents, with errors as JSON paths into the sender's document.

Messages are our own: jsonschema's quote the offending value, which may be a name or a birth date.
Patterns follow ECMA-262 (`$` ends the input), as the vendors' validators read them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import jsonschema
from jsonschema import ValidationError
from jsonschema.protocols import Validator

from gateway.adapters.paths import join, json_path
from gateway.errors import Code, Issue
from gateway.resources import SCHEMAS_DIR

SCHEMA_FILE = SCHEMAS_DIR / "avocat-1.schema.json"
MAX_ISSUES = 100  # as for XML: a hostile document must not become a huge answer
_MAX_KEY_SHOWN = 64  # an unexpected key is echoed in the path, cut to a sane length
# A real transmission holds a few hundred JSON values (an attachment is one string). jsonschema
# costs about 10 µs per value: past this many, the document is refused before it is validated.
MAX_VALUES = 20_000

JSON_TYPES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # ECMA-262 semantics: `$` ends the input. Python's `$` also matches before a final newline,
    # which would let "2026-11-02\n" through.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _compiled(pattern).search(instance):
        yield ValidationError("does not match the pattern")


@cache
def _validator() -> Validator:
    """The avocat JSON Schema, compiled once per process."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": _pattern}
    )
    validator: Validator = cls(schema)
    return validator


def _shown(key: object) -> str:
    text = str(key)
    return text if len(text) <= _MAX_KEY_SHOWN else text[:_MAX_KEY_SHOWN] + "…"


def _messages(err: ValidationError) -> Iterator[Issue]:
    """Our issues for one jsonschema error; never the offending value (it may be personal data)."""
    path = json_path(err.absolute_path)
    keyword, schema = err.validator, err.schema
    value: Any = err.validator_value
    if not isinstance(schema, Mapping):
        schema = {}
    if keyword == "anyOf":  # a nullable value that is not null: what its non-null form says
        for sub in err.context or ():
            branch = sub.relative_schema_path[0] if sub.relative_schema_path else None
            if isinstance(branch, int) and value[branch] != {"type": "null"}:
                yield from _messages(sub)
        return
    if keyword == "required" and isinstance(err.instance, Mapping):
        for key in value:
            if key not in err.instance:
                yield Issue(Code.SCHEMA_VIOLATION, join(path, key, "."), f"the required key {key} is missing")
        return
    if keyword == "additionalProperties" and isinstance(err.instance, Mapping):
        known = schema.get("properties", {})
        for key in err.instance:
            if key not in known:
                yield Issue(Code.SCHEMA_VIOLATION, join(path, _shown(key), "."), "unexpected key")
        return
    if keyword == "type":
        kinds = [value] if isinstance(value, str) else list(value)
        yield Issue(
            Code.SCHEMA_VIOLATION, path, "must be " + " or ".join(JSON_TYPES.get(k, k) for k in kinds)
        )
        return
    if keyword == "const":
        message = f"must be {value}"
    elif keyword == "enum":
        message = "must be one of " + ", ".join(str(v) for v in value)
    elif keyword in {"minimum", "maximum"}:
        message = f"must be from {schema.get('minimum')} to {schema.get('maximum')}"
    elif keyword == "maxLength":
        message = f"must be at most {value} characters long"
    elif keyword == "minLength":
        message = "must not be empty"
    elif keyword == "minItems":
        message = f"must list at least {value} item{'s' if value != 1 else ''}"
    elif keyword == "maxItems":
        message = f"must list at most {value} items"
    elif keyword == "pattern" and "description" in schema:
        message = f"must be {schema['description']}"
    else:
        message = "does not match the schema"
    yield Issue(Code.SCHEMA_VIOLATION, path, message)


def _base64_issues(document: Any) -> Iterator[Issue]:
    """`contenu` must be RFC 4648 base64; JSON Schema cannot check it."""
    pieces = document.get("pieces_jointes") if isinstance(document, dict) else None
    if not isinstance(pieces, list):
        return
    for i, piece in enumerate(pieces):
        content = piece.get("contenu") if isinstance(piece, dict) else None
        if isinstance(content, str) and content:
            try:
                base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                yield Issue(
                    Code.SCHEMA_VIOLATION,
                    f"pieces_jointes[{i}].contenu",
                    "must be base64-encoded content (RFC 4648, no line breaks)",
                )


def _too_many_values(document: Any) -> bool:
    count, stack = 0, [document]
    while stack:
        value = stack.pop()
        count += 1
        if count > MAX_VALUES:
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def schema_issues(document: Any) -> list[Issue]:
    """Every schema error of the document, one per path, at most MAX_ISSUES (then a summary)."""
    if _too_many_values(document):
        message = f"the document holds more than {MAX_VALUES} values; a transmission holds a few hundred"
        return [Issue(Code.SCHEMA_VIOLATION, "", message)]
    issues: list[Issue] = []
    seen: set[str] = set()
    errors = _validator().iter_errors(document)
    found = (issue for err in errors for issue in _messages(err))
    for issue in (*found, *_base64_issues(document)):
        if issue.field in seen:
            continue
        if len(issues) == MAX_ISSUES:
            issues.append(Issue(Code.SCHEMA_VIOLATION, "", "more schema errors follow; not listed"))
            break
        seen.add(issue.field)
        issues.append(issue)
    return issues
