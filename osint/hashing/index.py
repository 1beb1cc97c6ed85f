"""Hamming search over many hashes: brute-force popcount for one query, multi-index hashing for all pairs.

Hashes are rows of 64-bit words (a 64-bit pHash is one word, a 256-bit PDQ four). One query against a
million 64-bit hashes is an XOR and a popcount over 8 MB: a few milliseconds, no index needed. Finding
every pair closer than r among N hashes uses multi-index hashing (Norouzi et al., 2012): split each hash
into m chunks; two hashes within r bits agree to within r // m bits on at least one chunk (pigeonhole),
so only hashes whose chunk lies in that small ball need a full comparison. The chunking is chosen per
call from a cost estimate, falling back to blocked brute force when the radius is too wide for it to pay.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

BLOCK_CELLS = 1 << 24   # brute-force pair blocks hold at most this many hash comparisons (~130 MB of words)


def to_words(hexes: Sequence[str], bits: int) -> np.ndarray:
    """Hex hashes as an (N, bits/64) uint64 array, most significant word first."""
    nwords = bits // 64
    raw = b"".join(bytes.fromhex(h) for h in hexes)
    if len(raw) != len(hexes) * nwords * 8:
        raise ValueError(f"every hash must have {bits} bits ({bits // 4} hex digits)")
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(hexes), nwords)


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between rows of `a` and `b` (broadcasting over the leading axes)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=-1, dtype=np.int32)


@dataclass(frozen=True)
class Pairs:
    """Index pairs (i into the left set, j into the right set) with their Hamming distance."""

    i: np.ndarray
    j: np.ndarray
    d: np.ndarray

    def __len__(self) -> int:
        return len(self.i)


def _empty() -> Pairs:
    z = np.zeros(0, dtype=np.int64)
    return Pairs(z, z, np.zeros(0, dtype=np.int32))


class HammingIndex:
    """An immutable set of N hashes of equal length; memory is N x bits/8 bytes, plus during a pair search
    one chunk column at a time (16 bytes per hash and a bucket table of at most 2^22 entries)."""

    def __init__(self, words: np.ndarray):
        words = np.asarray(words, dtype=np.uint64)
        words = words[:, None] if words.ndim == 1 else words      # one 64-bit word per hash may come flat
        self.columns = np.ascontiguousarray(words.T)    # word k of every hash is contiguous: fast scans
        self.words = self.columns.T

    def __len__(self) -> int:
        return len(self.words)

    @property
    def bits(self) -> int:
        return self.words.shape[1] * 64

    @property
    def nbytes(self) -> int:
        return int(self.columns.nbytes)

    def search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stored rows within `radius` bits of any query row: (rows, distance, nearest query row), nearest first."""
        q = np.asarray(query, dtype=np.uint64).reshape(-1, self.words.shape[1])
        found = [self._near(row, radius) for row in q]
        rows = np.concatenate([f[0] for f in found])
        dist = np.concatenate([f[1] for f in found])
        which = np.concatenate([np.full(len(f[0]), k, dtype=np.int32) for k, f in enumerate(found)])
        order = np.lexsort((which, dist, rows))                   # per stored row, its closest query row first
        first = order[np.unique(rows[order], return_index=True)[1]]
        first = first[np.argsort(dist[first], kind="stable")]
        return rows[first], dist[first], which[first]

    def _near(self, row: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Stored rows within `radius` of one hash, and their distances.

        Scans one contiguous word column at a time; after two words (at most 128 bits, so 8-bit counts) only
        rows still within the radius are looked at further.
        """
        partial = np.bitwise_count(self.columns[0] ^ row[0])
        if len(row) > 1:
            partial += np.bitwise_count(self.columns[1] ^ row[1])
        rows = np.flatnonzero(partial <= radius)
        dist = partial[rows].astype(np.int32)
        for k in range(2, len(row)):
            dist += np.bitwise_count(self.columns[k][rows] ^ row[k])
        keep = dist <= radius
        return rows[keep], dist[keep]

    def pairs(self, radius: int, queries: np.ndarray | None = None) -> Pairs:
        """Every (query row i, stored row j) within `radius` bits. Without `queries`: pairs i < j of this set."""
        left = self.words if queries is None else np.asarray(queries, dtype=np.uint64).reshape(-1, self.words.shape[1])
        if len(left) == 0 or len(self) == 0:
            return _empty()
        plan = _plan(len(left), len(self), self.bits, radius)
        found = list(_brute(left, self.words, radius, queries is None) if plan is None else
                     _multi_index(left, self.words, radius, queries is None, plan))
        if not found:
            return _empty()
        i = np.concatenate([p.i for p in found])
        j = np.concatenate([p.j for p in found])
        d = np.concatenate([p.d for p in found])
        key = np.unique(i * len(self) + j, return_index=True)[1]   # a pair may be found through several chunks
        return Pairs(i[key], j[key], d[key])


def _chunks(nwords: int, per_word: int) -> list[tuple[int, int, int]]:
    """(word, shift, width) of each chunk when every 64-bit word is cut into `per_word` near-equal pieces."""
    widths = [64 // per_word + (1 if k < 64 % per_word else 0) for k in range(per_word)]
    out = []
    for w in range(nwords):
        shift = 64
        for width in widths:
            shift -= width
            out.append((w, shift, width))
    return out


def _ball(width: int, radius: int) -> np.ndarray:
    """Every XOR mask of `width` bits with at most `radius` bits set."""
    masks = [sum(1 << b for b in bits) for r in range(radius + 1) for bits in combinations(range(width), r)]
    return np.array(masks, dtype=np.uint64)


def _plan(n_left: int, n_right: int, bits: int, radius: int) -> int | None:
    """Chunks per word for multi-index hashing, or None where blocked brute force is estimated cheaper.

    Cost model (unit: one word comparison): each probe is a bucket lookup (~10 per left hash) plus a full
    comparison of every candidate (~4); brute force compares every pair, word by word.
    """
    nwords = bits // 64
    best, best_cost = None, float(n_left) * n_right * nwords
    for per_word in (3, 4, 5, 6, 8):   # chunks of at most 22 bits: bucket tables stay small
        chunks = _chunks(nwords, per_word)
        sub = radius // len(chunks)
        probes = sum(comb(width, sub_r) for _, _, width in chunks for sub_r in range(sub + 1))
        width = min(c[2] for c in chunks)
        cost = probes * (10.0 * n_left + 4.0 * nwords * n_left * n_right / 2.0 ** width)
        if cost < best_cost:
            best, best_cost = per_word, cost
    return best


def _brute(left: np.ndarray, right: np.ndarray, radius: int, self_join: bool) -> Iterator[Pairs]:
    rows = max(1, BLOCK_CELLS // max(1, len(right)))
    for start in range(0, len(left), rows):
        block = distances(left[start:start + rows, None, :], right[None, :, :])
        i, j = np.nonzero(block <= radius)
        i = i + start
        keep = i < j if self_join else slice(None)
        yield Pairs(i[keep].astype(np.int64), j[keep].astype(np.int64), block[i[keep] - start, j[keep]])


def _multi_index(left: np.ndarray, right: np.ndarray, radius: int, self_join: bool,
                 per_word: int) -> Iterator[Pairs]:
    chunks = _chunks(right.shape[1], per_word)
    sub = radius // len(chunks)
    right = np.ascontiguousarray(right)      # candidate rows are gathered whole: row-major is faster
    for word, shift, width in chunks:
        mask = np.uint64((1 << width) - 1)
        key_right = (right[:, word] >> np.uint64(shift)) & mask
        order = np.argsort(key_right, kind="stable")
        bucket_size = np.bincount(key_right.astype(np.int64), minlength=1 << width)
        bucket_start = np.cumsum(bucket_size) - bucket_size     # right rows with chunk k: order[start[k]:+size[k]]
        key_left = ((left[:, word] >> np.uint64(shift)) & mask).astype(np.int64)
        for flip in _ball(width, sub).astype(np.int64):
            probe = key_left ^ flip
            lo, count = bucket_start[probe], bucket_size[probe]
            total = int(count.sum())
            if not total:
                continue
            i = np.repeat(np.arange(len(left)), count)
            starts = np.repeat(lo - (np.cumsum(count) - count), count)
            j = order[starts + np.arange(total)]
            if self_join:
                keep = i < j
                i, j = i[keep], j[keep]
            d = distances(left[i], right[j])
            near = d <= radius
            yield Pairs(i[near], j[near].astype(np.int64), d[near])
