"""An outside verifier of a tiled transparency log, written from the specifications only:
c2sp.org/tlog-tiles (paths, tiles, entry bundles), c2sp.org/tlog-checkpoint and
c2sp.org/signed-note (the checkpoint), RFC 9162 §2.1 (Merkle tree hash, inclusion and consistency
proofs). It imports nothing from the gateway: `fetch(path)` returns the bytes at <prefix>/<path>.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

Fetch = Callable[[str], bytes]


class Invalid(Exception):
    pass


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(entry: bytes) -> bytes:
    return _sha(b"\x00" + entry)  # RFC 9162 §2.1.1


def node(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right)


def _k(n: int) -> int:  # the largest power of two smaller than n
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def open_checkpoint(note: str, public_key: ec.EllipticCurvePublicKey, origin: str) -> Checkpoint:
    """tlog-checkpoint body under a signed-note ECDSA (type 0x02) signature by `public_key`."""
    text, sep, signatures = note.partition("\n\n")
    if not sep:
        raise Invalid("no blank line between the note text and its signatures")
    body = (text + "\n").encode()
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_id = _sha(spki)[:4]
    for line in signatures.splitlines():
        name, _, sig = line.removeprefix("\u2014 ").rpartition(" ")
        raw = base64.b64decode(sig)
        if line.startswith("\u2014 ") and name == origin and raw[:4] == key_id:
            public_key.verify(raw[4:], body, ec.ECDSA(hashes.SHA256()))  # raises if it does not verify
            lines = text.split("\n")
            if lines[0] != origin:
                raise Invalid("origin")
            return Checkpoint(lines[0], int(lines[1]), base64.b64decode(lines[2]))
    raise Invalid("no signature by the expected key")


def _index_path(n: int) -> str:
    digits = str(n).zfill(3)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


class TiledLog:
    """Reads the tree of size `size` through its tiles, fetching each tile once."""

    def __init__(self, fetch: Fetch, size: int) -> None:
        self.fetch, self.size = fetch, size
        self._tiles: dict[tuple[str, int], bytes] = {}

    def _tile(self, level: str, index: int, hashes_at_level: int) -> bytes:
        key = (level, index)
        if key not in self._tiles:
            width = min(256, hashes_at_level - index * 256)
            suffix = "" if width == 256 else f".p/{width}"
            self._tiles[key] = self.fetch(f"tile/{level}/{_index_path(index)}{suffix}")
        return self._tiles[key]

    def _stored(self, level: int, i: int) -> bytes:
        """Hash number i of tile level `level`: MTH of leaves [i*256**level, (i+1)*256**level)."""
        tile = self._tile(str(level), i // 256, self.size // 256**level)
        return tile[(i % 256) * 32 : (i % 256) * 32 + 32]

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) (RFC 9162 §2.1.1) from tile hashes."""
        n = end - start
        if n == 0:
            return _sha(b"")
        for level in range(5, -1, -1):  # an aligned run of whole tile-level hashes
            span = 256**level
            if n % span == 0 and start % span == 0 and (n // span) & (n // span - 1) == 0:
                hashes = [self._stored(level, i) for i in range(start // span, end // span)]
                while len(hashes) > 1:
                    hashes = [node(hashes[j], hashes[j + 1]) for j in range(0, len(hashes), 2)]
                return hashes[0]
        k = _k(n)
        return node(self.mth(start, start + k), self.mth(start + k, end))

    def entry(self, index: int) -> bytes:
        bundle = self._tile("entries", index // 256, self.size)
        at = 0
        for _ in range(index % 256):
            at += 2 + int.from_bytes(bundle[at : at + 2], "big")
        length = int.from_bytes(bundle[at : at + 2], "big")
        return bundle[at + 2 : at + 2 + length]

    def inclusion_path(self, m: int) -> list[bytes]:
        """PATH(m, D[0:size]) of RFC 9162 §2.1.3.1."""

        def path(m: int, start: int, end: int) -> list[bytes]:
            n = end - start
            if n == 1:
                return []
            k = _k(n)
            if m < k:
                return [*path(m, start, start + k), self.mth(start + k, end)]
            return [*path(m - k, start + k, end), self.mth(start, start + k)]

        return path(m, 0, self.size)

    def consistency_proof(self, m: int) -> list[bytes]:
        """PROOF(m, D[0:size]) of RFC 9162 §2.1.4.1."""

        def sub(m: int, start: int, end: int, b: bool) -> list[bytes]:
            n = end - start
            if m == n:
                return [] if b else [self.mth(start, end)]
            k = _k(n)
            if m <= k:
                return [*sub(m, start, start + k, b), self.mth(start + k, end)]
            return [*sub(m - k, start + k, end, False), self.mth(start, start + k)]

        return sub(m, 0, self.size, True)


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        raise Invalid("index beyond the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Invalid("path too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != root:
        raise Invalid("inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> None:
    """RFC 9162 §2.1.4.2 (0 < first < second)."""
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise Invalid("proof too long")
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise Invalid("consistency proof does not match the roots")
