"""The background SHA-256 gives hashlib's digest of the chunks, in order, whatever their sizes."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.digest import BackgroundSha256


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=5000), max_size=40))
def test_same_digest_as_hashlib(chunks: list[bytes]) -> None:
    background = BackgroundSha256()
    for chunk in chunks:
        background.update(chunk)
    expected = hashlib.sha256(b"".join(chunks))
    assert background.hexdigest() == expected.hexdigest()
    assert background.digest() == expected.digest()  # asked twice: the same answer


@pytest.mark.parametrize("depth", [1, 4, 16])
def test_more_chunks_than_the_queue_holds(depth: int) -> None:
    """100 chunks of 1 MiB: the writer waits for the hasher instead of queueing the file; the
    same digest whatever the queue's depth."""
    background, expected = BackgroundSha256(depth=depth), hashlib.sha256()
    for i in range(100):
        chunk = bytes([i]) * (1 << 20)
        background.update(chunk)
        expected.update(chunk)
    assert background.hexdigest() == expected.hexdigest()


def test_no_bytes_after_the_digest() -> None:
    background = BackgroundSha256()
    background.update(b"pain.008")
    background.close()
    background.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        background.update(b"more")
    assert background.hexdigest() == hashlib.sha256(b"pain.008").hexdigest()
