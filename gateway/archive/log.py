"""The log's rows (SQLAlchemy Core, SQLite or PostgreSQL): entries, the sequencing counter, small
blobs and checkpoints. Every function runs in the caller's transaction (`conn`).

Sequencing: `claim_sequence` moves the single `archive_head` row forward by the number of entries
a transaction appends (`UPDATE ... RETURNING`): one sequencing step per group, as Tessera
batches its entries. The row lock is held until the transaction ends, so sequence numbers are
handed out and committed one transaction at a time, and a rolled-back transaction gives its
numbers back: no gap, no duplicate (PostgreSQL: the row lock; SQLite: writers are serialised by
BEGIN IMMEDIATE anyway). Callers take it last in their transaction (see `Archive.append_many`).
Small blobs are inserted before the counter is taken, so a transaction holding the counter never
waits for another one's blob row (no lock cycle).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, Insert, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.archive.checkpoint import Checkpoint
from gateway.archive.errors import ArchiveCorrupt
from gateway.store import schema
from gateway.store.bulk import insert_rows

READ_CHUNK = 20_000


def _insert_ignoring(conn: Connection, table: Table, key: str) -> Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])


def put_blobs(conn: Connection, blobs: dict[str, bytes]) -> None:
    """Insert blobs not stored yet (content-addressed: a second copy is the same bytes)."""
    if blobs:
        rows = [{"sha256": d, "data": blobs[d]} for d in sorted(blobs)]  # one lock order for all
        insert_rows(conn, schema.archive_blobs, rows, ignore_conflict_on=["sha256"])


def get_blob(conn: Connection, digest: str) -> bytes | None:
    t = schema.archive_blobs
    data = conn.execute(select(t.c.data).where(t.c.sha256 == digest)).scalar()
    return None if data is None else bytes(data)


def claim_sequence(conn: Connection, count: int) -> int:
    """Lock the counter row until the transaction ends and take `count` numbers: the first one."""
    t = schema.archive_head
    stmt = update(t).where(t.c.id == 1).values(size=t.c.size + count).returning(t.c.size)
    end = conn.execute(stmt).scalar()
    if end is None:
        raise ArchiveCorrupt("the archive's sequencing row is missing", field="archive_head")
    return int(end) - count


def head_size(conn: Connection) -> int:
    """How many entries are committed (what this transaction sees)."""
    t = schema.archive_head
    value = conn.execute(select(t.c.size).where(t.c.id == 1)).scalar()
    return int(value or 0)


def insert_entries(conn: Connection, rows: Sequence[tuple[int, bytes, bytes]]) -> None:
    insert_rows(
        conn,
        schema.archive_entries,
        [{"seq": seq, "leaf": leaf, "leaf_hash": digest} for seq, leaf, digest in rows],
    )


def read_entries(conn: Connection, start: int, end: int) -> Iterator[tuple[int, bytes, bytes]]:
    """(seq, leaf, stored leaf hash) for start <= seq < end, in order, read in chunks."""
    t = schema.archive_entries
    while start < end:
        stop = min(end, start + READ_CHUNK)
        query = select(t.c.seq, t.c.leaf, t.c.leaf_hash).where(t.c.seq >= start, t.c.seq < stop)
        for seq, leaf, digest in conn.execute(query.order_by(t.c.seq)):
            yield int(seq), bytes(leaf), bytes(digest)
        start = stop


_ONE_LEAF = select(schema.archive_entries.c.leaf).where(schema.archive_entries.c.seq == bindparam("seq"))


def read_leaf(conn: Connection, seq: int) -> bytes | None:
    leaf = conn.execute(_ONE_LEAF, {"seq": seq}).scalar()
    return None if leaf is None else bytes(leaf)


def entry_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(schema.archive_entries)).scalar() or 0)


def insert_checkpoint(conn: Connection, checkpoint: Checkpoint) -> None:
    row = {"size": checkpoint.size, "note": checkpoint.note, "cms": checkpoint.cms}
    conn.execute(_insert_ignoring(conn, schema.archive_checkpoints, "size"), [row])


def latest_checkpoint_size(conn: Connection) -> int:
    value = conn.execute(select(func.max(schema.archive_checkpoints.c.size))).scalar()
    return int(value or 0)


def latest_checkpoint(conn: Connection) -> Checkpoint | None:
    found = read_checkpoints(conn, latest=True)
    return found[0] if found else None


def read_checkpoints(conn: Connection, *, latest: bool = False) -> list[Checkpoint]:
    """Every checkpoint, smallest tree first (or only the latest one)."""
    t = schema.archive_checkpoints
    query = select(t.c.size, t.c.note, t.c.cms)
    query = query.order_by(t.c.size.desc()).limit(1) if latest else query.order_by(t.c.size)
    found = []
    for size, note, cms in conn.execute(query):
        where = f"checkpoint {size}"
        checkpoint = Checkpoint.from_note(note, bytes(cms), where=where)
        if checkpoint.size != size:
            raise ArchiveCorrupt(f"{where}: the note says {checkpoint.size} entries", field=where)
        found.append(checkpoint)
    return found
