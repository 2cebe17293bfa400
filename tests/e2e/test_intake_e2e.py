"""Intake end to end over real mutual TLS on loopback: each role posts its format and gets a signed
receipt; duplicates, wrong roles, oversize, malformed and every content rule are answered as the
contract says; concurrent posts of one title make one dossier on SQLite and PostgreSQL."""

# ruff: noqa: E501  (the table of rule cases reads best one case a line)
from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from gateway.archive.store import Archive
from gateway.infra.intake_queue import IntakeQueue
from gateway.services.intake import IntakeServices, receipt_bytes
from gateway.signing.cms import Signer, verify_detached
from gateway.store import SqlStore, open_sql_store
from gateway.transport.http import Authenticator, RoleMap, create_app
from tests.e2e.harness import Clients, running_server
from tests.pg import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the examples' RIBs and dates are recent then
MAX_PAYLOAD = 256 * 1024
XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}
PATHS = {
    "greffe": ("/v1/greffe/transmissions", "greffe-1.xml", XML),
    "notaire": ("/v1/notaire/transmissions", "notaire-1.xml", XML),
    "avocat": ("/v1/avocat/transmissions", "avocat-1.json", JSON),
}


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


class Gateway:
    def __init__(self, url: str, tmp: Path, pki: Path) -> None:
        self.store: SqlStore = open_sql_store(url)
        self.archive = Archive(
            self.store, tmp / "archive", signer=Signer.from_files(pki / "signer.pem", pki / "signer-key.pem")
        )
        assert self.archive.signer is not None
        self.intake = IntakeServices(
            store=self.store,
            signer=self.archive.signer,
            archive=self.archive,
            clock=lambda: NOW,
            max_bytes=MAX_PAYLOAD,
        )
        self.queue = IntakeQueue(self.intake)
        self.app = create_app(
            authenticator=Authenticator(RoleMap()),
            services={IntakeServices: self.intake, IntakeQueue: self.queue},
            max_payload_bytes=MAX_PAYLOAD,
        )

    def close(self) -> None:
        self.queue.close()
        self.archive.close()
        self.store.close()


@pytest.fixture
def served(tmp_path: Path, dev_pki: Path) -> Iterator[tuple[Gateway, Clients]]:
    gw = Gateway(f"sqlite:///{tmp_path / 'gw.sqlite3'}", tmp_path, dev_pki)
    with running_server(gw.app, dev_pki) as base_url:
        clients = Clients(base_url, dev_pki)
        yield gw, clients
        clients.close()
    gw.close()


@pytest.mark.parametrize("source", ["greffe", "notaire", "avocat"])
def test_each_role_posts_its_format_and_gets_a_verifiable_receipt(
    served: tuple[Gateway, Clients], dev_pki: Path, tmp_path: Path, source: str
) -> None:
    _gw, clients = served
    path, name, headers = PATHS[source]
    answer = clients.as_(source).post(path, content=example(name), headers=headers)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    receipt, signature = body["receipt"], base64.b64decode(body["signature"])
    assert receipt["status"] == "accepted"
    assert answer.headers["location"] == f"/v1/receipts/{receipt['receipt_id']}"
    verify_detached(signature, receipt_bytes(receipt), ca_file=dev_pki / "ca.pem")
    # ... and independently, with openssl
    (tmp_path / "receipt.json").write_bytes(receipt_bytes(receipt))
    (tmp_path / "receipt.p7s").write_bytes(signature)
    done = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "receipt.p7s"),
         "-content", str(tmp_path / "receipt.json"), "-CAfile", str(dev_pki / "ca.pem"), "-purpose", "any",
         "-out", "/dev/null"],
        capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # the sender and the back-office may fetch it; another sender may not
    again = clients.get(source, answer.headers["location"])
    assert again.json() == body
    assert clients.get("backoffice", answer.headers["location"]).status_code == 200
    other = "notaire" if source != "notaire" else "greffe"
    assert clients.get(other, answer.headers["location"]).status_code == 404


def test_duplicate_answers_200_with_the_same_receipt(served: tuple[Gateway, Clients]) -> None:
    _, clients = served
    first = clients.as_("greffe").post(PATHS["greffe"][0], content=example("greffe-1.xml"), headers=XML)
    again = clients.as_("greffe").post(PATHS["greffe"][0], content=example("greffe-1.xml"), headers=XML)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_idempotency_key_header_is_honoured(served: tuple[Gateway, Clients]) -> None:
    _, clients = served
    headers = {**JSON, "Idempotency-Key": "av-42-try"}
    first = clients.as_("avocat").post(PATHS["avocat"][0], content=example("avocat-1.json"), headers=headers)
    again = clients.as_("avocat").post(PATHS["avocat"][0], content=example("avocat-1.json"), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    reused = clients.as_("avocat").post(PATHS["avocat"][0], content=b'{"version": 1}', headers=headers)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["code"] == "idempotency-key-reused"


def test_back_office_reads_the_dossier_as_json_and_signed_xml(
    served: tuple[Gateway, Clients], dev_pki: Path, tmp_path: Path
) -> None:
    _, clients = served
    posted = clients.as_("notaire").post(PATHS["notaire"][0], content=example("notaire-1.xml"), headers=XML)
    dossier_id = posted.json()["receipt"]["dossier_id"]
    as_json = clients.get("backoffice", f"/v1/dossiers/{dossier_id}")
    assert as_json.status_code == 200
    assert as_json.json()["handling_body"] == "MSA"
    as_xml = clients.get("backoffice", f"/v1/dossiers/{dossier_id}", headers={"Accept": "application/xml"})
    assert as_xml.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(as_xml.content)
    assert root.tag == "{urn:fr:ifpa:dossier:1}dossier"
    (tmp_path / "dossier.xml").write_bytes(as_xml.content)
    done = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(dev_pki / "ca.pem"), "--id-attr:Id", "SignedProperties",
         str(tmp_path / "dossier.xml")],
        capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert clients.get("notaire", f"/v1/dossiers/{dossier_id}").status_code == 403
    assert clients.get("backoffice", "/v1/dossiers/DOS-AAAAAAAAAAAAAAAA").status_code == 404


@pytest.mark.parametrize(
    ("identity", "source"),
    [("notaire", "greffe"), ("avocat", "greffe"), ("greffe", "notaire"), ("backoffice", "avocat")],
)
def test_wrong_role_is_403(served: tuple[Gateway, Clients], identity: str, source: str) -> None:
    _, clients = served
    path, name, headers = PATHS[source]
    answer = clients.as_(identity).post(path, content=example(name), headers=headers)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "forbidden-role"


def test_refused_callers(served: tuple[Gateway, Clients]) -> None:
    _, clients = served
    path = PATHS["greffe"][0]
    for identity in (None, "untrusted", "expired"):
        with pytest.raises(Exception) as info:
            clients.as_(identity).post(path, content=example("greffe-1.xml"), headers=XML)
        assert "401" not in str(info.value)


def test_oversize_malformed_and_media_type(served: tuple[Gateway, Clients]) -> None:
    _, clients = served
    greffe = clients.as_("greffe")
    path = PATHS["greffe"][0]
    assert greffe.post(path, content=b"<a>" + b"x" * MAX_PAYLOAD + b"</a>", headers=XML).status_code == 413
    bad = greffe.post(path, content=b"<TransmissionGreffe", headers=XML)
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["code"] == "malformed-payload"
    assert bad.json()["receipt"]["status"] == "rejected"
    schema = greffe.post(path, content=b'<TransmissionGreffe xmlns="urn:fr:ifpa:greffe:1"/>', headers=XML)
    assert (schema.status_code, schema.json()["errors"][0]["code"]) == (400, "schema-violation")
    assert greffe.post(path, content=example("greffe-1.xml"), headers=JSON).status_code == 415


def _xml(name: str, *pairs: tuple[bytes, bytes]) -> bytes:
    data = example(name)
    for old, new in pairs:
        assert old in data, old
        data = data.replace(old, new, 1)
    return data


def _avocat(change: Callable[[dict[str, object]], None]) -> bytes:
    doc = json.loads(example("avocat-1.json"))
    change(doc)
    return json.dumps(doc).encode()


def _titre(doc: dict[str, object]) -> dict[str, object]:
    titre = doc["titre"]
    assert isinstance(titre, dict)
    return titre


RULE_CASES: list[tuple[str, str, bytes, str]] = [
    ("greffe", "title-kind-not-allowed", _xml("greffe-1.xml", (b"<TypeTitre>1<", b"<TypeTitre>4<")), "Decision/TypeTitre"),
    ("greffe", "intermediation-excluded", _xml("greffe-1.xml", (b">MISE_EN_PLACE<", b">ECARTEE_JUGE<")), "Decision/Intermediation"),
    ("greffe", "before-generalisation", _xml("greffe-1.xml", (b"<Date>2026-11-16<", b"<Date>2022-02-01<")), "Decision/Date"),
    ("greffe", "totals-mismatch", _xml("greffe-1.xml", (b"<NombreEnfants>2<", b"<NombreEnfants>3<")), "Totaux/NombreEnfants"),
    ("greffe", "invalid-amount", _xml("greffe-1.xml", (b">180.00<", b">180.005<")), "Enfants/Enfant[1]/MontantMensuel"),
    ("greffe", "invalid-date", _xml("greffe-1.xml", (b"<DateFin>2040-03-31<", b"<DateFin>2026-01-01<")), "Decision/DateFin"),
    ("greffe", "invalid-nir", _xml("greffe-1.xml", (b"185034410912379", b"185034410912378")), "Debiteur/NIR"),
    ("greffe", "not-child-support", _xml("greffe-1.xml", (b">jugement de divorce<", b">prestation compensatoire<")), "Decision/Nature"),
    ("notaire", "invalid-iban", _xml("notaire-1.xml", (b"FR7630006000011234567890189", b"FR7630006000011234567890188")),
     "Debiteur/CoordonneesBancaires/IBAN"),
    ("notaire", "invalid-bic", _xml("notaire-1.xml", (b">AGRIFRPP<", b">AGRIQQPP<")), "Debiteur/CoordonneesBancaires/BIC"),
    ("notaire", "rib-too-old", _xml("notaire-1.xml", (b"<DateRIB>2026-11-05<", b"<DateRIB>2026-07-01<")),
     "Debiteur/CoordonneesBancaires/DateRIB"),
    ("notaire", "bank-details-without-consent",
     _xml("notaire-1.xml", (b"<ConsentementCoordonneesBancaires>true", b"<ConsentementCoordonneesBancaires>false")),
     "Debiteur/CoordonneesBancaires"),
    ("avocat", "missing-field", _avocat(lambda d: _titre(d).update(attestation_depot=None)), "titre.attestation_depot"),
    ("avocat", "field-not-allowed", _avocat(lambda d: _titre(d).update(date_formule_executoire="2026-11-18")),
     "titre.date_formule_executoire"),
    ("avocat", "title-kind-not-allowed", _avocat(lambda d: _titre(d).update(type=5)), "titre.type"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "code", "data", "field"), RULE_CASES, ids=[f"{c[0]}-{c[1]}" for c in RULE_CASES]
)
def test_every_content_rule_is_422_with_its_code(
    served: tuple[Gateway, Clients], source: str, code: str, data: bytes, field: str
) -> None:
    _, clients = served
    path, _, headers = PATHS[source]
    answer = clients.as_(source).post(path, content=data, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert {"code": code, "field": field} in [
        {"code": e["code"], "field": e["field"]} for e in problem["errors"]
    ]
    assert problem["receipt"]["status"] == "rejected"


def test_violence_sets_a_joint_refusal_aside_the_title_is_accepted(served: tuple[Gateway, Clients]) -> None:
    # art. 373-2-2 II last paragraph C. civ.: a joint refusal does not apply when violence is alleged;
    # the title is accepted with intermediation in place and the warning joint-refusal-set-aside
    _, clients = served
    data = _xml(
        "greffe-1.xml", (b">MISE_EN_PLACE<", b">REFUS_CONJOINT<"), (b"<Violences>false", b"<Violences>true")
    )
    answer = clients.as_("greffe").post(PATHS["greffe"][0], content=data, headers=XML)
    assert answer.status_code == 201, answer.text
    dossier = clients.get("backoffice", f"/v1/dossiers/{answer.json()['receipt']['dossier_id']}").json()
    assert dossier["intermediation"] == "in_place"
    assert {"code": "joint-refusal-set-aside", "field": "Decision/Intermediation"} in [
        {"code": w["code"], "field": w["field"]} for w in dossier["warnings"]
    ]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_posts_of_one_title_make_one_dossier(
    request: pytest.FixtureRequest, tmp_path: Path, dev_pki: Path, backend: str
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'c.sqlite3'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    gw = Gateway(url, tmp_path, dev_pki)
    try:
        with running_server(gw.app, dev_pki) as base_url:
            clients = [Clients(base_url, dev_pki) for _ in range(6)]

            def post(c: Clients) -> tuple[int, str]:
                answer = c.as_("greffe").post(
                    PATHS["greffe"][0], content=example("greffe-1.xml"), headers=XML
                )
                return answer.status_code, answer.json()["receipt"]["receipt_id"]

            with ThreadPoolExecutor(6) as pool:
                results = list(pool.map(post, clients))
            for c in clients:
                c.close()
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 200, 200, 200, 200, 201]
        assert len({receipt for _, receipt in results}) == 1
        with gw.store.read() as uow:
            assert len(uow.events.read_after(0, 100)) == 1
    finally:
        gw.close()
