"""The intake's validation processes: a forked pool that validates, renders and signs titles for
gateway.services.intake.prepare_many, beside the thread that stores them.

Forked (POSIX), so the workers share the loaded code and inherit the signing key without it
being serialised; each keeps that signer in a module global set once at its start. A worker
ignores Ctrl-C (the parent decides when the pool stops, so that no validation process dies with a
traceback in the middle of a graceful shutdown) and dies with its parent (gateway.infra.orphans:
it holds the database and the archive open). The titles of a worker that died are validated again
in the server process, once (gateway.services.intake, `_Task.result`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor

from gateway.infra.orphans import die_with_parent
from gateway.services.intake import Checked, IntakeServices, Job, check_jobs
from gateway.services.ports import Signer

_worker_signer: Signer | None = None


def _init_worker(signer: Signer, parent: int) -> None:
    global _worker_signer  # noqa: PLW0603 - one per worker process, set once at its start
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # `gateway serve` blocks Ctrl-C and SIGTERM while it forks this pool: Ctrl-C is ignored from
    # now on (a held one is dropped), SIGTERM is the pool's own way of ending a broken worker
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    die_with_parent(parent)  # never outlive a killed server (it holds the database and archive)
    _worker_signer = signer


def _check_in_worker(jobs: list[Job]) -> list[Checked]:
    if _worker_signer is None:
        raise RuntimeError("not a validation worker: build the pool with validation_pool()")
    return check_jobs(_worker_signer, jobs)


class ValidationPool(ProcessPoolExecutor):
    """A process pool whose tasks are title checks (gateway.services.intake.CheckPool)."""

    def submit_checks(self, jobs: list[Job]) -> Future[list[Checked]]:
        return self.submit(_check_in_worker, jobs)


def validation_pool(services: IntakeServices, workers: int) -> ValidationPool:
    """`workers` forked processes, every one started at once, here, before the caller starts any
    thread (a fork with threads running copies their locks)."""
    pool = ValidationPool(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
        initargs=(services.signer, os.getpid()),
    )
    pool.submit(int).result()
    return pool
