"""The console over real mutual TLS (httpx): roles, CSRF, confirmation, audit, archive, masking,
languages, and a clear answer to every bad input. The browser scenario is test_console_browser."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from gateway.console import csrf
from gateway.console.audit import ARCHIVE_KIND
from gateway.devtools.pki import init_dev_pki
from gateway.signing.cms import load_trust_anchors, verify_detached
from gateway.store import schema
from tests.console.seed import BAD_IBAN, EXAMPLES, GOOD_IBAN, NEW_IBAN, Seeded, seed
from tests.e2e.harness import Clients, running_server

PAGES = (
    "/console/",
    "/console/refused",
    "/console/collections",
    "/console/deliveries",
    "/console/archive",
    "/console/audit",
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Seeded, Clients]]:
    tmp = tmp_path_factory.mktemp("console-http")
    pki = tmp / "pki"
    init_dev_pki(pki)
    seeded = seed(tmp, pki)
    try:
        with running_server(seeded.app, pki) as base:
            clients = Clients(base, pki)
            try:
                yield seeded, clients
            finally:
                clients.close()
    finally:
        seeded.close()


def _operator(clients: Clients) -> httpx.Client:
    return clients.as_("operator")


def _token(client: httpx.Client) -> str:
    """The CSRF token of this client's cookie (a page sets it)."""
    page = client.get("/console/")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/archive").text)
    assert found is not None
    assert client.cookies.get(csrf.COOKIE) == found.group(1)
    return found.group(1)


def _post(client: httpx.Client, path: str, data: dict[str, str], **headers: str) -> httpx.Response:
    return client.post(path, data=data, headers={"Origin": str(client.base_url).rstrip("/"), **headers})


def _audit(seeded: Seeded, action: str) -> list[dict[str, object]]:
    t = schema.console_audit
    with seeded.gateway.store.read() as uow:
        rows = uow.connection.execute(select(t).where(t.c.action == action).order_by(t.c.audit_id))
        return [dict(r._mapping) for r in rows]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_the_operator_in_french_and_no_one_else(
    world: tuple[Seeded, Clients], path: str
) -> None:
    _seeded, clients = world
    page = _operator(clients).get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-language"] == "fr"
    assert '<html lang="fr">' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    for role in ("greffe", "avocat", "notaire", "backoffice"):
        refused = clients.get(role, path)
        assert refused.status_code == 403, role
        assert refused.json()["errors"][0]["code"] == "forbidden-role"


def test_english_when_the_browser_prefers_it(world: tuple[Seeded, Clients]) -> None:
    _seeded, clients = world
    client = _operator(clients)
    english = client.get("/console/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert english.headers["content-language"] == "en"
    assert "<h1>Dashboard</h1>" in english.text
    french = client.get("/console/", headers={"Accept-Language": "fr-FR,en;q=0.8"})
    assert "<h1>Tableau de bord</h1>" in french.text


def test_dashboard_counts_titles_and_shows_the_refused_one_first(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    page = _operator(clients).get("/console/").text
    assert page.index(seeded.refused_receipt) < page.index('id="titles-chart"')
    assert "<code>invalid-iban</code>" in page
    table = page[page.index('id="title-counts"') :]
    notaire = re.search(r"<th scope=\"row\">notaire</th>\s*(.*?)</tr>", table, re.S)
    assert notaire is not None
    assert re.findall(r">(\d+)<", notaire.group(1)) == ["0", "1", "1", "1"]  # today, then this month
    assert 'id="next-total">560.00 €' in page  # January: the two collected dossiers, 210 + 350 €
    assert 'id="next-date">2027-01-11' in page  # the 10th is a Sunday: next TARGET day


def test_refused_title_lists_every_error_and_links_to_the_archived_payload(
    world: tuple[Seeded, Clients],
) -> None:
    seeded, clients = world
    client = _operator(clients)
    page = client.get(f"/console/refused/{seeded.refused_receipt}")
    assert page.status_code == 200
    assert "<code>invalid-iban</code>" in page.text
    assert "Acte/" in page.text or "IBAN" in page.text  # the sender's own path
    assert "signature valide" in page.text
    payload = client.get(f"/console/refused/{seeded.refused_receipt}/payload")
    assert payload.status_code == 200
    assert payload.content == (EXAMPLES / "notaire-1.xml").read_bytes().replace(
        GOOD_IBAN.encode(), BAD_IBAN.encode()
    )
    assert payload.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("source=fax", "source"),
        ("code=%27%20OR%201", "code"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("before=DROP", "before"),
    ],
)
def test_refused_filters_refuse_bad_values_by_name(
    world: tuple[Seeded, Clients], query: str, field: str
) -> None:
    _seeded, clients = world
    page = _operator(clients).get(f"/console/refused?{query}")
    assert page.status_code == 400
    assert "invalid-input" in page.text
    assert f"<code>{field}</code>" in page.text


def test_refused_filters_select(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    client = _operator(clients)
    assert seeded.refused_receipt in client.get("/console/refused?source=notaire&code=invalid-iban").text
    assert seeded.refused_receipt not in client.get("/console/refused?source=greffe").text
    assert seeded.refused_receipt not in client.get("/console/refused?code=invalid-bic").text
    assert seeded.refused_receipt not in client.get("/console/refused?to=2026-12-14").text
    assert seeded.refused_receipt in client.get("/console/refused?from=2026-12-15&to=2026-12-15").text


def test_dossier_masks_ibans_and_nirs_and_says_violence_yes_or_no(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    page = _operator(clients).get(f"/console/dossiers/{seeded.accepted['notaire']}").text
    flat = page.replace(" ", "")
    assert GOOD_IBAN not in flat
    assert "•••••••••••••••••••••••2606" in flat.replace("</dd>", "")
    assert 'id="violence">non</dd>' in page
    greffe = _operator(clients).get(f"/console/dossiers/{seeded.accepted['greffe']}").text
    assert "185034410912379" not in greffe  # the debtor's NIR
    assert "••••••••••••379" in greffe
    assert "violence_alleged" not in greffe


def test_unknown_dossier_and_bad_ids(world: tuple[Seeded, Clients]) -> None:
    _seeded, clients = world
    client = _operator(clients)
    missing = client.get("/console/dossiers/DOS-NOSUCHDOSSIER")
    assert missing.status_code == 404
    assert "not-found" in missing.text
    bad = client.get("/console/dossiers", params={"id": "<script>"})
    assert bad.status_code == 400
    assert "<script>" not in bad.text
    found = client.get("/console/dossiers", params={"id": "dos-abc"})
    assert found.status_code == 303
    assert found.headers["location"] == "/console/dossiers/DOS-ABC"


def test_an_action_without_the_csrf_token_or_from_elsewhere_is_refused(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    client = _operator(clients)
    token = _token(client)
    path = "/console/deliveries/retry"
    data = {"delivery_id": str(seeded.dead_delivery), "confirm": "yes"}
    for sent, headers in (
        (data, {}),  # no token
        ({**data, "csrf_token": token + "0"}, {}),  # not the cookie's
        ({**data, "csrf_token": token}, {"Origin": "https://evil.example"}),
    ):
        answer = client.post(path, data=sent, headers={"Origin": str(client.base_url).rstrip("/"), **headers})
        assert answer.status_code == 403
        assert answer.json()["errors"][0]["code"] == "csrf-invalid"
    # another operator's cookie and token (another certificate) do not pass either
    forged = csrf.new_token(seeded.console.csrf_key, "0" * 64)
    client.cookies.set(csrf.COOKIE, forged)
    answer = _post(client, path, {**data, "csrf_token": forged})
    assert answer.status_code == 403
    client.cookies.clear()
    assert _audit(seeded, "deliveries.retry") == []  # nothing happened, nothing to audit
    not_a_form = client.post(path, json=data, headers={"Origin": str(client.base_url).rstrip("/")})
    assert not_a_form.status_code in (400, 403)


def test_retry_asks_for_confirmation_then_requeues_and_audits(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    client = _operator(clients)
    token = _token(client)
    ask = _post(
        client, "/console/deliveries/retry", {"csrf_token": token, "delivery_id": str(seeded.dead_delivery)}
    )
    assert ask.status_code == 200
    assert 'name="confirm" value="yes"' in ask.text
    d = schema.webhook_deliveries
    with seeded.gateway.store.read() as uow:
        status = uow.connection.execute(
            select(d.c.status).where(d.c.delivery_id == seeded.dead_delivery)
        ).scalar()
    assert status == "dead"  # asking changed nothing
    done = _post(
        client, "/console/deliveries/retry",
        {"csrf_token": token, "delivery_id": str(seeded.dead_delivery), "confirm": "yes"},
    )  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"].startswith("/console/deliveries?done=")
    with seeded.gateway.store.read() as uow:
        status = uow.connection.execute(
            select(d.c.status).where(d.c.delivery_id == seeded.dead_delivery)
        ).scalar()
    assert status == "pending"
    [row] = _audit(seeded, "deliveries.retry")
    assert row["operator_subject"] == "CN=operator,OU=operator,O=IFPA gateway dev"
    assert json.loads(str(row["details_json"])) == {"requeued": [seeded.dead_delivery]}
    # the archived copy of the audit record, signed by the gateway
    entry = seeded.gateway.archive.entry(int(str(row["archive_seq"])))
    assert entry.kind == ARCHIVE_KIND
    body = seeded.gateway.archive.blob(entry.blob_sha256)
    assert json.loads(body)["action"] == "deliveries.retry"
    assert entry.signature_sha256 is not None
    signature = seeded.gateway.archive.blob(entry.signature_sha256)
    anchors = load_trust_anchors(clients.pki / "ca.pem")
    assert verify_detached(signature, body, trust_anchors=anchors).signer is not None
    audit_page = client.get("/console/audit").text
    assert f'id="a{row["audit_id"]}"' in audit_page
    # again: nothing dead any more, said as such
    again = _post(
        client, "/console/deliveries/retry",
        {"csrf_token": token, "subscription": "back-office-1", "confirm": "yes"},
    )  # fmt: skip
    assert again.status_code == 303
    assert _audit(seeded, "deliveries.retry")[-1]["outcome"] == "nothing-to-retry"


def test_mandate_account_bad_iban_is_refused_with_its_field(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    client = _operator(clients)
    token = _token(client)
    path = f"/console/dossiers/{seeded.accepted['avocat']}/mandate/account"
    answer = _post(client, path, {"csrf_token": token, "iban": "FR00 1234", "bic": "NOPE"})
    assert answer.status_code == 422
    assert "<code>iban</code>" in answer.text
    assert "<code>bic</code>" in answer.text


def test_mandate_account_change_is_confirmed_masked_and_audited(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    client = _operator(clients)
    token = _token(client)
    dossier = seeded.accepted["avocat"]
    path = f"/console/dossiers/{dossier}/mandate/account"
    ask = _post(client, path, {"csrf_token": token, "iban": NEW_IBAN, "bic": "", "holder": ""})
    assert ask.status_code == 200
    assert "0189" in ask.text
    done = _post(
        client, path, {"csrf_token": token, "iban": NEW_IBAN, "bic": "", "holder": "", "confirm": "yes"}
    )
    assert done.status_code == 303
    m = schema.mandates
    with seeded.gateway.store.read() as uow:
        iban = uow.connection.execute(select(m.c.iban).where(m.c.dossier_id == dossier)).scalar()
    assert iban == NEW_IBAN
    row = _audit(seeded, "mandate.amend-account")[-1]
    assert NEW_IBAN not in str(row["details_json"])  # masked in the audit too
    assert row["target"] == dossier


def test_archive_verify_checkpoint_and_inclusion_proof(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    client = _operator(clients)
    token = _token(client)
    assert _post(client, "/console/archive/checkpoint", {"csrf_token": token}).status_code == 303
    verified = _post(client, "/console/archive/verify", {"csrf_token": token})
    assert verified.status_code == 303
    [row] = _audit(seeded, "archive.verify")
    assert row["outcome"] == "ok"
    page = client.get("/console/archive").text
    assert 'id="verify-result"><span class="good">intègre' in page
    proof = client.get("/console/archive?seq=0").text
    assert "preuve vérifiée" in proof
    assert "inclusion_path" in proof
    for bad in ("-1", "abc", "99999999"):
        answer = client.get("/console/archive", params={"seq": bad})
        assert answer.status_code == 200
        assert 'role="alert"' in answer.text
    dashboard = client.get("/console/").text
    assert "intègre" in dashboard


def test_collections_show_files_with_bank_status_and_serve_the_signed_file(
    world: tuple[Seeded, Clients], tmp_path: Path
) -> None:
    _seeded, clients = world
    client = _operator(clients)
    page = client.get("/console/collections").text
    assert "pain.008" in page
    assert "rejected : 1" in page
    assert "<code>AM04</code>" in page
    message_id = re.search(r'/console/files/([^/]+)/file"', page)
    assert message_id is not None
    xml = client.get(f"/console/files/{message_id.group(1)}/file")
    assert xml.status_code == 200
    assert xml.content.startswith(b"<?xml")
    signature = client.get(f"/console/files/{message_id.group(1)}/signature")
    anchors = load_trust_anchors(clients.pki / "ca.pem")
    assert verify_detached(signature.content, xml.content, trust_anchors=anchors).signer is not None
    assert client.get("/console/files/NOPE/file").status_code == 404
    assert client.get(f"/console/files/{message_id.group(1)}/other").status_code == 404


def test_static_stylesheet_and_nothing_else(world: tuple[Seeded, Clients]) -> None:
    _seeded, clients = world
    client = _operator(clients)
    css = client.get("/console/static/console.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert client.get("/console/static/..%2Fpages.py").status_code == 404
    assert clients.get("greffe", "/console/static/console.css").status_code == 403


def test_mandate_signature_bad_fields_are_named(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    client = _operator(clients)
    token = _token(client)
    path = f"/console/dossiers/{seeded.accepted['greffe']}/mandate/signature"
    bad = {
        "csrf_token": token, "holder": "M. Julien Martin", "iban": NEW_IBAN, "bic": "",
        "signed_on": "2027-01-01", "method": "fax", "debit_day": "12", "confirm": "yes",
    }  # fmt: skip
    answer = _post(client, path, bad)
    assert answer.status_code == 422
    for field in ("signed_on", "method", "debit_day"):
        assert f"<code>{field}</code>" in answer.text, field
    assert _audit(seeded, "mandate.record-signature")[-1]["outcome"] != "done"
    early = _post(client, path, {**bad, "iban": "FR76 3000", "confirm": ""})
    assert early.status_code == 422  # a bad IBAN is said before the confirmation
    assert "<code>iban</code>" in early.text


def test_mandate_signature_is_confirmed_recorded_and_audited(world: tuple[Seeded, Clients]) -> None:
    seeded, clients = world
    client = _operator(clients)
    token = _token(client)
    dossier = seeded.accepted["greffe"]
    before = client.get("/console/").text
    assert re.search(r'id="mandates-pending">1<', before)  # the greffe's dossier waits
    path = f"/console/dossiers/{dossier}/mandate/signature"
    form = {
        "csrf_token": token, "holder": "M. Julien Martin", "iban": NEW_IBAN, "bic": "AGRIFRPP",
        "signed_on": "2026-12-14", "method": "paper", "debit_day": "15",
    }  # fmt: skip
    ask = _post(client, path, form)
    assert ask.status_code == 200
    assert 'name="confirm" value="yes"' in ask.text
    assert NEW_IBAN not in ask.text.replace(f'value="{NEW_IBAN}"', "")  # shown masked
    done = _post(client, path, {**form, "confirm": "yes"})
    assert done.status_code == 303
    m = schema.mandates
    with seeded.gateway.store.read() as uow:
        status, day = uow.connection.execute(
            select(m.c.status, m.c.chosen_day).where(m.c.dossier_id == dossier)
        ).one()
    assert (status, day) == ("signed", 15)
    row = _audit(seeded, "mandate.record-signature")[-1]
    assert row["outcome"] == "done"
    assert NEW_IBAN not in str(row["details_json"])
    page = client.get(f"/console/dossiers/{dossier}").text
    assert 'id="mandate-status">signé' in page
