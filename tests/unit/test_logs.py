"""No personal data in log output: names, birth data, IBANs, NIRs or the violence flag."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.logs import RedactingFilter, redact
from gateway.services.intake import IntakeServices, receive
from gateway.signing.cms import Signer
from gateway.store import MemoryStore
from tests.fakes import FakeArchive

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "greffe-1.xml"
PERSONAL = ["Martin", "Julien", "1985-03-14", "185034410912379", "Nantes", "rue de la Fosse"]


def test_intake_logs_ids_and_codes_but_no_personal_data(
    dev_pki: Path, caplog: pytest.LogCaptureFixture
) -> None:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    services = IntakeServices(
        store=MemoryStore(),
        signer=signer,
        archive=FakeArchive(),
        clock=lambda: datetime(2026, 11, 23, tzinfo=UTC),
    )
    data = EXAMPLE.read_bytes()
    assert all(p.encode() in data for p in PERSONAL)  # the example does carry them
    bad = data.replace(b"<TypeTitre>1</TypeTitre>", b"<TypeTitre>4</TypeTitre>")
    with caplog.at_level(logging.DEBUG):
        accepted = receive(services, "greffe", data, sender="greffe:test")
        receive(services, "greffe", data, sender="greffe:test")
        receive(services, "greffe", bad, sender="greffe:test")
    text = caplog.text
    assert accepted.receipt["dossier_id"] in text  # it does log, and usefully
    assert "title-kind-not-allowed" in text
    for value in PERSONAL:
        assert value not in text
    assert "Violences" not in text
    assert "violence_alleged" not in text


@pytest.mark.parametrize(
    ("text", "mask"),
    [
        ("iban FR76 3000 6000 0112 3456 7890 189 end", "[IBAN]"),
        ("iban FR7630006000011234567890189", "[IBAN]"),
        ("nir 1 85 03 44 109 123 79", "[NIR]"),
        ("mail claire.durand@example.fr", "[EMAIL]"),
        ("tel 06 12 34 56 78", "[PHONE]"),
        ("tel +33 6 12 34 56 78", "[PHONE]"),
    ],
)
def test_redact_masks_personal_data_shapes(text: str, mask: str) -> None:
    cleaned = redact(text)
    assert mask in cleaned
    assert text.split(" ", 1)[1].split(" end", maxsplit=1)[0] not in cleaned


def test_filter_rewrites_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("account %s", "FR7630006000011234567890189")
    logger.filters.clear()
    assert "FR76300" not in caplog.text
    assert "[IBAN]" in caplog.text


def test_our_own_identifiers_are_not_masked_as_ibans() -> None:
    # a dossier id is 16 base32 characters: "DOS-FR76…" once read as an IBAN in the serve log
    assert redact("dossier DOS-FR76ABCDEFGHIJKL stored") == "dossier DOS-FR76ABCDEFGHIJKL stored"
    assert redact("iban FR7630006000011234567890189") == "iban [IBAN]"


@given(st.text(alphabet=st.sampled_from("ab.-_+@ 0123456789xyz.fr"), max_size=60))
def test_redact_skipping_the_email_pattern_without_an_at_sign_changes_nothing(text: str) -> None:
    """The shortcut in `redact` (no "@", no e-mail pattern run) gives what running it gives."""
    from gateway.logs import _PATTERNS

    full = text
    for pattern, mask in _PATTERNS:
        full = pattern.sub(mask, full)
    assert redact(text) == full
