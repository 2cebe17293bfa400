"""The error tree carries stable codes and every issue found."""

from gateway.errors import Code, Issue, RuleViolation, SchemaViolation


def test_error_carries_code_field_message() -> None:
    err = SchemaViolation("bad", field="Decision/Date")
    assert (err.code, err.field, err.message) == ("schema-violation", "Decision/Date", "bad")


def test_from_issues_keeps_every_issue() -> None:
    issues = [Issue(Code.TOTALS_MISMATCH, "Totaux", "a"), Issue(Code.INVALID_AMOUNT, "x", "b")]
    err = RuleViolation.from_issues(issues)
    assert isinstance(err, RuleViolation)
    assert err.issues == tuple(issues)
    assert err.code == "totals-mismatch"
