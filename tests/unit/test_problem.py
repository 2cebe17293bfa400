"""The one table where errors meet HTTP statuses (gateway.problem): each kind, and the unmapped 500."""

from __future__ import annotations

import base64
import re
from datetime import date
from pathlib import Path

import pytest

from gateway.archive.errors import ArchiveCorrupt
from gateway.errors import (
    AuthenticationError,
    Code,
    ConfigurationError,
    CsrfRejected,
    ForbiddenRole,
    GatewayError,
    IdempotencyKeyReused,
    InvalidInput,
    Issue,
    MalformedPayload,
    NotFound,
    PayloadTooLarge,
    RecordViolation,
    RuleViolation,
    SchemaViolation,
    UnsupportedMediaType,
)
from gateway.infra.bank_channel import BankChannelError
from gateway.payments.insee_csv import IndexFileInvalid
from gateway.payments.revaluation import IndexMissing
from gateway.payments.schedule_view import InvalidPeriod
from gateway.problem import STATUSES, internal_error, problem, rejection_problem, status_for
from gateway.signing.cms import InvalidSignature

MAPPED: list[tuple[type[GatewayError], int]] = [
    (MalformedPayload, 400),
    (UnsupportedMediaType, 415),
    (SchemaViolation, 400),
    (PayloadTooLarge, 413),
    (RuleViolation, 422),
    (RecordViolation, 422),
    (IdempotencyKeyReused, 422),
    (AuthenticationError, 401),
    (ForbiddenRole, 403),
    (NotFound, 404),
    (ConfigurationError, 500),
    (ArchiveCorrupt, 500),  # the gateway's own storage is damaged: never the caller's fault
    (BankChannelError, 502),  # the bank (upstream) did not take the file
    (InvalidPeriod, 400),  # a schedule's from/to
    (IndexFileInvalid, 400),  # `gateway indices import`
    (CsrfRejected, 403),  # a console action without its token
    (InvalidInput, 400),  # a console form
]


@pytest.mark.parametrize(("cls", "status"), MAPPED, ids=[c.__name__ for c, _ in MAPPED])
def test_each_mapped_kind_has_its_status(cls: type[GatewayError], status: int) -> None:
    error = cls("what went wrong", field="somewhere")
    doc = problem(error, instance="/v1/x")
    assert status_for(error) == doc["status"] == status
    assert doc["type"] == "urn:fr:ifpa:problem:" + error.code
    assert doc["errors"] == [{"code": error.code, "field": "somewhere", "message": "what went wrong"}]
    assert doc["instance"] == "/v1/x"


def test_every_row_of_the_table_is_some_error_class() -> None:
    assert {cls.default_code for cls, _ in MAPPED} | {IndexMissing.default_code} == set(STATUSES)


def test_a_month_held_for_a_missing_index_is_a_409() -> None:
    # docs/revaluation.md: the month is held (never debited at a guessed amount) until the value
    # is imported: a state of the gateway's data, not a fault of the request
    held = IndexMissing("INSEE-001763852", "2026-01", revalued_on=date(2026, 3, 1), field="children[0]")
    assert (status_for(held), problem(held)["status"]) == (409, 409)


def test_status_follows_the_kind_not_the_issue_code() -> None:
    # a rule may report invalid-date, a schema step too: the class decides (422 versus 400)
    assert status_for(RuleViolation("bad date", code=Code.INVALID_DATE)) == 422
    assert status_for(SchemaViolation("bad date", code=Code.INVALID_DATE)) == 400
    # a wrong media type says malformed-payload to the sender, and is a 415
    wrong_type = UnsupportedMediaType("send application/xml", code=Code.MALFORMED_PAYLOAD)
    assert (wrong_type.code, status_for(wrong_type)) == ("malformed-payload", 415)


def test_a_new_kind_under_a_mapped_one_takes_its_parents_status() -> None:
    class SomeNewRule(RuleViolation):
        default_code = "some-new-rule"

    assert status_for(SomeNewRule("no")) == 422


@pytest.mark.parametrize(
    "error",
    [GatewayError("bare"), InvalidSignature("does not verify"), type("Unmapped", (GatewayError,), {})("x")],
    ids=["base", "signature", "new-class"],
)
def test_an_unmapped_error_is_a_500_problem_never_a_400(error: GatewayError) -> None:
    doc = problem(error)
    assert (status_for(error), doc["status"], doc["title"]) == (500, 500, "Internal error")
    assert doc["errors"] == [i.as_dict() for i in error.issues]


def test_problem_lists_every_error_and_keeps_warnings_apart() -> None:
    error = RuleViolation.from_issues(
        [
            Issue(Code.TOTALS_MISMATCH, "Totaux/MontantTotal", "totals disagree"),
            Issue(Code.LATE_TRANSMISSION, "Decision/Date", "late", "warning"),
            Issue(Code.INVALID_AMOUNT, "Enfants/Enfant[1]/MontantMensuel", "not positive"),
        ]
    )
    doc = problem(error)
    assert [e["code"] for e in doc["errors"]] == ["totals-mismatch", "invalid-amount"]
    assert doc["warnings"] == [{"code": "late-transmission", "field": "Decision/Date", "message": "late"}]
    assert doc["detail"] == "2 errors; the first: totals disagree"


def test_rejection_problem_carries_the_signed_receipt_and_its_warnings() -> None:
    receipt = {
        "receipt_id": "RCT-1",
        "status": "rejected",
        "errors": [{"code": "schema-violation", "field": "Decision", "message": "missing"}],
        "warnings": [{"code": "missing-attachment", "field": "PiecesJointes", "message": "none"}],
    }
    error = SchemaViolation("missing", field="Decision")
    doc = rejection_problem(error, receipt, b"\x30\x80sig")
    assert doc["status"] == 400
    assert doc["receipt"] == receipt
    assert base64.b64decode(doc["signature"]) == b"\x30\x80sig"
    assert doc["warnings"] == receipt["warnings"]
    assert list(doc)[-2:] == ["receipt", "signature"]


def test_internal_error_says_nothing_of_the_failure() -> None:
    assert internal_error("/v1/x") == {
        "type": "urn:fr:ifpa:problem:internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "the gateway failed to process the request",
        "errors": [],
        "instance": "/v1/x",
    }


def test_only_the_entry_points_choose_statuses() -> None:
    # Services raise errors and return results; HTTP statuses and problem documents belong to
    # the HTTP edge and the command line (issue 13: "HTTP statuses live in the service layer").
    imports_problem = re.compile(
        r"^\s*(?:from gateway\.problem import|from gateway import problem|import gateway\.problem)", re.M
    )
    package = Path(__file__).resolve().parents[2] / "gateway"
    edges = (package / "cli", package / "transport" / "http", package / "console", package / "problem.py")
    offenders = [
        str(path.relative_to(package))
        for path in sorted(package.rglob("*.py"))
        if not any(path == edge or edge in path.parents for edge in edges)
        and imports_problem.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_problem_lists_the_warnings_it_is_given() -> None:
    late = Issue(Code.LATE_TRANSMISSION, "Decision/Date", "late", "warning")
    doc = problem(SchemaViolation("missing", field="Decision"), warnings=[late])
    assert doc["warnings"] == [late.as_dict()]
    assert "warnings" not in problem(SchemaViolation("missing", field="Decision"), warnings=[])
