"""Scale of near-duplicate search and grouping: query time over a million hashes, grouping time and memory.

Hashes are random (a real case's hashes are not, so buckets can be fuller than here) with planted reposts:
each planted copy has a few bits flipped in every hash, within the default thresholds, so the groups that
must come out are known. Prints one `similar`-style query over 1,000,000 stored 64-bit hashes (and over
1,000,000 PDQ hashes with all 8 dihedral variants), then full `HashSet.groups()` (pHash, dHash and PDQ with
variants, union into connected components) at growing sizes with time and memory.

    python bench/hash_search.py [--stored 1000000] [--group 25000 100000 1000000]
"""

from __future__ import annotations

import argparse
import sys
import resource
import time
import tracemalloc

import numpy as np


def random_words(rng: np.random.Generator, n: int, nwords: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, nwords), dtype=np.uint64)


def flip(rng: np.random.Generator, words: np.ndarray, bits: int) -> np.ndarray:
    """A copy of one hash row with `bits` random bits flipped."""
    return flip_rows(rng, words[None, :], np.array([bits]))[0]


def flip_rows(rng: np.random.Generator, words: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """A copy of each hash row with up to counts[k] random bits flipped (a bit drawn twice flips back)."""
    out = words.copy()
    keys = rng.integers(0, words.shape[1] * 64, size=(len(words), max(1, int(counts.max(initial=0)))))
    rows = np.arange(len(words))
    for c in range(keys.shape[1]):
        sel = rows[counts > c]
        bit = keys[sel, c]
        out[sel, bit // 64] ^= np.uint64(1) << (63 - bit % 64).astype(np.uint64)
    return out


def hexes(words: np.ndarray) -> list[str]:
    return words.astype(">u8").tobytes().hex(" ", -8 * words.shape[1]).split(" ") if len(words) else []


def planted_case(rng: np.random.Generator, n: int, share: float = 0.2):  # type: ignore[no-untyped-def]
    """n items: originals, and for `share` of n, a near copy of some original (flips within the defaults).

    Returns the hashes (as osint stores them: hex pHash, dHash and 8 PDQ variants per item) and, per item,
    the original it was copied from (itself for an original).
    """
    from osint.hashing import FrameHashes, MediaHashes, Thresholds

    limits = Thresholds()
    copies = int(n * share)
    base = n - copies
    p, d, q = random_words(rng, base, 1), random_words(rng, base, 1), random_words(rng, base * 8, 4)
    parent = rng.integers(0, base, size=copies)
    p = np.concatenate([p, flip_rows(rng, p[parent], rng.integers(0, limits.phash + 1, copies))])
    d = np.concatenate([d, flip_rows(rng, d[parent], rng.integers(0, limits.dhash + 1, copies))])
    q = q.reshape(base, 8, 4)
    flipped = flip_rows(rng, q[parent].reshape(-1, 4), rng.integers(0, limits.pdq + 1, copies * 8))
    q = np.concatenate([q, flipped.reshape(copies, 8, 4)])
    ph, dh = hexes(p), hexes(d)
    qh = hexes(q.reshape(-1, 4))
    hashes = {}
    for k in range(n):
        variants = tuple(qh[k * 8:(k + 1) * 8])
        frame = FrameHashes(None, False, "full", (0.0, 0.0, 1.0, 1.0), ph[k], dh[k], variants[0], 100, variants)
        hashes[f"{k:064x}"] = MediaHashes("image", (frame,))
    return hashes, np.concatenate([np.arange(base), parent])


def exact(groups, names: list[str], original: np.ndarray) -> str:  # type: ignore[no-untyped-def]
    """'yes' when the groups are exactly the planted ones (every original with copies, together with all of
    them); otherwise how many differ, and each link between items of different planted groups with its
    evidence (random hashes can fall within a threshold by chance: pHash's 5 of 64 bits, about 4.5e-13 a pair)."""
    planted: dict[int, set[str]] = {}
    for k, o in enumerate(original.tolist()):
        planted.setdefault(o, set()).add(names[k])
    want = {frozenset(g) for g in planted.values() if len(g) > 1}
    got = {frozenset(g.members) for g in groups}
    if got == want:
        return "yes"
    of = {name: int(o) for name, o in zip(names, original.tolist())}
    chance = [m for g in groups if frozenset(g.members) not in want for m in g.links if of[m.a] != of[m.b]]
    for m in chance:
        print("  link between planted groups: " + ", ".join(
            f"{e.algorithm} {e.distance} bits" for e in m.evidence) + f" ({m.a[-6:]}, {m.b[-6:]})")
    return f"NO ({len(got - want)} extra/wrong, {len(want - got)} missed, {len(chance)} links across)"


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
    parser.add_argument("--group", type=int, nargs="+", default=[25_000, 100_000, 1_000_000],
                        help="case sizes to group")
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
    print(f"{'items':>9} {'make s':>7} {'build s':>8} {'groups s':>9} {'groups':>8} {'exact':>6} {'arrays MiB':>10} "
          f"{'peak MiB':>9} {'peak bytes/item':>15} {'max RSS MiB':>11}")
    for n in args.group:
        t = time.perf_counter()
        hashes, original = planted_case(rng, n)
        make = time.perf_counter() - t
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
        print(f"{n:9,} {make:7.1f} {build:8.1f} {took:9.1f} {len(groups):8,} {exact(groups, names, original):>6} "
              f"{found.nbytes / 2**20:10.1f} {peak / 2**20:9.0f} {peak / n:15.0f} "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:11.0f}")
        del hashes, found, groups
    print("\nOne process. 'exact': the groups are exactly the planted ones (each original with all its copies, "
          "nothing else linked). 'arrays' is the hash arrays HashSet keeps (PDQ variants included); 'peak' the "
          "tracemalloc peak of building and grouping (the MediaHashes inputs, held by the caller, not included); "
          "'max RSS' the process's, inputs included.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
