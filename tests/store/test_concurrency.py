"""Concurrent writers: one dossier per dedupe key, and a feed reader that never skips an event."""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from gateway.store import DossierRow, NewEvent, Store, open_sql_store

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
WRITERS = 8


def test_concurrent_create_once_yields_one_dossier(store: Store) -> None:
    barrier = threading.Barrier(WRITERS)

    def post(n: int) -> tuple[str, bool]:
        row = DossierRow(f"D{n}", "same-title", "greffe", "greffe-a", "RG 1", T0, "{}", "accepted")
        barrier.wait()
        with store.transaction() as uow:
            stored, created = uow.dossiers.create_once(row)
            # Keep the transaction open so that the others really collide with an uncommitted row.
            time.sleep(0.05)
            return stored.dossier_id, created

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(post, range(WRITERS)))

    winners = [dossier_id for dossier_id, created in results if created]
    assert len(winners) == 1
    assert {dossier_id for dossier_id, _ in results} == set(winners)
    with store.read() as uow:
        assert uow.dossiers.get_by_dedupe_key("same-title") is not None
        for n in range(WRITERS):
            assert (uow.dossiers.get(f"D{n}") is not None) == (f"D{n}" == winners[0])


def test_feed_reader_never_skips_an_event(store: Store) -> None:
    per_writer = 15
    done = threading.Event()
    seen: list[int] = []

    def write(w: int) -> None:
        rnd = random.Random(w)
        for n in range(per_writer):
            with store.transaction() as uow:
                uow.events.append(NewEvent("tick", json.dumps({"w": w, "n": n}), T0))
                time.sleep(rnd.random() * 0.004)

    def read() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            with store.read() as uow:
                page = uow.events.read_after(cursor, 50)
            seen.extend(e.event_id for e in page)
            if page:
                cursor = page[-1].event_id
            elif finished:
                return

    reader = threading.Thread(target=read)
    reader.start()
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))
    done.set()
    reader.join(timeout=30)

    with store.read() as uow:
        committed = [e.event_id for e in uow.events.read_after(0, 10_000)]
    assert len(committed) == WRITERS * per_writer
    # The reader, following its cursor while writers committed, saw every event exactly once.
    assert seen == committed


def _post_from_another_process(url: str, n: int, start_at: float) -> bool:
    # Each process has its own engine and connections, as separate gateway replicas would.
    store = open_sql_store(url, migrate=False)
    try:
        row = DossierRow(f"P{n}", "same-title", "notaire", "etude-b", "R1", T0, "{}", "accepted")
        time.sleep(max(0.0, start_at - time.time()))
        with store.transaction() as uow:
            _, created = uow.dossiers.create_once(row)
            time.sleep(0.05)
            return created
    finally:
        store.close()


def test_concurrent_create_once_across_processes(sql_url: str) -> None:
    open_sql_store(sql_url).close()  # migrate once, before the replicas start
    start_at = time.time() + 1.0
    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        created = pool.starmap(_post_from_another_process, [(sql_url, n, start_at) for n in range(4)])
    assert sorted(created) == [False, False, False, True]
    store = open_sql_store(sql_url, migrate=False)
    try:
        with store.read() as uow:
            found = uow.dossiers.get_by_dedupe_key("same-title")
            assert found is not None
            assert found.dossier_id == f"P{created.index(True)}"
    finally:
        store.close()
