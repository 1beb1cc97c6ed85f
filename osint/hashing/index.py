"""Hamming search over many hashes: brute-force popcount for one query, multi-index hashing for all pairs.

Hashes are rows of 64-bit words (a 64-bit pHash is one word, a 256-bit PDQ four). One query against a
million 64-bit hashes is an XOR and a popcount over 8 MB: a few milliseconds, no index needed. Finding
every pair closer than r among N hashes uses multi-index hashing (Norouzi et al., 2012): split each hash
into m chunks; two hashes within r bits agree to within r // m bits on at least one chunk (pigeonhole),
so only hashes whose chunk lies in that small ball need a full comparison. The chunking is chosen per
call from a cost estimate, falling back to blocked brute force when the radius is too wide for it to pay.
The candidates are compared by a loop compiled with numba: at PDQ's 31 of 256 bits they are many (random
hashes: about N^2/30 for N rows against 8N variants), and a compiled comparison costs nanoseconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np
from numba import njit, types  # type: ignore[import-untyped]
from numba.extending import intrinsic  # type: ignore[import-untyped]

BLOCK_CELLS = 1 << 24   # brute-force pair blocks hold at most this many hash comparisons (~130 MB of words)
KEY_BLOCK = 1 << 12     # multi-index: left buckets per compiled call (bounds the pairs buffer)


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
    both sides' rows sorted by one chunk at a time (bits/8 + 12 bytes per row and a bucket table of at most
    2^22 entries each)."""

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
    """Pairs within `radius` through each chunk in turn, as a bucket join: left and right rows sorted into buckets
    by the chunk, and every left bucket compared with the right buckets within r // m bits of it by a compiled loop.

    Work is one comparison per candidate (rows sharing a bucket up to the flips); a left bucket's rows are compared
    together, so the right buckets they meet stay in cache. A pair already within r // m bits on an earlier chunk
    is left to that chunk, so each pair comes out once.
    """
    chunks = _chunks(right.shape[1], per_word)
    sub = radius // len(chunks)
    table = np.array(chunks, dtype=np.int64)
    left = np.ascontiguousarray(left, dtype=np.uint64)
    right = np.ascontiguousarray(right, dtype=np.uint64)
    for c, (word, shift, width) in enumerate(chunks):
        flips = _ball(width, sub).astype(np.int64)
        right_order, right_bucket = _buckets(right[:, word], shift, width)
        left_order, left_bucket = _buckets(left[:, word], shift, width)
        keys = np.flatnonzero(np.diff(left_bucket))          # buckets holding left rows
        left_rows, right_rows = left[left_order], right[right_order]   # a bucket's rows side by side, in cache
        for start in range(0, len(keys), KEY_BLOCK):
            block = keys[start:start + KEY_BLOCK]
            size = 1 << 12
            while True:
                out_i, out_j = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
                out_d = np.empty(size, dtype=np.int32)
                n = _join(left_rows, right_rows, block, left_order, left_bucket, right_order, right_bucket, flips, radius,
                          self_join, table, c, sub, out_i, out_j, out_d)
                if n <= size:
                    break
                size = n
            if n:
                yield Pairs(out_i[:n], out_j[:n], out_d[:n])


def _buckets(column: np.ndarray, shift: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by one chunk of one word, and where each chunk value's rows start: order[b[k]:b[k + 1]]."""
    key = ((column >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.uint32)
    order = np.argsort(key, kind="stable")
    bucket = np.zeros((1 << width) + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=1 << width), out=bucket[1:])
    return order, bucket


@intrinsic
def _popcount(typingctx, x):  # type: ignore[no-untyped-def]
    """Bits set in a uint64: LLVM's ctpop (the CPU's popcnt instruction)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])
    return types.int64(types.uint64), codegen


@njit(cache=True, nogil=True)
def _join(left, right, keys, left_order, left_bucket, right_order, right_bucket, flips, radius, self_join, chunks,
          c, sub, out_i, out_j, out_d):  # type: ignore[no-untyped-def]
    """Left buckets `keys` against chunk c's right buckets within the flips (left/right: the rows in bucket order,
    row a being left_order[a]): fills out_* up to their size and returns how many pairs there are."""
    n, nwords, size = 0, left.shape[1], len(out_i)
    for k in keys:
        for f in flips:
            lo, hi = right_bucket[k ^ f], right_bucket[(k ^ f) + 1]
            if lo == hi:
                continue
            for a in range(left_bucket[k], left_bucket[k + 1]):
                i = left_order[a]
                for p in range(lo, hi):
                    j = right_order[p]
                    if self_join and j <= i:
                        continue
                    d = 0
                    for w in range(nwords):
                        d += _popcount(left[a, w] ^ right[p, w])
                    if d > radius:
                        continue
                    earlier = False   # within sub on an earlier chunk: that chunk reported this pair
                    for e in range(c):
                        x = (left[a, chunks[e, 0]] ^ right[p, chunks[e, 0]]) >> np.uint64(chunks[e, 1])
                        if _popcount(x & np.uint64((1 << chunks[e, 2]) - 1)) <= sub:
                            earlier = True
                            break
                    if earlier:
                        continue
                    if n < size:
                        out_i[n], out_j[n], out_d[n] = i, j, d
                    n += 1
    return n
