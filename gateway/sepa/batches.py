"""Reading the transactions of a pain file: rules and control sums, then batches, each rendered once.

Pass 1 (`plan`) reads the source once: checks every transaction (EPC rules: the fast path
`is_clean` on the transaction as it comes, normalization and the detailed rules only when it
says no) and keeps one counter per batch key (NbOfTxs, CtrlSum) -- memory is O(batches), not
O(transactions), plus a bit per transaction when some had to be normalized. Any rule error stops
everything before a byte is written.

Pass 2 renders each batch's transactions:
- when the source is *grouped* (all transactions of a batch are contiguous, e.g. sorted by
  sequence type and date, as the schedule produces them), one more read writes the whole file,
  one loop per batch (`grouped_bodies`: key, count, sum, render, buffered write); only the
  transactions pass 1 saw normalizing change are normalized again;
- otherwise the source is read once per batch, filtering on the key (a handful of batches per
  run: FRST/RCUR times 3 collection days), still without holding transactions in memory.
Pass 2 re-counts each batch and raises `totals-mismatch` if the source changed in between.

`one_pass` writes from a plan computed elsewhere (the store's GROUP BY): one read, each
transaction checked and rendered once, with the same `grouped_bodies`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gateway.errors import Code, Issue, RuleViolation
from gateway.sepa.model import ByteSink
from gateway.sepa.xmltext import FRAGMENTS_PER_WRITE, write_fragments

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

MAX_REPORTED_ISSUES = 100


@dataclass(frozen=True, slots=True)
class Batch(Generic[K]):
    """One future PmtInf block: its key, number of transactions and control sum in cents."""

    key: K
    count: int
    total_cents: int
    # a transaction of the batch has its other party's bank in a non-EEA SEPA country: the
    # fund's own address goes in the batch header (`rules.fund_address_rule`)
    outside_eea: bool = False


@dataclass(frozen=True, slots=True)
class Plan(Generic[K]):
    """What pass 1 learnt: batches in order of first appearance, totals, whether grouped."""

    batches: tuple[Batch[K], ...]
    count: int
    total_cents: int
    grouped: bool


@dataclass(frozen=True, slots=True)
class Spec(Generic[T, K]):
    """How to read one kind of transaction."""

    name: str  # field path prefix in issues, e.g. "debits"
    normalize: Callable[[T], T]
    # fast path: True means normalize() returns the item itself and check() finds nothing
    is_clean: Callable[[T], bool]
    check: Callable[[T, str], list[Issue]]
    key: Callable[[T], K]
    amount: Callable[[T], int]
    # the other party's bank is in a non-EEA SEPA country; only asked of a transaction that
    # is_clean() refused (a clean one never is: the fast paths exclude it)
    outside_eea: Callable[[T], bool]
    # a cheaper stand-in for `key` where keys are only compared (==) with a planned batch's key:
    # equal to it exactly when `key` is (e.g. an itemgetter instead of a property, 0.2 us less a
    # transaction in the writing loop); None: `key`
    same_key: Callable[[T], object] | None = None


def plan(source: Callable[[], Iterator[T]], spec: Spec[T, K]) -> Plan[K]:
    """Pass 1: every rule on every transaction, and the per-batch control sums."""
    return _plan(source, spec)[0]


def _plan(source: Callable[[], Iterator[T]], spec: Spec[T, K]) -> tuple[Plan[K], bytearray | None]:
    """`plan`, and which transactions normalizing changed (a bit per transaction, None when
    none: the usual case), so that pass 2 normalizes only those."""
    counts: dict[K, list[int]] = {}
    outside: set[K] = set()
    changed: bytearray | None = None
    issues: list[Issue] = []
    hidden = 0
    grouped = True
    previous: object = object()
    total = 0
    index = -1
    ready, key_of, amount_of = spec.is_clean, spec.key, spec.amount
    for index, raw in enumerate(source()):
        if ready(raw):  # normalized and clean already: nearly every transaction
            item = raw
        else:
            item = spec.normalize(raw)
            if item is not raw:
                if changed is None:
                    changed = bytearray()
                if len(changed) <= index >> 3:
                    changed.extend(bytes((index >> 3) + 1024 - len(changed)))
                changed[index >> 3] |= 1 << (index & 7)
            if not spec.is_clean(item):
                found = spec.check(item, f"{spec.name}[{index}]")
                if found:
                    room = MAX_REPORTED_ISSUES - len(issues)
                    issues.extend(found[: max(room, 0)])
                    hidden += max(len(found) - max(room, 0), 0)
                if spec.outside_eea(item):
                    outside.add(key_of(item))
        key = key_of(item)
        amount = amount_of(item)
        entry = counts.get(key)
        if entry is None:
            counts[key] = [1, amount]
        else:
            if key != previous:
                grouped = False
            entry[0] += 1
            entry[1] += amount
        previous = key
        total += amount
    if hidden:
        last = issues[-1]
        issues.append(Issue(last.code, spec.name, f"... and {hidden} more issues not listed"))
    if issues:
        raise RuleViolation.from_issues(issues)
    if index < 0:
        raise RuleViolation(
            f"no {spec.name} to write: a pain file needs at least one transaction",
            code=Code.MISSING_FIELD,
            field=spec.name,
        )
    planned = Plan(
        batches=tuple(Batch(k, c, s, k in outside) for k, (c, s) in counts.items()),
        count=index + 1,
        total_cents=total,
        grouped=grouped,
    )
    return planned, changed


def _normalized(source: Iterator[T], spec: Spec[T, K], changed: bytearray | None) -> Iterator[T]:
    """Pass 2's transactions as pass 1 normalized them: only those it changed go through
    `normalize` again (the source yields the same transactions each time it is called)."""
    if changed is None:
        return source
    size = len(changed) << 3
    normalize = spec.normalize
    return (
        normalize(raw) if index < size and changed[index >> 3] & (1 << (index & 7)) else raw
        for index, raw in enumerate(source)
    )


def _recounted(items: Iterable[T], batch: Batch[K], spec: Spec[T, K]) -> Iterator[T]:
    count = 0
    total = 0
    for item in items:
        count += 1
        total += spec.amount(item)
        yield item
    if (count, total) != (batch.count, batch.total_cents):
        raise RuleViolation(
            f"batch {batch.key!r} changed between the two passes: {count} transactions / "
            f"{total} cents written, {batch.count} / {batch.total_cents} planned",
            code=Code.TOTALS_MISMATCH,
            field=spec.name,
        )


def batches(
    source: Callable[[], Iterator[T]], spec: Spec[T, K], planned: Plan[K]
) -> Iterator[tuple[Batch[K], Iterator[T]]]:
    """Pass 2: each planned batch with its (normalized) transactions, in planned order.

    The caller must consume each inner iterator before asking for the next batch."""
    if planned.grouped:
        groups = itertools.groupby((spec.normalize(r) for r in source()), key=spec.key)
        for batch, (key, items) in itertools.zip_longest(planned.batches, groups):
            if batch is None or key != batch.key:
                raise RuleViolation(
                    "the source changed between the two passes (batch order differs)",
                    code=Code.TOTALS_MISMATCH,
                    field=spec.name,
                )
            yield batch, _recounted(items, batch, spec)
        return
    for batch in planned.batches:
        items = (spec.normalize(r) for r in source() if spec.key(r) == batch.key)
        yield batch, _recounted(items, batch, spec)


#: A batch's transactions, written to a sink when the writer reaches that batch.
Body = Callable[[ByteSink], None]


def grouped_bodies(
    items: Iterable[T], spec: Spec[T, K], planned: Plan[K], render: Callable[[T], str], what: str
) -> Iterator[tuple[Batch[K], Body]]:
    """Each planned batch with its body, the transactions read ONCE from `items` (grouped in the
    plan's order): each body renders its batch's run of transactions in one loop -- key, count,
    sum, render, buffered write -- and checks them against the plan (`totals-mismatch`: `what`
    says which source moved). The caller writes each body before asking for the next batch."""
    end: Any = object()
    stream = iter(items)
    upcoming = [next(stream, end)]  # the first transaction of the next batch
    key_of, amount_of = spec.same_key or spec.key, spec.amount

    def mismatch(detail: str) -> RuleViolation:
        return RuleViolation(f"{what}: {detail}", code=Code.TOTALS_MISMATCH, field=spec.name)

    for batch in planned.batches:

        def body(sink: ByteSink, batch: Batch[K] = batch) -> None:
            key, item = batch.key, upcoming[0]
            count = total = 0
            group: list[str] = []
            while item is not end and key_of(item) == key:
                count += 1
                total += amount_of(item)
                group.append(render(item))
                if len(group) == FRAGMENTS_PER_WRITE:
                    sink.write("".join(group).encode())
                    group.clear()
                item = next(stream, end)
            if group:
                sink.write("".join(group).encode())
            upcoming[0] = item
            if (count, total) != (batch.count, batch.total_cents):
                raise mismatch(
                    f"batch {batch.key!r} has {count} transactions / {total} cents, "
                    f"{batch.count} / {batch.total_cents} planned"
                )

        yield batch, body
    if upcoming[0] is not end:
        raise mismatch("a transaction comes after the last planned batch (order or keys differ)")


def two_passes(
    source: Callable[[], Iterator[T]], spec: Spec[T, K], render: Callable[[T], str]
) -> tuple[Plan[K], Iterator[tuple[Batch[K], Body]]]:
    """Pass 1 now (rules and sums); pass 2 lazily, one body per batch, rendered with `render`."""
    planned, changed = _plan(source, spec)

    def bodies() -> Iterator[tuple[Batch[K], Body]]:
        if planned.grouped:
            items = _normalized(source(), spec, changed)
            yield from grouped_bodies(
                items, spec, planned, render, "the source changed between the two passes"
            )
            return
        for batch, items in batches(source, spec, planned):

            def body(sink: ByteSink, items: Iterator[T] = items) -> None:
                write_fragments(sink, (render(item) for item in items))

            yield batch, body

    return planned, bodies()


def checked(source: Iterable[T], spec: Spec[T, K], outside_eea: frozenset[K] = frozenset()) -> Iterator[T]:
    """Each transaction normalized and checked as it is read; the first one with an error stops
    the writing (RuleViolation): the caller discards the partly written file. A transaction
    whose other party banks outside the EEA must be in a batch of `outside_eea` (its header,
    written before it, carries the fund's address)."""
    ready = spec.is_clean
    for index, raw in enumerate(source):
        if ready(raw):
            yield raw
            continue
        item = spec.normalize(raw)
        if not spec.is_clean(item):
            found = spec.check(item, f"{spec.name}[{index}]")
            if found:
                raise RuleViolation.from_issues(found[:MAX_REPORTED_ISSUES])
            if spec.outside_eea(item) and spec.key(item) not in outside_eea:
                raise RuleViolation(
                    f"{spec.name}[{index}]: the other party's bank is outside the EEA but its batch "
                    "was planned without (the fund's address would be missing from the header)",
                    code=Code.TOTALS_MISMATCH,
                    field=f"{spec.name}[{index}]",
                )
        yield item


def one_pass(
    source: Iterable[T], spec: Spec[T, K], planned: Plan[K], render: Callable[[T], str]
) -> Iterator[tuple[Batch[K], Body]]:
    """Write a file from a plan computed elsewhere (the store's GROUP BY): the source is read
    once, grouped in the plan's order, each transaction checked and rendered once; every batch
    is recounted against the plan (`totals-mismatch` if they differ)."""
    if not planned.batches:
        raise RuleViolation(
            f"no {spec.name} to write: a pain file needs at least one transaction",
            code=Code.MISSING_FIELD,
            field=spec.name,
        )
    outside = frozenset(b.key for b in planned.batches if b.outside_eea)
    return grouped_bodies(
        checked(source, spec, outside), spec, planned, render, "the transactions do not follow the plan"
    )
