"""Concurrent transmissions taken in batches by one thread: how the HTTP server calls intake.

Requests from the event loop (or any thread) are queued; one thread takes whatever is waiting as a
batch, has it validated (`prepare_many`, in worker processes when given a pool) and settles it
(`settle`: one transaction, one archive sync), then resolves each request's future with the
receipt it would have had alone. While a batch is being stored, the next one is already being
validated in the pool, so on a two-core machine the server process spends its time on HTTP and
storage and the validation process on XML, rules and signatures.

Why not a thread per request: each of them contends for the GIL with the event loop and with the
others, and each pays its own wake-ups; under load that cost as much CPU as the intake itself.
A batch is as large as the queue is when the thread comes back for more (at most `max_batch`
titles and `max_batch_bytes` of payloads, which may carry the judgment as a PDF), so
a quiet server answers one title at a time without waiting, and a busy one shares its commits.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future
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


class IntakeQueue:
    """`submit` a transmission, get a Future of its IntakeResult (or of the error it met)."""

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
        self._closed = False
        self._taken: list[_Request] = []  # taken from the queue by the thread, maybe not answered yet
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._main, name="intake-queue", daemon=True)
        self._thread.start()

    def submit(
        self,
        source: SourceKind | str,
        payload: bytes,
        *,
        sender: str,
        idempotency_key: str | None = None,
    ) -> Future[IntakeResult]:
        answer: Future[IntakeResult] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the intake queue is closed")
            self._queue.put(_Request(Submission(source, payload, sender, idempotency_key), answer))
        return answer

    def close(self, timeout: float | None = 60.0) -> None:
        """Answer everything already submitted, then stop the thread (submit refuses from now on)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join(timeout)

    # --- the thread ------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            log.exception("the intake queue stopped")
            with self._lock:
                self._closed = True
            stopped = RuntimeError("the intake queue stopped")
            stopped.__cause__ = exc
            held = [self._held] if self._held is not None else []
            for request in [*self._taken, *held]:  # taken but not answered (the next batch...)
                if not request.answer.done():
                    request.answer.set_exception(stopped)
            while True:
                try:
                    waiting = self._queue.get_nowait()
                except queue.Empty:
                    return
                if waiting is not None and waiting.answer.set_running_or_notify_cancel():
                    waiting.answer.set_exception(stopped)

    def _run(self) -> None:
        current: tuple[list[_Request], PreparedBatch] | None = None
        stopping = False
        while True:
            requests: list[_Request] = []
            if not stopping or self._held is not None:
                requests, stop_seen = self._take(block=current is None and not stopping)
                stopping = stopping or stop_seen
            self._taken = [r for r in self._taken if not r.answer.done()] + requests
            following = self._prepare(requests)
            if current is not None:
                self._settle(*current)
            current = following
            if self._executor is None and current is not None:
                # validated here already: nothing to overlap, answer at once
                self._settle(*current)
                current = None
            if stopping and current is None and self._held is None:
                return

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
        for request in requests:
            request.answer.set_exception(exc)
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
        for request, answer in zip(requests, answers, strict=True):
            if isinstance(answer, Exception):
                request.answer.set_exception(answer)
            else:
                request.answer.set_result(answer)
