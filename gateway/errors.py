"""The gateway's error tree, with stable machine-readable codes (no HTTP statuses here).

    GatewayError                      base: carries one or more Issues (code, field, message)
    ├── MalformedPayload              not well-formed XML/JSON, bad encoding
    │   └── UnsupportedMediaType      a media type the path does not take
    ├── PayloadTooLarge               over the configured size limit
    ├── SchemaViolation               well-formed but not valid against the source's schema
    ├── RuleViolation                 a legal or banking rule refuses the content
    │   └── RecordViolation           ... of what the back-office records (a mandate, an account)
    ├── AuthenticationError           no or unknown client certificate (unknown-role)
    ├── ForbiddenRole                 known role, not allowed here (forbidden-role)
    ├── IdempotencyKeyReused          an Idempotency-Key sent again with another payload
    ├── NotFound                      no such dossier, receipt, entry...
    ├── ConfigurationError            settings, keys or certificates missing or wrong
    └── BankChannelError              the bank channel did not take a SEPA file
        ├── SourceFileUnreadable      ... because the recorded file cannot be read
        └── SourceFileChanged         ... because its bytes are not the recorded ones (SHA-256)

Elsewhere: ArchiveCorrupt (gateway.archive.errors), InvalidSignature (gateway.signing.cms).
HTTP statuses are chosen at the edge, in the one table
of gateway.problem, from the error's kind (its class's `default_code`); a kind not there is a 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from gateway.sanitize import xml_safe

# an echoed field path (a sender's own key or element name) is cut to this many characters
MAX_FIELD_CHARS = 256


class Code(StrEnum):
    """Stable error and warning codes (docs/rules.md "Codes"). Add codes; never rename one."""

    MALFORMED_PAYLOAD = "malformed-payload"
    SCHEMA_VIOLATION = "schema-violation"
    PAYLOAD_TOO_LARGE = "payload-too-large"
    TITLE_KIND_NOT_ALLOWED = "title-kind-not-allowed"
    INTERMEDIATION_EXCLUDED = "intermediation-excluded"
    # Retired 2026-12 (docs/contract-changelog.md): never emitted any more; a joint refusal with the
    # violence flag is accepted with the warning `joint-refusal-set-aside` (art. 373-2-2 II C. civ.).
    VIOLENCE_WITH_JOINT_REFUSAL = "violence-with-joint-refusal"
    JOINT_REFUSAL_SET_ASIDE = "joint-refusal-set-aside"  # warning
    BEFORE_GENERALISATION = "before-generalisation"
    TOTALS_MISMATCH = "totals-mismatch"
    INVALID_AMOUNT = "invalid-amount"
    INVALID_DATE = "invalid-date"
    INVALID_IBAN = "invalid-iban"
    INVALID_BIC = "invalid-bic"
    RIB_TOO_OLD = "rib-too-old"
    BANK_DETAILS_WITHOUT_CONSENT = "bank-details-without-consent"
    LATE_TRANSMISSION = "late-transmission"
    UNKNOWN_ROLE = "unknown-role"
    FORBIDDEN_ROLE = "forbidden-role"
    # added by the gateway (not in the original contract table)
    INVALID_NIR = "invalid-nir"
    NOT_CHILD_SUPPORT = "not-child-support"
    PARENTS_NOT_DISTINCT = "parents-not-distinct"
    MISSING_FIELD = "missing-field"
    FIELD_NOT_ALLOWED = "field-not-allowed"
    MISSING_ATTACHMENT = "missing-attachment"  # warning
    NOT_FOUND = "not-found"
    INVALID_INPUT = "invalid-input"  # a query parameter or form field of the console
    CSRF_INVALID = "csrf-invalid"  # a console action without this browser's CSRF token
    CONFIGURATION = "configuration-error"
    # kinds of error (a class's default code) that only the HTTP status table needs by name
    RULE_VIOLATION = "rule-violation"
    RECORD_VIOLATION = "record-violation"
    IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"  # its issues say malformed-payload
    BANK_CHANNEL_FAILED = "bank-channel-failed"
    # signing and archive (gateway.signing.cms, gateway.archive)
    SIGNATURE_INVALID = "signature-invalid"
    ARCHIVE_CORRUPT = "archive-corrupt"
    ARCHIVE_NOT_EMPTY = "archive-not-empty"  # `archive migrate` into a database that has a log
    # SEPA out (issue 5): EPC rulebook rules enforced before writing a pain file
    SEPA_CHARSET = "sepa-charset"
    SEPA_NAME_TOO_LONG = "sepa-name-too-long"
    SEPA_REMITTANCE_TOO_LONG = "sepa-remittance-too-long"
    SEPA_INVALID_IDENTIFIER = "sepa-invalid-identifier"
    SEPA_CURRENCY = "sepa-currency"
    SEPA_AMOUNT_OUT_OF_RANGE = "sepa-amount-out-of-range"
    SEPA_INVALID_CREDITOR_ID = "sepa-invalid-creditor-id"
    SEPA_ADDRESS_UNSTRUCTURED = "sepa-address-unstructured"
    SEPA_ADDRESS_TOO_MANY_LINES = "sepa-address-too-many-lines"
    SEPA_ADDRESS_REQUIRED = "sepa-address-required"
    SEPA_BIC_REQUIRED = "sepa-bic-required"
    # the fund's own address is needed (a party's bank outside the EEA) and not configured
    SEPA_FUND_ADDRESS_REQUIRED = "sepa-fund-address-required"
    SEPA_IBAN_OUTSIDE_SEPA = "sepa-iban-outside-sepa"
    SEPA_INVALID_MANDATE = "sepa-invalid-mandate"
    SEPA_INVALID_DATE = "sepa-invalid-date"
    SEPA_INVALID_PURPOSE = "sepa-invalid-purpose"
    SEPA_XSD_INVALID = "sepa-xsd-invalid"
    # bank reports in (issue 6): pain.002 / camt.054 parsing, reconciliation, amounts table
    AMOUNTS_UNKNOWN = "amounts-unknown"
    # money (issue 11): the amounts table and its operator-added rows
    AMOUNTS_NOT_PUBLISHED = "amounts-not-published"  # a date past the last row's year
    AMOUNTS_INVALID_ROW = "amounts-invalid-row"  # a row of the data file or store breaks the rules
    AMOUNTS_ROW_OUT_OF_SEQUENCE = "amounts-row-out-of-sequence"  # not the year after the last row
    AMOUNTS_ROW_EXISTS = "amounts-row-exists"  # that year's row is there already
    AMOUNTS_MISMATCH = "amounts-mismatch"  # the published figure given does not match the computation
    SEPA_REPORT_UNSUPPORTED = "sepa-report-unsupported"
    SEPA_REPORT_XSD_INVALID = "sepa-report-xsd-invalid"
    SEPA_REPORT_INVALID_AMOUNT = "sepa-report-invalid-amount"
    RECONCILE_UNKNOWN_REFERENCE = "reconcile-unknown-reference"  # warning in a reconciliation report
    RECONCILE_AMOUNT_MISMATCH = "reconcile-amount-mismatch"  # warning
    RECONCILE_DUPLICATE = "reconcile-duplicate"  # warning: same fact reported twice, nothing changed
    RECONCILE_UNEXPECTED_STATUS = "reconcile-unexpected-status"  # warning: e.g. a reject after settlement
    RECONCILE_DUPLICATE_REPORT = "reconcile-duplicate-report"  # warning: the whole report was seen before
    # signed mandates and payout accounts (issue 11): what the back-office records, and what waits
    MANDATE_PENDING = "mandate-pending"  # no signed mandate yet: not debited, listed
    NO_PAYOUT_ACCOUNT = "no-payout-account"  # no recorded payout account: not paid, listed
    INVALID_DEBIT_DAY = "invalid-debit-day"
    INVALID_MANDATE_METHOD = "invalid-mandate-method"
    # revaluation and index values (issue 11): docs/revaluation.md
    INDEX_MISSING = "index-missing"  # a month held: an index value its revaluation needs is unknown
    INDEX_FILE_INVALID = "index-file-invalid"  # `gateway indices import`: not an INSEE series export
    INVALID_PERIOD = "invalid-period"  # a month that is not YYYY-MM, or a range that ends before it starts
    # the stand-in bank (gateway bank simulate): what it is asked to reject must exist
    UNKNOWN_END_TO_END_ID = "unknown-end-to-end-id"
    UNKNOWN_REASON_CODE = "unknown-reason-code"
    # the command line (gateway.cli.failure; exit statuses in docs/install.md)
    USAGE_ERROR = "usage-error"
    IO_ERROR = "io-error"
    DATABASE_UNAVAILABLE = "database-unavailable"
    INTERNAL_ERROR = "internal-error"
    INTERRUPTED = "interrupted"
    NOT_DEAD = "not-dead"  # `deliveries retry` of a delivery that is pending or delivered
    UNHEALTHY = "unhealthy"  # `gateway healthcheck`: the server did not answer 200
    # hold under attack (issue 12)
    LIMIT_EXCEEDED = "limit-exceeded"  # too deep, too many elements, a text or name too long
    UNPROCESSABLE_PAYLOAD = "unprocessable-payload"  # last resort: an input no check foresaw


Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in an input: a stable code, a path into the input, a human message."""

    code: str
    field: str
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        # a path or message may echo the sender's own text (an unexpected key): it must stay
        # encodable in a receipt, a problem document and the canonical XML, whatever was sent
        field = xml_safe(self.field)
        if len(field) > MAX_FIELD_CHARS:
            field = field[:MAX_FIELD_CHARS] + "…"
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "message", xml_safe(self.message))

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose. Carries at least one Issue."""

    default_code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str = "") -> None:
        super().__init__(xml_safe(message))
        self.issues: tuple[Issue, ...] = (Issue(code or self.default_code, field, message),)

    @classmethod
    def from_issues(cls, issues: Iterable[Issue]) -> GatewayError:
        found = tuple(issues)
        if not found:
            raise ValueError("an error needs at least one issue")
        err = cls(found[0].message, code=found[0].code, field=found[0].field)
        err.issues = found
        return err

    @property
    def code(self) -> str:
        return self.issues[0].code

    @property
    def field(self) -> str:
        return self.issues[0].field

    @property
    def message(self) -> str:
        return self.issues[0].message


class MalformedPayload(GatewayError):
    default_code = Code.MALFORMED_PAYLOAD


class PayloadTooLarge(GatewayError):
    default_code = Code.PAYLOAD_TOO_LARGE


class SchemaViolation(GatewayError):
    default_code = Code.SCHEMA_VIOLATION


class RuleViolation(GatewayError):
    default_code = "rule-violation"


class RecordViolation(RuleViolation):
    """A rule refuses what the back-office records for a dossier (a mandate, a payout account)."""

    default_code = Code.RECORD_VIOLATION


class AuthenticationError(GatewayError):
    default_code = Code.UNKNOWN_ROLE


class ForbiddenRole(GatewayError):
    default_code = Code.FORBIDDEN_ROLE


class CsrfRejected(ForbiddenRole):
    """A console action (POST) without the CSRF token this browser and certificate were given."""

    default_code = Code.CSRF_INVALID


class InvalidInput(GatewayError):
    """A query parameter or form field the console cannot use (400)."""

    default_code = Code.INVALID_INPUT


class IdempotencyKeyReused(GatewayError):
    """An Idempotency-Key already used by this sender for another payload (IETF httpapi draft: 422)."""

    default_code = "idempotency-key-reused"


class UnsupportedMediaType(MalformedPayload):
    """A body in a media type the path does not take: its issues say malformed-payload (415)."""

    default_code = Code.UNSUPPORTED_MEDIA_TYPE


class NotFound(GatewayError):
    default_code = Code.NOT_FOUND


class ConfigurationError(GatewayError):
    default_code = Code.CONFIGURATION


class BankChannelError(GatewayError):
    """The bank channel (gateway.infra.bank_channel) did not take a file, or the recorded file
    cannot be sent as signed."""

    default_code = "bank-channel-failed"


class SourceFileUnreadable(BankChannelError):
    """The file a bank channel was given cannot be read: nothing reached the bank."""


class SourceFileChanged(BankChannelError):
    """The bytes a bank channel read are not those whose SHA-256 was recorded (the file changed
    after it was signed): nothing reached the bank, nothing was left in the outbound folder."""


def errors_only(issues: Sequence[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


def warnings_only(issues: Sequence[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "warning"]


#: Codes whose mere presence says that violence was alleged (art. 1074-4 II 10° CPC: a non-detailed
#: flag, personal data). They travel in receipts and dossiers, never in logs next to an id
#: (docs/rules.md "Privacy of the violence flag"). The first one is retired, kept for old receipts.
REVEALS_VIOLENCE = frozenset({"violence-with-joint-refusal", "joint-refusal-set-aside"})


def loggable_code(code: str) -> str:
    """`code`, or a mask when the code alone would reveal the violence flag."""
    return "[masked]" if code in REVEALS_VIOLENCE else code
