"""Hamming search over many hashes: brute-force popcount for one query, multi-index hashing for all pairs.

Hashes are rows of 64-bit words (a 64-bit pHash is one word, a 256-bit PDQ four). One query against a
million 64-bit hashes is an XOR and a popcount over 8 MB: a few milliseconds, no index needed. Finding
every pair closer than r among N hashes uses multi-index hashing (Norouzi et al., 2012): split each hash
into m chunks with sub-radii s_k, sum(s_k + 1) > r; two hashes within r bits differ by at most s_k bits on
some chunk k (pigeonhole), so only hashes whose chunk lies in that small ball need a full comparison. The
chunking is chosen per call from a cost estimate, falling back to blocked brute force where it does not pay.
An exact search at PDQ's 31 of 256 bits cannot grow linearly: with chunks of log2 N bits its candidates and
lookups per query grow about as N^0.5 (12 chunks need sub-radius 2 on 8 of them; 16 chunks of 16 bits leave
N^2/30 candidates for N rows against 8N variants). The chunk rule (`near_chunk`, `pairs(certain=)`) keeps
exactness to a smaller radius and, beyond it, the pairs that one fixed chunk finds within 1 bit: a fixed
number of lookups per row, so grouping grows near-linearly. The join is compiled with numba.
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

    def pairs(self, radius: int, queries: np.ndarray | None = None, certain: int | None = None) -> Pairs:
        """Every (query row i, stored row j) within `radius` bits. Without `queries`: pairs i < j of this set.

        With `certain` below `radius` (the chunk rule, `near_chunk`): pairs beyond `certain` bits are kept only
        when one chunk of the two hashes differs by at most its sub-radius; every pair within `certain` bits
        has such a chunk (pigeonhole), so it is always kept. The search then costs about a search within
        `certain` bits: the chunks are fixed by `certain`, not by the number of rows.
        """
        left = self.words if queries is None else np.asarray(queries, dtype=np.uint64).reshape(-1, self.words.shape[1])
        if len(left) == 0 or len(self) == 0:
            return _empty()
        rule = _rule(self.words.shape[1], certain) if certain is not None and certain < radius else None
        plan = _plan(len(left), len(self), self.bits, radius, rule)
        if plan is None:
            found = list(_brute(left, self.words, radius, queries is None))
        else:
            found = list(_multi_index(left, self.words, radius, queries is None, plan))
        if not found:
            return _empty()
        out = Pairs(np.concatenate([p.i for p in found]), np.concatenate([p.j for p in found]),
                    np.concatenate([p.d for p in found]))
        if rule is None or plan is rule:
            return out
        keep = near_chunk(left[out.i], self.words[out.j], int(certain or 0))   # an exact search's pairs, under the rule
        return Pairs(out.i[keep], out.j[keep], out.d[keep])


RULE_PER_WORD = 3   # the chunk rule cuts every 64-bit word into chunks of 22, 21 and 21 bits


@dataclass(frozen=True)
class _Chunking:
    """Chunks (word, shift, width), one row each, and the sub-radius each is searched within."""

    table: np.ndarray
    subs: np.ndarray


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


def _chunking(nwords: int, per_word: int, certain: int) -> _Chunking:
    """Chunks and sub-radii s_k such that any two hashes within `certain` bits differ by at most s_k bits on some
    chunk k: sum(s_k + 1) > certain (the pigeonhole principle); the spare bits go to the first chunks."""
    chunks = _chunks(nwords, per_word)
    spare = max(0, certain + 1 - len(chunks))
    subs = [spare // len(chunks) + (1 if k < spare % len(chunks) else 0) for k in range(len(chunks))]
    return _Chunking(np.array(chunks, dtype=np.int64), np.array(subs, dtype=np.int64))


def _rule(nwords: int, certain: int) -> _Chunking:
    return _chunking(nwords, RULE_PER_WORD, certain)


def near_chunk(a: np.ndarray, b: np.ndarray, certain: int) -> np.ndarray:
    """The chunk rule: whether rows of `a` and `b` (broadcast) differ by at most s_k bits on some chunk k, for the
    chunking that makes this certain within `certain` bits (each word cut in 22, 21 and 21 bits). Beyond `certain`
    it holds for most close pairs (pairs at 31 of 256 bits with random differences, certain=23: 99.3%)."""
    rule = _rule(np.shape(a)[-1], certain)
    x = np.bitwise_xor(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))
    near = np.zeros(x.shape[:-1], dtype=bool)
    for (word, shift, width), sub in zip(rule.table.tolist(), rule.subs.tolist()):
        part = (x[..., word] >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        near |= np.bitwise_count(part) <= sub
    return near


def _ball(width: int, radius: int) -> np.ndarray:
    """Every XOR mask of `width` bits with at most `radius` bits set."""
    masks = [sum(1 << b for b in bits) for r in range(radius + 1) for bits in combinations(range(width), r)]
    return np.array(masks, dtype=np.int64)


def _plan(n_left: int, n_right: int, bits: int, radius: int, rule: _Chunking | None = None) -> _Chunking | None:
    """The cheapest of: chunkings for multi-index hashing certain within `radius`, the chunk `rule`'s own chunking
    (which finds exactly the rule's pairs), and blocked brute force (None).

    Cost model (unit: one word comparison): a bucket table pass per chunk (~2 per bucket), a bucket lookup per
    flip of each non-empty bucket of the smaller side (~10), a full comparison of each candidate (~4 words, nwords/64 bits);
    brute force compares every pair, word by word.
    """
    nwords = bits // 64
    options = [_chunking(nwords, per_word, radius) for per_word in (3, 4, 5, 6, 8)]   # chunks of at most 22 bits
    best, best_cost = None, float(n_left) * n_right * nwords
    for plan in options + ([rule] if rule is not None else []):
        cost = 0.0
        for (_, _, width), sub in zip(plan.table.tolist(), plan.subs.tolist()):
            probes = sum(comb(width, s) for s in range(sub + 1))
            cost += 2.0 * 2 ** width + probes * (10.0 * min(n_left, n_right, 2 ** width)
                                                 + nwords * n_left * n_right / 2.0 ** width)
        if cost < best_cost:
            best, best_cost = plan, cost
    return best


def _brute(left: np.ndarray, right: np.ndarray, radius: int, self_join: bool) -> Iterator[Pairs]:
    """Every pair within `radius`, in blocks of at most BLOCK_CELLS comparisons."""
    rows = max(1, BLOCK_CELLS // max(1, len(right)))
    for start in range(0, len(left), rows):
        block = distances(left[start:start + rows, None, :], right[None, :, :])
        i, j = np.nonzero(block <= radius)
        i = i + start
        keep = i < j if self_join else slice(None)
        yield Pairs(i[keep].astype(np.int64), j[keep].astype(np.int64), block[i[keep] - start, j[keep]])


def _multi_index(left: np.ndarray, right: np.ndarray, radius: int, self_join: bool,
                 plan: _Chunking) -> Iterator[Pairs]:
    """Pairs within `radius` that are within the sub-radius on some chunk, chunk by chunk, as a bucket join:
    left and right rows sorted into buckets by the chunk (a counting sort), and each left bucket compared with
    the right buckets within the chunk's sub-radius of it by a compiled loop.

    Left buckets go in aligned blocks of keys whose rows are gathered into a small buffer once; a block's keys
    XOR one flip are again an aligned block, so the right rows it meets are one contiguous run. A pair already
    within its sub-radius on an earlier chunk is left to that chunk, so each pair comes out once.
    """
    if not self_join and len(left) > len(right):   # look up from the smaller side: fewer buckets probed
        yield from (Pairs(p.j, p.i, p.d) for p in _multi_index(right, left, radius, False, plan))
        return
    left = np.ascontiguousarray(left, dtype=np.uint64)
    right = np.ascontiguousarray(right, dtype=np.uint64)
    for c, ((word, shift, width), sub) in enumerate(zip(plan.table.tolist(), plan.subs.tolist())):
        flips = _ball(width, sub)
        right_order, right_start, right_rows = _sort(right, word, shift, width, True)
        left_order, left_start, _ = _sort(left, word, shift, width, False)
        keys = np.flatnonzero(left_start[1:] != left_start[:-1])   # the non-empty left buckets
        per_block = max(1, (1 << width) * LEFT_BLOCK // len(left))   # about LEFT_BLOCK left rows a block
        block = 1 << min(width, per_block.bit_length() - 1)          # keys per block: a power of two
        edges = np.searchsorted(keys, np.arange(0, (1 << width) + block, block))
        for b0, b1 in zip(edges[:-1].tolist(), edges[1:].tolist()):
            if b0 == b1:
                continue
            size = 1 << 12
            while True:
                out_i, out_j = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
                out_d = np.empty(size, dtype=np.int32)
                n = _join(left, right_rows, left_order, left_start, right_order, right_start, flips, keys[b0:b1],
                          radius, self_join, plan.table, plan.subs, c, out_i, out_j, out_d)
                if n <= size:
                    break
                size = n
            if n:
                yield Pairs(out_i[:n], out_j[:n], out_d[:n])


LEFT_BLOCK = 1 << 10   # multi-index: left rows per block of keys (gathered into a buffer of ~32 KB for PDQ)


@njit(cache=True, nogil=True)
def _sort(rows, word, shift, width, copy):  # type: ignore[no-untyped-def]
    """Row numbers sorted by one chunk of one word, where each chunk value's rows start (order[start[k]:start[k + 1]]),
    and with `copy` the rows themselves in that order.

    A two-pass radix sort (low half of the chunk, then high half): each pass scatters into at most 2^11 runs,
    which caches and write buffers keep up with, where one pass into 2^22 buckets misses on nearly every row.
    """
    n = rows.shape[0]
    mask = np.uint64((1 << width) - 1)
    low = width // 2
    low_mask = (1 << low) - 1
    keys = np.empty(n, dtype=np.int32)
    at_low = np.zeros((1 << low) + 1, dtype=np.int64)
    at_high = np.zeros((1 << (width - low)) + 1, dtype=np.int64)
    for r in range(n):
        k = np.int32((rows[r, word] >> np.uint64(shift)) & mask)
        keys[r] = k
        at_low[(k & low_mask) + 1] += 1
        at_high[(k >> low) + 1] += 1
    for b in range(1 << low):
        at_low[b + 1] += at_low[b]
    for b in range(1 << (width - low)):
        at_high[b + 1] += at_high[b]
    first = np.empty(n, dtype=np.int32)       # row numbers and keys after the first pass
    first_keys = np.empty(n, dtype=np.int32)
    for r in range(n):
        k = keys[r]
        p = at_low[k & low_mask]
        at_low[k & low_mask] = p + 1
        first[p], first_keys[p] = r, k
    order = np.empty(n, dtype=np.int64)
    for t in range(n):
        k = first_keys[t]
        p = at_high[k >> low]
        at_high[k >> low] = p + 1
        order[p], keys[p] = first[t], k
    start = np.empty((1 << width) + 1, dtype=np.int64)
    k = 0
    for p in range(n):                         # keys are sorted now: each value's first position
        while k <= keys[p]:
            start[k] = p
            k += 1
    while k <= 1 << width:
        start[k] = n
        k += 1
    out = np.empty((n if copy else 0, rows.shape[1]), dtype=np.uint64)
    if copy:
        for p in range(n):
            out[p] = rows[order[p]]
    return order, start, out


@intrinsic
def _popcount(typingctx, x):  # type: ignore[no-untyped-def]
    """Bits set in a uint64: LLVM's ctpop (the CPU's popcnt instruction)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])
    return types.int64(types.uint64), codegen


@njit(cache=True, nogil=True)
def _join(left, right, left_order, left_start, right_order, right_start, flips, keys, radius, self_join, chunks,
          subs, c, out_i, out_j, out_d):  # type: ignore[no-untyped-def]
    """Left buckets `keys` (ascending, one aligned block) against chunk c's right buckets within the flips (right:
    the rows in bucket order, row p being right_order[p]): fills out_* up to their size, returns how many pairs."""
    n, nwords, size = 0, left.shape[1], len(out_i)
    a0, a1 = left_start[keys[0]], left_start[keys[-1] + 1]
    rows = np.empty((a1 - a0, nwords), dtype=np.uint64)   # the block's left rows, in bucket order
    for a in range(a0, a1):
        for w in range(nwords):
            rows[a - a0, w] = left[left_order[a], w]
    for f in flips:
        for k in keys:
            la, lb = left_start[k], left_start[k + 1]
            lo, hi = right_start[k ^ f], right_start[(k ^ f) + 1]
            for p in range(lo, hi):
                j = right_order[p]
                for a in range(la, lb):
                    d = 0
                    for w in range(nwords):
                        d += _popcount(rows[a - a0, w] ^ right[p, w])
                    if d > radius:
                        continue
                    i = left_order[a]
                    if self_join and j <= i:
                        continue
                    earlier = False   # within its sub-radius on an earlier chunk: that chunk reported this pair
                    for e in range(c):
                        x = (rows[a - a0, chunks[e, 0]] ^ right[p, chunks[e, 0]]) >> np.uint64(chunks[e, 1])
                        if _popcount(x & np.uint64((1 << chunks[e, 2]) - 1)) <= subs[e]:
                            earlier = True
                            break
                    if earlier:
                        continue
                    if n < size:
                        out_i[n], out_j[n], out_d[n] = i, j, d
                    n += 1
    return n
