"""The operators' console in a real headless Chromium holding nothing but the operator's PKCS#12.

Scenario (issue 16): the operator opens the dashboard, finds a refused title and its errors, opens
a dossier and reads its ledger chart, acts on its mandate, retries a dead delivery; every page
passes axe-core with no serious or critical violation; a greffe certificate gets 403.
Screenshots of the dashboard and of a dossier go to var/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec as ec_keys
from cryptography.hazmat.primitives.serialization import pkcs12
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from gateway.devtools.pki import OPERATOR_P12_PASSWORD, init_dev_pki
from gateway.store import schema
from tests.console.browser import AXE, axe_violations, chromium, import_pkcs12, tools_missing
from tests.console.seed import NEW_IBAN, Seeded, seed
from tests.e2e.harness import free_port, running_server

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"
CA_CN = "IFPA gateway dev CA"

if tools_missing():  # pragma: no cover - `make test` and .ci/run install them
    pytest.fail(f"missing {tools_missing()}: run `make sysdeps` (scripts/ensure-sysdeps)", pytrace=False)
if not AXE.is_file():  # pragma: no cover
    pytest.fail(f"{AXE} missing: run `make sysdeps` (scripts/ensure-axe)", pytrace=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Seeded, str, Path]]:
    tmp = tmp_path_factory.mktemp("console-browser")
    pki = tmp / "pki"
    init_dev_pki(pki)
    seeded = seed(tmp, pki)
    try:
        with running_server(seeded.app, pki) as base:
            yield seeded, base, pki
    finally:
        seeded.close()


def ec_wait(driver: Chrome, fragment: str) -> None:
    WebDriverWait(driver, 10).until(ec.url_contains(fragment))


def _page_ok(driver: Chrome, name: str) -> None:
    violations = axe_violations(driver)
    report = [
        (v["id"], v["impact"], v.get("description"), [n.get("target") for n in v["nodes"]][:3])
        for v in violations
    ]
    assert not violations, f"{name}: {json.dumps(report, indent=1)}"


def _screenshot(driver: Chrome, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(int(height), 800), 4000))
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1600)
    return path


def test_operator_scenario(world: tuple[Seeded, str, Path], tmp_path: Path) -> None:
    seeded, base, pki = world
    import_pkcs12(tmp_path, pki / "operator.p12", OPERATOR_P12_PASSWORD, trust_issuer_cn=CA_CN)
    with chromium(tmp_path, origin=base, issuer_cn=CA_CN) as driver:
        # the dashboard, reached with the imported certificate alone
        driver.get(base + "/console/")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Tableau de bord"
        assert "CN=operator" in driver.find_element(By.CLASS_NAME, "who").text
        _page_ok(driver, "dashboard")
        shot = _screenshot(driver, "console-dashboard.png")
        assert shot.stat().st_size > 10_000

        # the refused title, its errors in the sender's own paths, and the archived payload
        driver.find_element(By.LINK_TEXT, seeded.refused_receipt).click()
        ec_wait(driver, "/refused/")
        errors = driver.find_element(By.CSS_SELECTOR, "table.errors").text
        assert "invalid-iban" in errors
        assert "IBAN" in errors  # the notaire's own element path
        assert "signature valide" in driver.page_source
        _page_ok(driver, "refused title")
        driver.get(base + "/console/refused?source=notaire&code=invalid-iban")
        assert seeded.refused_receipt in driver.page_source
        _page_ok(driver, "refused titles")

        # a dossier, found from the dashboard's form; its ledger chart says due 210, paid 0, ASF
        driver.get(base + "/console/")
        driver.find_element(By.ID, "dossier-id").send_keys(seeded.rejected_dossier)
        driver.find_element(By.CSS_SELECTOR, "form[action='/console/dossiers'] button").click()
        ec_wait(driver, seeded.rejected_dossier)
        bars = {
            bar.get_attribute("data-series"): float(bar.get_attribute("data-value") or "nan")
            for bar in driver.find_elements(By.CSS_SELECTOR, "#ledger-chart rect.bar")
            if bar.get_attribute("data-category") == "2026-12"
        }
        assert bars == {"Dû": 210.0, "Payé": 0.0, "ASF avancée": 201.99}  # one child's ASF (L. 523-1 CSS)
        assert driver.find_element(By.ID, "violence").text == "non"
        assert "20041010050500013" not in driver.page_source  # IBANs masked but for their last 4
        _page_ok(driver, "dossier")
        _screenshot(driver, "console-dossier.png")

        # the greffe's dossier waits for its debtor's signature: the operator records it
        driver.get(base + f"/console/dossiers/{seeded.accepted['greffe']}")
        assert "en attente" in driver.find_element(By.ID, "mandate-status").text
        driver.find_element(By.ID, "sig-holder").send_keys("M. Julien Martin")
        driver.find_element(By.ID, "sig-iban").send_keys(NEW_IBAN)
        driver.find_element(By.ID, "sig-bic").send_keys("AGRIFRPP")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/mandate/signature'] button").click()
        ec_wait(driver, "/mandate/signature")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Confirmez l'action"
        assert NEW_IBAN not in driver.find_element(By.TAG_NAME, "main").text  # shown masked
        _page_ok(driver, "confirmation")
        driver.find_element(By.ID, "confirm").click()
        ec_wait(driver, "done=")
        assert "Action effectuée et archivée" in driver.find_element(By.CSS_SELECTOR, "p.notice").text
        assert driver.find_element(By.ID, "mandate-status").text == "signé"
        assert driver.find_element(By.CSS_SELECTOR, "#mandate-facts .iban").text.endswith("0189")

        # the dead delivery, retried with confirmation
        driver.get(base + "/console/deliveries")
        _page_ok(driver, "deliveries")
        driver.find_element(By.CSS_SELECTOR, f"#dead button[aria-label$='#{seeded.dead_delivery}']").click()
        ec_wait(driver, "/retry")
        driver.find_element(By.ID, "confirm").click()
        ec_wait(driver, "done=")
        assert driver.find_element(By.CSS_SELECTOR, "p.notice")
        d = schema.webhook_deliveries
        with seeded.gateway.store.read() as uow:
            status = uow.connection.execute(
                select(d.c.status).where(d.c.delivery_id == seeded.dead_delivery)
            ).scalar_one()
        assert status == "pending"

        # the other pages
        for path, name in (("/console/collections", "collections"), ("/console/archive?seq=0", "archive")):
            driver.get(base + path)
            _page_ok(driver, name)
        driver.get(base + "/console/refused?code=NOT+A+CODE")
        assert "invalid-input" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
        _page_ok(driver, "refused action page")
        driver.get(base + "/console/audit")
        audit = driver.find_element(By.ID, "audit").text
        assert "deliveries.retry" in audit
        assert "mandate.record-signature" in audit
        _page_ok(driver, "audit")


def test_greffe_certificate_gets_403(world: tuple[Seeded, str, Path], tmp_path: Path) -> None:
    _seeded, base, pki = world
    key = serialization.load_pem_private_key((pki / "greffe-key.pem").read_bytes(), password=None)
    assert isinstance(key, ec_keys.EllipticCurvePrivateKey)
    cert = x509.load_pem_x509_certificate((pki / "greffe.pem").read_bytes())
    ca = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    bundle = pkcs12.serialize_key_and_certificates(
        b"greffe",
        key,
        cert,
        [ca],
        serialization.BestAvailableEncryption(b"pw"),
    )
    (tmp_path / "greffe.p12").write_bytes(bundle)
    import_pkcs12(tmp_path, tmp_path / "greffe.p12", "pw", trust_issuer_cn=CA_CN)
    with chromium(tmp_path, origin=base, issuer_cn=CA_CN) as driver:
        driver.get(base + "/console/")
        body = json.loads(driver.find_element(By.TAG_NAME, "body").text)
        assert body["status"] == 403
        assert body["type"].endswith("forbidden-role")


def test_free_port_helper_is_loopback() -> None:
    assert free_port() > 0
