"""Headless Chromium (Debian's, driven by chromium-driver through Selenium) holding a client
certificate, as an operator's browser would: the PKCS#12 imported into an NSS database under
a throwaway HOME, and the certificate selected for the gateway's origin without a prompt.

Chromium on Linux reads client certificates from `$HOME/.pki/nssdb`. Which one to present is
the `AutoSelectCertificateForUrls` setting: as an enterprise policy it lives in
/etc/chromium/policies (the whole machine), so the test writes the very same content setting
(`auto_select_certificate`) into the profile's Preferences of its own empty --user-data-dir.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
)
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "var" / "tools" / "axe-core-4.10.3" / "axe.min.js"


def tools_missing() -> list[str]:
    return [
        tool for tool in ("chromium", "chromedriver", "certutil", "pk12util") if shutil.which(tool) is None
    ]


def import_pkcs12(home: Path, p12: Path, password: str, *, trust_issuer_cn: str) -> None:
    """A fresh NSS database in `home` holding the bundle; its CA trusted for web sites (what a
    user does in the browser's certificate manager: import, then tick "trust for websites")."""
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    sql = f"sql:{db}"
    subprocess.run(["certutil", "-N", "-d", sql, "--empty-password"], check=True, capture_output=True)
    subprocess.run(["pk12util", "-i", str(p12), "-d", sql, "-W", password], check=True, capture_output=True)
    listed = subprocess.run(["certutil", "-L", "-d", sql], check=True, capture_output=True, text=True).stdout
    nicknames = [line[:60].strip() for line in listed.splitlines() if trust_issuer_cn in line]
    assert nicknames, listed
    subprocess.run(
        ["certutil", "-M", "-d", sql, "-n", nicknames[0], "-t", "C,,"], check=True, capture_output=True
    )


@contextmanager
def chromium(
    home: Path, *, origin: str, issuer_cn: str, language: str = "fr-FR,fr"
) -> Iterator[webdriver.Chrome]:
    """A headless Chromium whose HOME is `home`, presenting its certificate to `origin`."""
    profile = home / "chromium-profile"
    (profile / "Default").mkdir(parents=True)
    prefs: dict[str, Any] = {
        "intl": {"accept_languages": language},
        "profile": {
            "content_settings": {
                "exceptions": {
                    "auto_select_certificate": {
                        f"{origin},*": {"setting": {"filters": [{"ISSUER": {"CN": issuer_cn}}]}}
                    }
                }
            }
        },
    }
    (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--lang={language.split(',', maxsplit=1)[0]}"):
        options.add_argument(flag)
    service = Service(CHROMEDRIVER, env={**os.environ, "HOME": str(home)})
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def axe_violations(
    driver: webdriver.Chrome, *, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[Any]:
    """axe-core's WCAG 2.x A/AA rules on the current page: the violations of these impacts."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
        "'best-practice']}}).then(r => done(r.violations)).catch(e => done([{id: 'axe-error', "
        "impact: 'critical', description: String(e), nodes: []}]));"
    )
    return [v for v in result if v.get("impact") in impacts]
