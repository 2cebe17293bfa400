"""IntakeQueue: concurrent transmissions settled in batches by one thread, each answered as alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError, Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import IdempotencyKeyReused
from gateway.infra.intake_pool import validation_pool
from gateway.infra.intake_queue import IntakeQueue
from gateway.services.intake import IntakeResult, IntakeServices, receive
from gateway.services.intake import settle as intake_settle
from gateway.store import MemoryStore
from gateway.store.memory import MemoryUnitOfWork
from tests.fakes import FakeArchive
from tests.unit.intake_support import INVALID, distinct_title, services_for


def title(number: int) -> bytes:
    return distinct_title(number, "Q")


class GatedStore(MemoryStore):
    """A MemoryStore whose write transactions wait for `gate` once `hold` is set (to queue work)."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = threading.Event()
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.transactions = 0

    def release(self) -> None:
        self.hold.clear()
        self.gate.set()

    @contextmanager
    def transaction(self) -> Iterator[MemoryUnitOfWork]:
        self.transactions += 1
        if self.hold.is_set():
            self.entered.set()
            assert self.gate.wait(10)
        with super().transaction() as uow:
            yield uow


class FailingArchive(FakeArchive):
    failing = True

    def append_many(self, items: Sequence[Any], *, uow: object = None) -> list[Any]:
        if self.failing:
            raise OSError("archive disk full")
        return super().append_many(items, uow=uow)


@pytest.fixture
def store() -> GatedStore:
    return GatedStore()


@pytest.fixture
def archive() -> FakeArchive:
    return FakeArchive()


@pytest.fixture
def services(dev_pki: Path, store: GatedStore, archive: FakeArchive) -> IntakeServices:
    return services_for(dev_pki, store, archive)


def hold_the_thread(queue: IntakeQueue, store: GatedStore) -> Future[IntakeResult]:
    """Submit a first title and keep the queue's thread inside its transaction."""
    store.hold.set()
    first = queue.submit("greffe", title(0), sender="greffe:x")
    assert store.entered.wait(10)
    return first


def test_waiting_titles_are_settled_as_one_batch_and_answered_as_alone(
    services: IntakeServices, store: GatedStore, archive: FakeArchive
) -> None:
    sizes: list[int] = []
    queue = IntakeQueue(services, on_batch=sizes.append)
    try:
        first = hold_the_thread(queue, store)
        waiting = [queue.submit("greffe", p, sender="greffe:x") for p in (title(1), INVALID, title(1))]
        store.release()
        answers = [f.result(10) for f in (first, *waiting)]
    finally:
        queue.close()
    assert [a.outcome for a in answers] == ["accepted", "accepted", "rejected", "duplicate"]
    assert answers[3].receipt == answers[1].receipt
    assert store.transactions == 2  # the first title's, then the three that waited, together
    assert sizes == [1, 3]
    assert archive.kinds().count("inbound-payload") == 4


def test_answers_match_receive_one_by_one(dev_pki: Path) -> None:
    payloads = [title(1), INVALID, title(2), title(1)]
    single = services_for(dev_pki, MemoryStore(), FakeArchive())
    expected = [receive(single, "greffe", p, sender="greffe:x") for p in payloads]
    queue = IntakeQueue(services_for(dev_pki, MemoryStore(), FakeArchive()))
    try:
        got = [f.result(10) for f in [queue.submit("greffe", p, sender="greffe:x") for p in payloads]]
    finally:
        queue.close()
    assert [r.outcome for r in got] == [r.outcome for r in expected]
    assert [r.receipt for r in got] == [r.receipt for r in expected]


def test_with_a_validation_pool_the_next_batch_is_validated_while_one_is_stored(
    services: IntakeServices, store: GatedStore
) -> None:
    with validation_pool(services, 1) as pool:
        queue = IntakeQueue(services, executor=pool, max_batch=4)
        try:
            first = hold_the_thread(queue, store)
            later = [queue.submit("greffe", title(n), sender="greffe:x") for n in range(1, 11)]
            store.release()
            answers = [f.result(30) for f in (first, *later)]
        finally:
            queue.close()
    assert [a.outcome for a in answers] == ["accepted"] * 11
    assert len({a.receipt.dossier_id for a in answers}) == 11
    assert store.transactions <= 1 + 3  # batches of at most 4 after the first


def test_an_idempotency_key_is_honoured(services: IntakeServices) -> None:
    queue = IntakeQueue(services)
    try:
        first = queue.submit("greffe", title(1), sender="greffe:x", idempotency_key="k").result(10)
        again = queue.submit("greffe", title(1), sender="greffe:x", idempotency_key="k").result(10)
        reused = queue.submit("greffe", title(2), sender="greffe:x", idempotency_key="k")
        with pytest.raises(IdempotencyKeyReused):
            reused.result(10)
    finally:
        queue.close()
    assert again.receipt == first.receipt


def test_a_failed_archive_sync_fails_the_whole_batch_and_the_queue_goes_on(dev_pki: Path) -> None:
    archive = FailingArchive()
    queue = IntakeQueue(services_for(dev_pki, MemoryStore(), archive))
    try:
        with pytest.raises(OSError, match="archive disk full"):
            queue.submit("greffe", title(1), sender="greffe:x").result(10)
        archive.failing = False  # the disk has room again
        assert queue.submit("greffe", title(2), sender="greffe:x").result(10).outcome == "accepted"
    finally:
        queue.close()


def test_a_request_cancelled_before_its_batch_is_dropped(
    services: IntakeServices, store: GatedStore, archive: FakeArchive
) -> None:
    queue = IntakeQueue(services)
    try:
        first = hold_the_thread(queue, store)
        gone = queue.submit("greffe", title(1), sender="greffe:x")
        kept = queue.submit("greffe", title(2), sender="greffe:x")
        assert gone.cancel()  # its caller went away (an HTTP client disconnected)
        store.release()
        assert first.result(10).outcome == "accepted"
        assert kept.result(10).outcome == "accepted"
    finally:
        queue.close()
    with pytest.raises(CancelledError):
        gone.result(0)
    payloads = [item.blob for item in archive.items if item.kind == "inbound-payload"]
    assert payloads == [title(0), title(2)]


def test_close_answers_what_was_submitted_then_refuses(services: IntakeServices, store: GatedStore) -> None:
    queue = IntakeQueue(services)
    first = hold_the_thread(queue, store)
    waiting = queue.submit("greffe", title(1), sender="greffe:x")
    closing = threading.Thread(target=queue.close)
    closing.start()
    store.release()
    closing.join(10)
    assert not closing.is_alive()
    assert (first.result(0).outcome, waiting.result(0).outcome) == ("accepted", "accepted")
    with pytest.raises(RuntimeError, match="closed"):
        queue.submit("greffe", title(2), sender="greffe:x")


def test_if_the_thread_dies_no_caller_waits_forever(
    services: IntakeServices, store: GatedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.infra.intake_queue as module

    class Fatal(BaseException):
        pass

    def broken(*args: object, **kwargs: object) -> list[Any]:
        raise Fatal("a bug in the queue")

    queue = IntakeQueue(services)
    first = hold_the_thread(queue, store)
    waiting = queue.submit("greffe", title(1), sender="greffe:x")
    monkeypatch.setattr(module, "settle", broken)
    store.release()
    assert first.result(10).outcome == "accepted"  # settled before the bug
    with pytest.raises((Fatal, RuntimeError)):
        waiting.result(10)
    with pytest.raises(RuntimeError, match="closed"):
        queue.submit("greffe", title(2), sender="greffe:x")


def test_max_batch_must_be_positive(services: IntakeServices) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        IntakeQueue(services, max_batch=0)


def test_when_the_validation_process_dies_titles_are_validated_in_the_server(
    services: IntakeServices,
) -> None:
    import os
    import signal

    with validation_pool(services, 1) as pool:
        queue = IntakeQueue(services, executor=pool)
        try:
            assert queue.submit("greffe", title(1), sender="greffe:x").result(30).outcome == "accepted"
            for pid in list(pool._processes):
                os.kill(pid, signal.SIGKILL)
            answers = [queue.submit("greffe", title(n), sender="greffe:x") for n in (2, 3)]
            assert [a.result(30).outcome for a in answers] == ["accepted", "accepted"]
            later = queue.submit("greffe", title(4), sender="greffe:x")
            assert later.result(30).outcome == "accepted"
        finally:
            queue.close()


def test_if_the_thread_dies_the_batch_already_validated_is_answered_too(
    services: IntakeServices, store: GatedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.infra.intake_queue as module

    class Fatal(BaseException):
        pass

    real = intake_settle
    calls = 0

    def settle_once(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Fatal("a bug in the queue")
        return real(*args)

    monkeypatch.setattr(module, "settle", settle_once)
    with validation_pool(services, 1) as pool:
        queue = IntakeQueue(services, executor=pool, max_batch=2)
        first = hold_the_thread(queue, store)
        later = [queue.submit("greffe", title(n), sender="greffe:x") for n in range(1, 7)]
        store.release()
        assert first.result(30).outcome == "accepted"
        for answer in later:  # every one of them is answered, none waits forever
            assert answer.exception(30) is not None


def test_a_batch_stops_at_max_batch_bytes_and_the_next_title_waits_for_the_next_batch(
    services: IntakeServices, store: GatedStore
) -> None:
    sizes: list[int] = []
    two_titles = 2 * len(title(1)) + 10
    queue = IntakeQueue(services, max_batch_bytes=two_titles, on_batch=sizes.append)
    first = hold_the_thread(queue, store)
    later = [queue.submit("greffe", title(n), sender="greffe:x") for n in range(1, 6)]
    closing = threading.Thread(target=queue.close)  # closing with a title held: it is answered too
    closing.start()
    store.release()
    closing.join(10)
    assert [a.result(0).outcome for a in (first, *later)] == ["accepted"] * 6
    assert sizes == [1, 2, 2, 1]


def test_one_batch_may_mix_the_three_sources(
    services: IntakeServices, store: GatedStore, archive: FakeArchive
) -> None:
    examples = Path(__file__).resolve().parents[2] / "schemas" / "examples"
    sizes: list[int] = []
    queue = IntakeQueue(services, on_batch=sizes.append)
    try:
        first = hold_the_thread(queue, store)
        mixed = [
            queue.submit(source, (examples / name).read_bytes(), sender=f"{source}:x")
            for source, name in (
                ("notaire", "notaire-1.xml"),
                ("avocat", "avocat-1.json"),
                ("greffe", "greffe-1.xml"),
            )
        ]
        store.release()
        answers = [a.result(10) for a in mixed]
    finally:
        queue.close()
    assert first.result(0).outcome == "accepted"
    assert sizes == [1, 3]
    assert [(a.outcome, a.receipt.source, a.receipt.sender) for a in answers] == [
        ("accepted", "notaire", "notaire:x"),
        ("accepted", "avocat", "avocat:x"),
        ("accepted", "greffe", "greffe:x"),
    ]
    assert len({a.receipt.dossier_id for a in answers}) == 3


def test_a_failing_batch_observer_does_not_stop_intake(services: IntakeServices) -> None:
    def broken(size: int) -> None:
        raise ValueError("metrics backend down")

    queue = IntakeQueue(services, on_batch=broken)
    try:
        answers = [queue.submit("greffe", title(n), sender="greffe:x").result(10) for n in (1, 2)]
    finally:
        queue.close()
    assert [a.outcome for a in answers] == ["accepted", "accepted"]


def dispatch_spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every batch the queue hands to validation (`prepare_many`)."""
    import gateway.infra.intake_queue as module
    import gateway.services.intake as intake

    real = intake.prepare_many
    sizes: list[int] = []

    def prepare_many(services: IntakeServices, batch: Sequence[Any], **options: Any) -> Any:
        prepared = real(services, batch, **options)
        sizes.append(len(batch))
        return prepared

    monkeypatch.setattr(module, "prepare_many", prepare_many)
    return sizes


def wait_for(condition: Any, seconds: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_with_a_pool_titles_go_to_validation_while_a_batch_is_being_stored(
    services: IntakeServices, store: GatedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The storer holds the database; what arrives meanwhile is validated at once, not after the commit
    (the convoy that halved HTTP throughput: bench/README.md, "Intake over mTLS")."""
    dispatched = dispatch_spy(monkeypatch)
    sizes: list[int] = []
    with validation_pool(services, 1) as pool:
        queue = IntakeQueue(services, executor=pool, on_batch=sizes.append)
        try:
            first = hold_the_thread(queue, store)
            later = []
            for n in range(1, 6):  # one at a time: five validation batches...
                later.append(queue.submit("greffe", title(n), sender="greffe:x"))
                wait_for(lambda n=n: sum(dispatched) == 1 + n)
            assert not store.gate.is_set()  # ...all handed to the pool while the first commit waits
            store.release()
            answers = [f.result(30) for f in (first, *later)]
        finally:
            queue.close()
    assert [a.outcome for a in answers] == ["accepted"] * 6
    assert dispatched == [1] * 6
    assert sizes == [1, 5]  # ...and stored together, in one transaction


def test_with_a_pool_a_stored_batch_stops_at_max_batch(
    services: IntakeServices, store: GatedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatched = dispatch_spy(monkeypatch)
    sizes: list[int] = []
    with validation_pool(services, 1) as pool:
        queue = IntakeQueue(services, executor=pool, max_batch=3, on_batch=sizes.append)
        try:
            first = hold_the_thread(queue, store)
            later = []
            for n in range(1, 8):
                later.append(queue.submit("greffe", title(n), sender="greffe:x"))
                wait_for(lambda n=n: sum(dispatched) == 1 + n)
            store.release()
            answers = [f.result(30) for f in (first, *later)]
        finally:
            queue.close()
    assert [a.outcome for a in answers] == ["accepted"] * 8
    assert len({a.receipt.dossier_id for a in answers}) == 8
    assert sizes == [1, 3, 3, 1]


def test_with_a_pool_a_stored_batch_stops_at_max_batch_bytes(
    services: IntakeServices, store: GatedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatched = dispatch_spy(monkeypatch)
    sizes: list[int] = []
    two_titles = 2 * len(title(1)) + 10
    with validation_pool(services, 1) as pool:
        queue = IntakeQueue(services, executor=pool, max_batch_bytes=two_titles, on_batch=sizes.append)
        try:
            first = hold_the_thread(queue, store)
            later = []
            for n in range(1, 6):
                later.append(queue.submit("greffe", title(n), sender="greffe:x"))
                wait_for(lambda n=n: sum(dispatched) == 1 + n)
            store.release()
            answers = [f.result(30) for f in (first, *later)]
        finally:
            queue.close()
    assert [a.outcome for a in answers] == ["accepted"] * 6
    assert sizes == [1, 2, 2, 1]


def test_receive_on_an_event_loop_wakes_it_once_per_batch(
    services: IntakeServices, store: GatedStore
) -> None:
    import asyncio

    import gateway.infra.intake_queue as module

    queue = IntakeQueue(services)
    wakes = 0

    async def main() -> list[IntakeResult]:
        nonlocal wakes
        loop = asyncio.get_running_loop()
        real = loop.call_soon_threadsafe

        def counted(callback: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal wakes
            wakes += callback is module._wake  # the queue's, not asyncio's own (to_thread...)
            return real(callback, *args, **kwargs)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign,assignment]
        store.hold.set()
        first = asyncio.ensure_future(queue.receive("greffe", title(0), sender="greffe:x"))
        await asyncio.to_thread(store.entered.wait, 10)
        later = [
            asyncio.ensure_future(queue.receive("greffe", p, sender="greffe:x"))
            for p in (title(1), INVALID, title(2), title(1))
        ]
        await asyncio.sleep(0.05)  # all four are queued behind the held transaction
        store.release()
        return list(await asyncio.gather(first, *later))

    try:
        answers = asyncio.run(main())
    finally:
        queue.close()
    assert [a.outcome for a in answers] == ["accepted", "accepted", "rejected", "accepted", "duplicate"]
    assert answers[4].receipt == answers[1].receipt
    assert wakes == 2  # the first title's batch, then the four others' together


def test_receive_cancelled_before_its_batch_is_dropped(
    services: IntakeServices, store: GatedStore, archive: FakeArchive
) -> None:
    import asyncio

    queue = IntakeQueue(services)

    async def main() -> tuple[IntakeResult, IntakeResult]:
        store.hold.set()
        first = asyncio.ensure_future(queue.receive("greffe", title(0), sender="greffe:x"))
        await asyncio.to_thread(store.entered.wait, 10)
        gone = asyncio.ensure_future(queue.receive("greffe", title(1), sender="greffe:x"))
        kept = asyncio.ensure_future(queue.receive("greffe", title(2), sender="greffe:x"))
        await asyncio.sleep(0.01)
        gone.cancel()  # the HTTP client disconnected
        await asyncio.sleep(0.01)
        store.release()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await first, await kept

    try:
        first, kept = asyncio.run(main())
    finally:
        queue.close()
    assert (first.outcome, kept.outcome) == ("accepted", "accepted")
    payloads = [item.blob for item in archive.items if item.kind == "inbound-payload"]
    assert payloads == [title(0), title(2)]
