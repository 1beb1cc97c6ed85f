"""The Hamming index: multi-index pair search finds exactly what brute force finds; search is nearest first."""

from __future__ import annotations

import numpy as np
import pytest

from osint.hashing import HammingIndex, distances
from osint.hashing.index import _brute, _chunking, _multi_index, near_chunk


def _planted(n: int, nwords: int, seed: int) -> np.ndarray:
    """Random hashes, the last 100 of them copies of the first 100 with 0..12 bits flipped."""
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 2**64, size=(n, nwords), dtype=np.uint64)
    for k in range(100):
        bits = rng.choice(64 * nwords, size=int(rng.integers(0, 13)), replace=False)
        row = words[k].copy()
        for b in bits:
            row[b // 64] ^= np.uint64(1) << np.uint64(int(b % 64))
        words[n - 1 - k] = row
    return words


def _pairs(found) -> set[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    return set(zip(found.i.tolist(), found.j.tolist(), found.d.tolist()))


@pytest.mark.parametrize("radius", [0, 5, 12])
def test_multi_index_pairs_equal_brute_force(radius: int) -> None:
    words = _planted(3000, 1, seed=radius)
    index = HammingIndex(words)
    expected = {t for p in _brute(words, words, radius, self_join=True) for t in _pairs(p)}
    for per_word in (3, 4, 5, 6, 8):                    # every chunking the planner may choose
        plan = _chunking(1, per_word, radius)
        assert {t for p in _multi_index(words, words, radius, True, plan) for t in _pairs(p)} == expected
    assert _pairs(index.pairs(radius)) == expected
    assert len(expected) >= sum(1 for k in range(100) if distances(words[k], words[-1 - k]) <= radius)


def test_pairs_with_queries_on_256_bit_hashes() -> None:
    words = _planted(800, 4, seed=1)
    index = HammingIndex(words)
    queries = words[:50]
    found = index.pairs(40, queries)
    d = distances(queries[:, None, :], words[None, :, :])
    assert _pairs(found) == {(int(i), int(j), int(d[i, j])) for i, j in zip(*np.nonzero(d <= 40))}


def test_search_returns_nearest_first_with_the_query_row_that_matched() -> None:
    words = _planted(2000, 1, seed=2)
    index = HammingIndex(words)
    queries = np.stack([words[7], words[1500]])
    rows, dist, which = index.search(queries, 12)
    assert list(dist) == sorted(dist)
    assert {7, 1500} <= set(rows.tolist())
    assert which[rows.tolist().index(1500)] == 1
    brute = np.minimum(distances(words, queries[0]), distances(words, queries[1]))
    assert set(rows.tolist()) == set(np.flatnonzero(brute <= 12).tolist())


def test_search_on_256_bit_hashes_equals_brute_force() -> None:
    words = _planted(1500, 4, seed=3)
    index = HammingIndex(words)
    queries = np.stack([words[3], words[10], words[-11]])
    rows, dist, which = index.search(queries, 40)
    brute = distances(words[:, None, :], queries[None, :, :])
    expected = np.flatnonzero(brute.min(axis=1) <= 40)
    assert sorted(rows.tolist()) == expected.tolist()
    assert dist.tolist() == brute.min(axis=1)[rows].tolist()
    assert (brute[rows, which] == dist).all()


def test_multi_index_on_256_bit_hashes_at_the_pdq_radius_equals_brute_force() -> None:
    """PDQ's case: queries against other rows (no self join) at radius 31, every chunking the planner may choose."""
    words = _planted(1500, 4, seed=3)
    rng = np.random.default_rng(4)
    queries = words[rng.integers(0, 1500, size=400)].copy()
    for row, count in zip(queries, rng.integers(0, 45, size=400)):
        for b in rng.integers(0, 256, size=int(count)):
            row[b // 64] ^= np.uint64(1) << np.uint64(int(b % 64))
    expected = {t for p in _brute(queries, words, 31, self_join=False) for t in _pairs(p)}
    assert len(expected) >= 300
    for per_word in (3, 4, 8):
        plan = _chunking(4, per_word, 31)
        assert {t for p in _multi_index(queries, words, 31, False, plan) for t in _pairs(p)} == expected


def _chunk_bits(x: np.ndarray) -> np.ndarray:
    """Differing bits per chunk of XORed 256-bit rows: each word's bits 0-21, 22-42 and 43-63, most significant
    first (the rule's 22, 21 and 21 bits), counted from the bits themselves."""
    bits = np.unpackbits(x.astype(">u8").view(np.uint8), axis=-1).reshape(*x.shape[:-1], 4, 64)
    return np.stack([bits[..., a:b].sum(axis=-1) for a, b in ((0, 22), (22, 43), (43, 64))], axis=-1)


def _spread(rng: np.random.Generator, row: np.ndarray, per_chunk: int) -> np.ndarray:
    """A copy of a 256-bit row with exactly `per_chunk` bits flipped in each of the 12 chunks (24 bits for 2)."""
    out = row.copy()
    for word in range(4):
        for a, b in ((0, 22), (22, 43), (43, 64)):
            for bit in rng.choice(np.arange(a, b), size=per_chunk, replace=False):
                out[word] ^= np.uint64(1) << np.uint64(63 - int(bit))
    return out


def test_the_chunk_rule_equals_brute_force_and_keeps_every_pair_within_the_certain_radius() -> None:
    """pairs(31, certain=23): exactly the pairs within 31 bits that differ by at most 1 bit on one of 12 chunks,
    whichever search the planner picks; every pair within 23 bits is kept; pairs with 2 bits in every chunk
    (24 bits) are not, and pairs at 24-31 bits with a near chunk are."""
    rng = np.random.default_rng(23)
    words = _planted(2000, 4, seed=5)
    parents = rng.integers(0, 2000, size=600)
    queries = words[parents].copy()
    for k, row in enumerate(queries):
        if k < 100:
            queries[k] = _spread(rng, row, 2)          # 24 bits, no chunk within 1 bit
            continue
        for b in rng.choice(256, size=int(rng.integers(0, 36)), replace=False):
            row[b // 64] ^= np.uint64(1) << np.uint64(int(63 - b % 64))
    d = distances(queries[:, None, :], words[None, :, :])
    near = (_chunk_bits(queries[:, None, :] ^ words[None, :, :]) <= 1).any(axis=(-1, -2))
    assert (near == near_chunk(queries[:, None, :], words[None, :, :], 23)).all()
    expected = {(int(i), int(j), int(d[i, j])) for i, j in zip(*np.nonzero((d <= 31) & near))}
    assert {t for t in expected if t[2] <= 23} == {(int(i), int(j), int(d[i, j])) for i, j in zip(*np.nonzero(d <= 23))}
    assert sum(1 for t in expected if t[2] > 23) >= 50                            # the rule keeps these
    assert all((k, int(p), 24) not in expected for k, p in enumerate(parents[:100]))   # and drops the spread ones
    index = HammingIndex(words)
    assert _pairs(index.pairs(31, queries, certain=23)) == expected
    assert {t for p in _multi_index(queries, words, 31, False, _chunking(4, 3, 23)) for t in _pairs(p)} == expected
    assert _pairs(index.pairs(31, queries)) == {(int(i), int(j), int(d[i, j])) for i, j in zip(*np.nonzero(d <= 31))}
