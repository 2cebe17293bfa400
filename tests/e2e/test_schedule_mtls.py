"""`GET /v1/dossiers/{id}/schedule` over real mutual TLS: per month and per child the amount due
after revaluation (L. 582-1 I CSS; 1074-4 II 6° CPC) with the index used, held months, and bad
query parameters answered with problem+json naming the parameter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.services.intake import IntakeServices, receive
from gateway.services.schedule import Schedules
from gateway.signing.cms import Signer
from gateway.store import open_sql_store
from gateway.transport.http import Authenticator, RoleMap, create_app
from tests.e2e.harness import Clients, running_server
from tests.fakes import FakeArchive
from tests.integration.test_revaluation_runs import notary_title_of_2023

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def served(tmp_path: Path, dev_pki: Path) -> Iterator[tuple[Clients, dict[str, str]]]:
    store = open_sql_store(f"sqlite:///{tmp_path / 'gw.sqlite3'}")
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    archive = FakeArchive()
    intake = IntakeServices(store=store, signer=signer, archive=archive, clock=lambda: NOW)
    ids = {}
    greffe = receive(intake, "greffe", (EXAMPLES / "greffe-1.xml").read_bytes(), sender="t")
    ids["greffe"] = str(greffe.receipt.dossier_id)
    then = IntakeServices(
        store=store, signer=signer, archive=archive, clock=lambda: datetime(2023, 3, 24, tzinfo=UTC)
    )
    ids["notaire"] = str(receive(then, "notaire", notary_title_of_2023(), sender="t").receipt.dossier_id)
    app = create_app(authenticator=Authenticator(RoleMap()), services={Schedules: Schedules(store)})
    with running_server(app, dev_pki) as base_url:
        clients = Clients(base_url, dev_pki)
        yield clients, ids
        clients.close()
    store.close()


def test_revalued_month_with_its_index(served: tuple[Clients, dict[str, str]]) -> None:
    # 210.00 × 117.16 (2024-01) / 113.86 (2023-01) = 216.0864... -> 216.09 from April 2024
    clients, ids = served
    answer = clients.get("backoffice", f"/v1/dossiers/{ids['notaire']}/schedule?from=2024-03&to=2024-04")
    assert answer.status_code == 200, answer.text
    march, april = answer.json()["months"]
    assert (march["period"], march["due_cents"], march["children"][0]["index"]) == ("2024-03", 21000, None)
    assert april["due_cents"] == 21609
    (child,) = april["children"]
    assert child["index"] == {
        "series": "INSEE-001763852", "base_value": "113.86", "base_period": "2023-01", "value": "117.16",
        "value_period": "2024-01", "revalued_on": "2024-03-20", "monthly_cents": 21609,
    }  # fmt: skip


def test_two_children_then_held_months(served: tuple[Clients, dict[str, str]]) -> None:
    # The greffe example: 180.00 indexed (first revaluation 2027-12-01) + 150.00 silent (title of
    # 2026-11-16, anniversary 2027-11-16 -> December 2027); the 2027 index values are not known
    clients, ids = served
    answer = clients.get("backoffice", f"/v1/dossiers/{ids['greffe']}/schedule?from=2026-11&to=2027-12")
    months = {m["period"]: m for m in answer.json()["months"]}
    assert (months["2026-11"]["due_cents"], months["2026-11"]["children"]) == (0, [])
    assert [c["due_cents"] for c in months["2026-12"]["children"]] == [18000, 15000]
    assert months["2027-11"]["due_cents"] == 33000
    held = months["2027-12"]
    assert (held["held"], held["due_cents"]) == (True, None)
    assert [c["held"]["code"] for c in held["children"]] == ["index-missing", "index-missing"]
    assert [c["held"]["field"] for c in held["children"]] == [
        "children[0].indexation", "children[1].indexation",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-13&to=2027-01", "from"),
        ("from=2026-12&to=27-01", "to"),
        ("to=2027-01", "from"),
        ("from=2026-12", "to"),
        ("from=2027-01&to=2026-12", "to"),
        ("from=1900-01&to=2999-12", "to"),
    ],
)
def test_bad_query_parameters_name_the_parameter(
    served: tuple[Clients, dict[str, str]], query: str, field: str
) -> None:
    clients, ids = served
    answer = clients.get("backoffice", f"/v1/dossiers/{ids['greffe']}/schedule?{query}")
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    (error,) = answer.json()["errors"]
    assert (error["code"], error["field"]) == ("invalid-period", field)


def test_unknown_dossier_and_other_roles(served: tuple[Clients, dict[str, str]]) -> None:
    clients, ids = served
    missing = clients.get("backoffice", "/v1/dossiers/DOS-NOPE/schedule?from=2026-12&to=2026-12")
    assert missing.status_code == 404
    refused = clients.get("greffe", f"/v1/dossiers/{ids['greffe']}/schedule?from=2026-12&to=2026-12")
    assert refused.status_code == 403
