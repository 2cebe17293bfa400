"""Progress of a long command on stderr: a live count on a terminal, one summary line otherwise
(a cron job's log gets `dossiers for 2026-12: 120000 of 120000`, not a bare label)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """Counts items as a run reports them (`update(n)`), shown on `stream`.

    >>> import io
    >>> out = io.StringIO()
    >>> with Progress("debits paid", stream=out) as seen:
    ...     seen.update(2)
    >>> out.getvalue()
    'debits paid: 2\\n'
    """

    def __init__(
        self, label: str, *, total: int | None = None, stream: TextIO | None = None, every: float = 0.2
    ) -> None:
        self.label, self.total, self.count = label, total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self._every, self._drawn = every, 0.0
        self._started = time.monotonic()

    def update(self, n: int) -> None:
        self.count += n
        now = time.monotonic()
        if self.live and now - self._drawn >= self._every:
            self._drawn = now
            self.stream.write("\r" + self._text())
            self.stream.flush()

    def _text(self) -> str:
        of = f" of {self.total}" if self.total is not None else ""
        return f"{self.label}: {self.count}{of}"

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        seconds = time.monotonic() - self._started
        took = f" in {seconds:.1f} s" if self.live else ""
        self.stream.write(("\r" if self.live else "") + self._text() + took + "\n")
        self.stream.flush()
