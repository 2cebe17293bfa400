"""Opt-in two-core mode of the writers: the rules pass in a forked process, rendering meanwhile.

Sequential mode (default, `gateway.sepa.batches`) reads the source twice, one pass after the
other. With `parallel=True` the two passes run at the same time:
- a forked child runs pass 1 (`batches.plan`: every EPC rule, NbOfTxs/CtrlSum per batch) and
  sends back the small Plan (or the rule issues) through a pipe;
- the parent reads the source once more meanwhile and renders each transaction into a
  temporary spool file per batch key (O(batches) open files, constant memory);
- once the plan is known (and the spool's own counts and sums agree with it), the file is
  assembled: envelope and PmtInf headers by lxml, each batch's bytes copied from its spool.
The output is byte-identical to sequential mode (same batch order: first appearance; same
transaction order inside a batch). Nothing reaches `out` when a rule fails.

Only for sources that can be read from a forked process (generators, files): a source holding
a database connection must not be iterated in a child -- keep the sequential default there.
The spool needs free disk space of about the file's size (in `spool_dir`, default $TMPDIR).
"""

from __future__ import annotations

import os
import pickle
import signal
import tempfile
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

from gateway.errors import Code, RuleViolation
from gateway.sepa.batches import Batch, Plan, Spec, batches, plan
from gateway.sepa.model import ByteSink
from gateway.sepa.xmltext import write_fragments

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

#: A batch's transactions, written to a sink when the assembly reaches that batch.
Body = Callable[[ByteSink], None]
_CHUNK = 1 << 20
_GROUP = 512


class _PlanInChild(Generic[K]):
    """Pass 1 in a forked process; `result()` waits for it."""

    def __init__(self, source: Callable[[], Iterator[T]], spec: Spec[T, K]) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: compute, report, leave without running the parent's cleanup
            os.close(read_fd)
            try:
                try:
                    payload = pickle.dumps(("plan", plan(source, spec)))
                except RuleViolation as exc:
                    payload = pickle.dumps(("issues", exc.issues))
            except BaseException as exc:
                payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
            os._exit(0)
        os.close(write_fd)
        self._pid = pid
        self._read_fd = read_fd

    def result(self) -> Plan[K]:
        with os.fdopen(self._read_fd, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(self._pid, 0)
        if not payload:
            raise RuntimeError("the rules process died without an answer")
        # our own forked child over a private pipe: not untrusted input
        kind, value = pickle.loads(payload)  # noqa: S301
        if kind == "issues":
            raise RuleViolation.from_issues(value)
        if kind == "error":
            raise RuntimeError(f"the rules process failed: {value}")
        assert isinstance(value, Plan)
        return value

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)
        os.close(self._read_fd)


class _SpoolFile:
    """Rendered fragments of one batch, on disk, with their count and sum."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = path.open("wb", buffering=_CHUNK)
        self._group: list[str] = []
        self.count = 0
        self.total_cents = 0

    def add(self, fragment: str, cents: int) -> None:
        self._group.append(fragment)
        self.count += 1
        self.total_cents += cents
        if len(self._group) == _GROUP:
            self._file.write("".join(self._group).encode())
            self._group.clear()

    def finish(self) -> None:
        if self._group:
            self._file.write("".join(self._group).encode())
            self._group.clear()
        self._file.close()

    def copy_to(self, sink: ByteSink) -> None:
        with self.path.open("rb") as spooled:
            while chunk := spooled.read(_CHUNK):
                sink.write(chunk)


@contextmanager
def sequential(
    source: Callable[[], Iterator[T]], spec: Spec[T, K], render: Callable[[T], str]
) -> Iterator[tuple[Plan[K], Iterator[tuple[Batch[K], Body]]]]:
    """The default: pass 1, then pass 2 batch by batch (gateway.sepa.batches)."""
    planned = plan(source, spec)

    def bodies() -> Iterator[tuple[Batch[K], Body]]:
        for batch, items in batches(source, spec, planned):

            def body(sink: ByteSink, items: Iterator[T] = items) -> None:
                write_fragments(sink, (render(item) for item in items))

            yield batch, body

    yield planned, bodies()


@contextmanager
def parallel(
    source: Callable[[], Iterator[T]],
    spec: Spec[T, K],
    render: Callable[[T], str],
    spool_dir: Path | None = None,
) -> Iterator[tuple[Plan[K], Iterator[tuple[Batch[K], Body]]]]:
    """Pass 1 in a child while this process renders to spool files (see module docstring)."""
    child: _PlanInChild[K] = _PlanInChild(source, spec)
    with tempfile.TemporaryDirectory(prefix="pain-spool-", dir=spool_dir) as directory:
        spools: dict[K, _SpoolFile] = {}
        try:
            for raw in source():
                item = spec.normalize(raw)
                key = spec.key(item)
                spool = spools.get(key)
                if spool is None:
                    spool = spools[key] = _SpoolFile(Path(directory) / f"{len(spools)}.part")
                spool.add(render(item), spec.amount(item))
            for spool in spools.values():
                spool.finish()
        except BaseException:
            child.kill()
            raise
        planned = child.result()
        rendered = [(k, s.count, s.total_cents) for k, s in spools.items()]
        if rendered != [(b.key, b.count, b.total_cents) for b in planned.batches]:
            raise RuleViolation(
                "the source changed between the two passes (batches, counts or sums differ)",
                code=Code.TOTALS_MISMATCH,
                field=spec.name,
            )
        yield planned, ((batch, spools[batch.key].copy_to) for batch in planned.batches)
