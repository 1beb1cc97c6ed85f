"""Scale of near-duplicate search and grouping: query time over a million hashes, grouping time and memory.

Hashes are random (a real case's hashes are not, so buckets can be fuller than here) with planted reposts:
each planted copy has a few bits flipped in every hash, within the default thresholds, so the groups that
must come out are known. Prints one `similar`-style query over 1,000,000 stored 64-bit hashes (and over
1,000,000 PDQ hashes with all 8 dihedral variants), then full `HashSet.groups()` (pHash, dHash and PDQ with
variants, union into connected components) at growing sizes with time and memory.

    python bench/hash_search.py [--stored 1000000] [--group 25000 50000 100000]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

import numpy as np


def random_words(rng: np.random.Generator, n: int, nwords: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, nwords), dtype=np.uint64)


def flip(rng: np.random.Generator, words: np.ndarray, bits: int) -> np.ndarray:
    """A copy of one hash row with `bits` random bits flipped."""
    out = words.copy()
    for b in rng.choice(out.size * 64, size=bits, replace=False):
        out[b // 64] ^= np.uint64(1) << np.uint64(int(b % 64))
    return out


def hexes(words: np.ndarray) -> list[str]:
    return ["".join(f"{int(w):016x}" for w in row) for row in words]


def planted_case(rng: np.random.Generator, n: int, share: float = 0.2):  # type: ignore[no-untyped-def]
    """n items: originals, and for `share` of n, a near copy of some original (flips within the defaults)."""
    from osint.hashing import FrameHashes, MediaHashes, Thresholds

    limits = Thresholds()
    copies = int(n * share)
    base = n - copies
    p, d, q = random_words(rng, base, 1), random_words(rng, base, 1), random_words(rng, base * 8, 4)
    parent = rng.integers(0, base, size=copies)
    p = np.concatenate([p, np.stack([flip(rng, p[k], int(rng.integers(0, limits.phash + 1))) for k in parent])])
    d = np.concatenate([d, np.stack([flip(rng, d[k], int(rng.integers(0, limits.dhash + 1))) for k in parent])])
    q = q.reshape(base, 8, 4)
    q = np.concatenate([q, np.stack([np.stack([flip(rng, q[k, v], int(rng.integers(0, limits.pdq + 1)))
                                               for v in range(8)]) for k in parent])])
    ph, dh = hexes(p), hexes(d)
    qh = hexes(q.reshape(-1, 4))
    hashes = {}
    for k in range(n):
        variants = tuple(qh[k * 8:(k + 1) * 8])
        frame = FrameHashes(None, False, "full", (0.0, 0.0, 1.0, 1.0), ph[k], dh[k], variants[0], 100, variants)
        hashes[f"{k:064x}"] = MediaHashes("image", (frame,))
    expected = {(int(k), base + j) for j, k in enumerate(parent)}
    return hashes, expected


def query_times(index, queries: np.ndarray, radius: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    times = []
    for q in queries:
        t = time.perf_counter()
        index.search(q, radius)
        times.append(time.perf_counter() - t)
    return np.array(times) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, default=1_000_000, help="hashes to search")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--group", type=int, nargs="+", default=[25_000, 50_000, 100_000], help="case sizes to group")
    args = parser.parse_args()
    from osint.hashing import HammingIndex, HashSet, Thresholds

    rng = np.random.default_rng(0)
    limits = Thresholds()
    stored = random_words(rng, args.stored, 1)
    index = HammingIndex(stored)
    probes = np.stack([flip(rng, stored[k], 3) for k in rng.integers(0, args.stored, args.queries)])
    ms = query_times(index, probes, limits.phash)
    print(f"search 1 query over {args.stored:,} 64-bit hashes (radius {limits.phash}): median {np.median(ms):.1f} ms, "
          f"p95 {np.percentile(ms, 95):.1f} ms; index {index.nbytes / 2**20:.1f} MiB")
    pdq = HammingIndex(random_words(rng, args.stored, 4))
    variants = random_words(rng, 8 * 10, 4).reshape(10, 8, 4)
    ms = query_times(pdq, variants, limits.pdq)
    print(f"search 1 query (8 PDQ variants) over {args.stored:,} 256-bit hashes (radius {limits.pdq}): median "
          f"{np.median(ms):.1f} ms; index {pdq.nbytes / 2**20:.1f} MiB")
    del pdq

    print("\ngrouping (HashSet.groups: pHash, dHash, PDQ x 8 variants; 20% of items are planted near copies)")
    print(f"{'items':>8} {'build s':>8} {'groups s':>9} {'groups':>7} {'planted found':>14} {'arrays MiB':>10} "
          f"{'peak MiB':>9} {'peak bytes/item':>15}")
    for n in args.group:
        hashes, expected = planted_case(rng, n)
        names = list(hashes)
        tracemalloc.start()
        t = time.perf_counter()
        found = HashSet(hashes)
        build = time.perf_counter() - t
        t = time.perf_counter()
        groups = found.groups(limits)
        took = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        label = {m: g for g, grp in enumerate(groups) for m in grp.members}
        hit = sum(1 for a, b in expected if names[a] in label and label.get(names[a]) == label.get(names[b]))
        print(f"{n:8,} {build:8.1f} {took:9.1f} {len(groups):7,} {hit:>7,}/{len(expected):<6,} "
              f"{found.nbytes / 2**20:10.1f} {peak / 2**20:9.0f} {peak / n:15.0f}")
    print("\nOne process. 'arrays' is the hash arrays HashSet keeps (PDQ variants included); 'peak' the tracemalloc "
          "peak of building and grouping (the MediaHashes inputs, held by the caller, not included).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
