"""Concurrent transmissions taken in batches: how the HTTP server calls intake.

Requests from the event loop (or any thread) are queued. With a validation pool (worker
processes), two threads share the work: the dispatcher hands every request to the pool as soon as
it arrives (`prepare_many`: stamped, then validated, rendered and signed in a worker), and the
storer takes whatever is waiting for storage, at most `max_batch` titles and `max_batch_bytes`
of payloads (which may carry the judgment as a PDF), and settles it (`settle`: one transaction
with the archive's entries), then answers each request with the receipt it would have had alone.
So validation never waits for a commit nor a commit for the next titles to be taken: while a
batch is being stored, the titles that came meanwhile are already being validated, and on a
two-core machine the server process spends its time on HTTP and storage and the validation
process on XML, rules and signatures. Without a pool, one thread takes, validates and stores.

Why not a thread per request: each of them contends for the GIL with the event loop and with the
others, and each pays its own wake-ups; under load that cost as much CPU as the intake itself.
A batch is as large as the queue is when the storer comes back for more, so a quiet server
answers one title at a time without waiting, and a busy one shares its commits. Callers on an
event loop `await receive(...)`: the answers of a batch reach their loop in one wake-up, not one
per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, InvalidStateError
from dataclasses import dataclass

from gateway.domain.transmission import SourceKind
from gateway.services.intake import (
    IntakeResult,
    IntakeServices,
    PreparedBatch,
    Submission,
    prepare_many,
    settle,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 128
DEFAULT_MAX_BATCH_BYTES = 32 * 1024 * 1024  # titles may carry their judgment as a PDF


@dataclass(frozen=True, slots=True)
class _Request:
    submission: Submission
    answer: Future[IntakeResult]
    # a caller awaiting on an event loop: `answer` is copied into `waiter` on `loop`
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[IntakeResult] | None = None


Answer = IntakeResult | BaseException


class IntakeQueue:
    """`submit` a transmission, get a Future of its IntakeResult (or of the error it met);
    `await receive(...)` on an event loop."""

    def __init__(
        self,
        services: IntakeServices,
        *,
        executor: Executor | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """`on_batch(size)` is told the size of every batch settled (for metrics)."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.services = services
        self._executor = executor
        self._max_batch = max_batch
        self._max_batch_bytes = max_batch_bytes
        self._held: _Request | None = None  # taken, but for the next batch (see _take)
        self._on_batch = on_batch
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        # dispatcher -> storer: requests whose validation is under way; None: no more
        self._validating: queue.SimpleQueue[tuple[list[_Request], PreparedBatch] | None] = queue.SimpleQueue()
        self._closed = False
        self._dead = False  # a thread died: whatever is taken from now on is failed at once
        self._taken: list[_Request] = []  # taken from the queue, maybe not answered yet
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._main, args=(self._store,), name="intake-store")]
        if executor is not None:
            self._threads.append(
                threading.Thread(target=self._main, args=(self._dispatch,), name="intake-dispatch")
            )
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def submit(
        self,
        source: SourceKind | str,
        payload: bytes,
        *,
        sender: str,
        idempotency_key: str | None = None,
    ) -> Future[IntakeResult]:
        answer: Future[IntakeResult] = Future()
        self._put(_Request(Submission(source, payload, sender, idempotency_key), answer))
        return answer

    async def receive(
        self,
        source: SourceKind | str,
        payload: bytes,
        *,
        sender: str,
        idempotency_key: str | None = None,
    ) -> IntakeResult:
        """`submit`, awaited: the answers of one batch wake the event loop once."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[IntakeResult] = loop.create_future()
        answer: Future[IntakeResult] = Future()

        def given_up(done: asyncio.Future[IntakeResult]) -> None:
            if done.cancelled():  # the caller went away: dropped unless its batch has started
                answer.cancel()

        waiter.add_done_callback(given_up)
        self._put(_Request(Submission(source, payload, sender, idempotency_key), answer, loop, waiter))
        return await waiter

    def _put(self, request: _Request) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the intake queue is closed")
            self._queue.put(request)

    def close(self, timeout: float | None = 60.0) -> None:
        """Answer everything already submitted, then stop the threads (submit refuses from now on)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)

    # --- the threads -----------------------------------------------------------------------

    def _main(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            log.exception("the intake queue stopped")
            stopped = RuntimeError("the intake queue stopped")
            stopped.__cause__ = exc
            with self._lock:
                self._closed = self._dead = True
                held = [self._held] if self._held is not None else []
                self._held = None
                # the storer answers what it was given; the dispatcher answered what it took
                taken = self._taken if work == self._store else []
                stranded = [r for r in [*taken, *held] if not r.answer.done()]
            self._validating.put(None)  # the storer stores what it has, then stops
            while True:  # what still waits (nothing more comes: submit refuses now)
                try:
                    waiting = self._queue.get_nowait()
                except queue.Empty:
                    break
                if waiting is not None and waiting.answer.set_running_or_notify_cancel():
                    stranded.append(waiting)
            self._queue.put(None)  # the dispatcher, if any, stops
            _answer([(r, stopped) for r in stranded])

    def _dispatch(self) -> None:
        """With a pool: take what is waiting and have it validated at once; the storer stores it."""
        while True:
            requests, stopping = self._take(block=True)
            with self._lock:
                dead = self._dead
                if not dead:
                    self._taken = [r for r in self._taken if not r.answer.done()] + requests
            if dead:
                _answer([(r, RuntimeError("the intake queue stopped")) for r in requests])
            elif requests:
                prepared = self._prepare(requests)
                if prepared is not None:
                    self._validating.put(prepared)
            if stopping:
                self._validating.put(None)
                return

    def _store(self) -> None:
        if self._executor is None:
            self._store_here()
            return
        carried: list[tuple[list[_Request], PreparedBatch]] = []
        stopping = False
        while carried or not stopping:
            if not carried:
                following = self._validating.get()
                if following is None:
                    return
                carried.append(following)
            while not stopping:  # whatever else is already waiting for storage joins this batch
                try:
                    following = self._validating.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    stopping = True
                else:
                    carried.append(following)
            batch, carried = self._cut(carried)
            self._settle(
                [r for requests, _ in batch for r in requests], PreparedBatch.join([p for _, p in batch])
            )

    def _cut(
        self, waiting: list[tuple[list[_Request], PreparedBatch]]
    ) -> tuple[list[tuple[list[_Request], PreparedBatch]], list[tuple[list[_Request], PreparedBatch]]]:
        """The next batch (at most `max_batch` titles and `max_batch_bytes`, but at least one
        title), and what is left for the one after."""
        batch: list[tuple[list[_Request], PreparedBatch]] = []
        count = total = 0
        for n, (requests, prepared) in enumerate(waiting):
            take = 0
            for request in requests:
                size = len(request.submission.payload)
                if count + take >= self._max_batch or (count + take and total + size > self._max_batch_bytes):
                    break
                take += 1
                total += size
            if take:
                batch.append((requests[:take], prepared.part(0, take)))
                count += take
            if take < len(requests):
                rest = [(requests[take:], prepared.part(take)), *waiting[n + 1 :]]
                return batch, rest
        return batch, []

    def _store_here(self) -> None:
        """Without a pool: take what is waiting, validate it in this thread, store it."""
        stopping = False
        while not stopping or self._held is not None:
            requests, stop_seen = self._take(block=not stopping)
            stopping = stopping or stop_seen
            with self._lock:
                self._taken = [r for r in self._taken if not r.answer.done()] + requests
            prepared = self._prepare(requests)
            if prepared is not None:
                self._settle(*prepared)

    def _take(self, *, block: bool) -> tuple[list[_Request], bool]:
        """What is waiting (at least one request if `block`), and whether close() was called.

        At most `max_batch` titles and `max_batch_bytes` of payloads (but always one): a request
        that would go over is held for the next batch.
        """
        taken: list[_Request] = []
        total = 0
        while len(taken) < self._max_batch:
            if self._held is not None:
                request, self._held = self._held, None
            else:
                try:
                    waiting = self._queue.get(block=block and not taken)
                except queue.Empty:
                    break
                if waiting is None:
                    return taken, True
                # a request whose caller gave up (its future cancelled) before we started is dropped
                if not waiting.answer.set_running_or_notify_cancel():
                    continue
                request = waiting
            size = len(request.submission.payload)
            if taken and total + size > self._max_batch_bytes:
                self._held = request
                break
            taken.append(request)
            total += size
        return taken, False

    def _prepare(self, requests: list[_Request]) -> tuple[list[_Request], PreparedBatch] | None:
        if not requests:
            return None
        submissions = [r.submission for r in requests]
        try:
            try:
                prepared = prepare_many(self.services, submissions, executor=self._executor)
            except BrokenExecutor:
                # a validation process died: validate here from now on rather than fail every title
                log.error("the validation processes are gone: titles are validated in the server process")
                self._executor = None
                prepared = prepare_many(self.services, submissions)
        except BaseException as exc:  # fail these titles, keep serving
            log.exception("could not start validating %d transmissions", len(requests))
            self._fail(requests, exc)
            return None
        return requests, prepared

    def _fail(self, requests: list[_Request], exc: BaseException) -> None:
        """Answer `requests` with `exc`; if it is fatal to the thread, refuse new work first."""
        fatal = not isinstance(exc, Exception)
        if fatal:
            with self._lock:
                self._closed = True
        _answer([(request, exc) for request in requests])
        if fatal:
            raise exc

    def _settle(self, requests: list[_Request], prepared: PreparedBatch) -> None:
        if self._on_batch is not None:
            try:
                self._on_batch(len(requests))
            except Exception:  # metrics must never stop intake
                log.exception("on_batch failed")
        try:
            answers = settle(self.services, prepared)
        except BaseException as exc:  # the archive sync failed: nothing of the batch is answered
            log.exception("a batch of %d transmissions failed", len(requests))
            self._fail(requests, exc)
            return
        _answer(list(zip(requests, answers, strict=True)))


def _answer(answers: Sequence[tuple[_Request, Answer]]) -> None:
    """Resolve each request's future; then wake each event loop once for all of its callers."""
    loops: dict[asyncio.AbstractEventLoop, list[_Request]] = {}
    for request, answer in answers:
        try:  # the first answer wins (after a thread died, another may answer it too)
            if isinstance(answer, BaseException):
                request.answer.set_exception(answer)
            else:
                request.answer.set_result(answer)
        except InvalidStateError:
            continue
        if request.loop is not None:
            loops.setdefault(request.loop, []).append(request)
    for loop, requests in loops.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody awaits these any more
            loop.call_soon_threadsafe(_wake, requests)


def _wake(requests: list[_Request]) -> None:
    """On the caller's event loop: hand each request's answer to its waiter."""
    for request in requests:
        waiter = request.waiter
        if waiter is None or waiter.done():
            continue
        exc = request.answer.exception()
        if exc is not None:
            waiter.set_exception(exc)
        else:
            waiter.set_result(request.answer.result())
