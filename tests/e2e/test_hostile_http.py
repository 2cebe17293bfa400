"""Hostile titles over mutual TLS (issue 12, items 1 and 2) on a real `gateway serve`: a poisoned
title posted among 40 valid ones fails alone with its own rejection, the others are stored; each
input that once got a 500 now gets its 4xx problem with a signed rejection receipt."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.e2e.harness import tls_context
from tests.e2e.test_server_limits import serving
from tests.support import hostile

MEDIA = {"greffe": "application/xml", "notaire": "application/xml", "avocat": "application/json"}


def avocat_title(number: int) -> bytes:
    doc = json.loads(hostile.AVOCAT)
    doc["reference_envoi"] = f"AV-HTTP-{number:04d}"
    doc["debiteur"]["nom_naissance"] = "Martin-" + "".join("abcdefghij"[int(d)] for d in f"{number:04d}")
    return json.dumps(doc, ensure_ascii=False).encode()


def test_poisoned_titles_fail_alone_among_valid_ones(e2e_pki: Path, tmp_path: Path) -> None:
    poisons = [p for s, _n, p in hostile.all_hostile() if s == "avocat"]
    titles = [avocat_title(n) for n in range(40)]
    batch = titles[:20] + poisons + titles[20:]
    with (
        serving(e2e_pki, tmp_path, intake_processes="1") as (port, log),
        httpx.Client(
            base_url=f"https://localhost:{port}", verify=tls_context(e2e_pki, "avocat"), timeout=60
        ) as client,
    ):

        def post(data: bytes) -> httpx.Response:
            return client.post(
                "/v1/avocat/transmissions", content=data, headers={"content-type": MEDIA["avocat"]}
            )

        for _round in range(2):  # the second time, every valid title is a duplicate
            with ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(post, batch))
            statuses = [a.status_code for a in answers]
            assert all(s < 500 for s in statuses), statuses
            valid = statuses[:20] + statuses[20 + len(poisons) :]
            assert set(valid) == ({201} if _round == 0 else {200}), valid
            for answer in answers[20 : 20 + len(poisons)]:
                assert answer.status_code == 400
                body = answer.json()
                assert body["errors"][0]["code"] in {"malformed-payload", "limit-exceeded"}
                assert body["receipt"]["status"] == "rejected"
                assert body["signature"]
    assert "Traceback" not in log.read_text(errors="replace")


def test_each_input_that_got_a_500_gets_its_problem(e2e_pki: Path, tmp_path: Path) -> None:
    with serving(e2e_pki, tmp_path) as (port, log):
        for source, name, data in hostile.all_hostile():
            with httpx.Client(
                base_url=f"https://localhost:{port}", verify=tls_context(e2e_pki, source), timeout=60
            ) as client:
                answer = client.post(
                    f"/v1/{source}/transmissions", content=data, headers={"content-type": MEDIA[source]}
                )
            if name == "long-integer":  # 4,300 leading zeros: a valid count of children
                assert answer.status_code in (200, 201), answer.text
                continue
            assert answer.status_code == 400, (name, answer.status_code, answer.text[:300])
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["receipt"]["status"] == "rejected"
    assert "Traceback" not in log.read_text(errors="replace")
