"""`gateway serve` refuses bad GATEWAY_* settings with a message naming them, before binding."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gateway.cli import main


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GATEWAY_INTAKE_PROCESSES", "-1"),
        ("GATEWAY_INTAKE_MAX_BATCH", "0"),
        ("GATEWAY_INTAKE_MAX_BATCH_BYTES", "0"),
        ("GATEWAY_GC_YOUNG_THRESHOLD", "ten"),
        ("GATEWAY_PORT", "https"),
    ],
)
def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    done = CliRunner().invoke(main, ["serve"])
    assert done.exit_code == 3  # configuration (gateway.cli.failure)
    assert f"configuration-error: invalid setting(s) {variable}" in done.output
