"""Scale of near-duplicate search and grouping: query time over a million hashes, grouping time and memory.

Hashes are random (a real case's hashes are not, so buckets can be fuller than here) with planted reposts:
each planted copy has a few bits flipped in every hash, within the default thresholds, so the groups that
must come out are known. Prints one `similar`-style query over 1,000,000 stored 64-bit hashes (and over
1,000,000 PDQ hashes with all 8 dihedral variants), then full `HashSet.groups()` (pHash, dHash and PDQ with
variants, union into connected components) at growing sizes with time and memory, and the growth exponent
between sizes. First, the PDQ chunk rule's recall: planted copies at every distance 0..31 of 256 bits,
searched as grouping searches them (8 variants, certain within Thresholds.pdq_certain).

    python bench/hash_search.py [--stored 1000000] [--group 250000 500000 1000000 2000000]
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


def rule_recall(rng: np.random.Generator, per_distance: int) -> None:
    """Recall of the PDQ search grouping runs (radius Thresholds.pdq, certain within pdq_certain): for each
    distance 0..31, `per_distance` random hashes and a copy of each with exactly that many random bits flipped,
    hidden among 7 unrelated variants (as an item's 8 PDQ variants), searched against the originals."""
    from osint.hashing import HammingIndex, Thresholds

    limits = Thresholds()
    originals = random_words(rng, per_distance, 4)
    index = HammingIndex(originals)
    line = []
    for d in range(limits.pdq + 1):
        copies = np.stack([_exactly(rng, row, d) for row in originals])
        variants = random_words(rng, per_distance * 8, 4).reshape(per_distance, 8, 4)
        variants[:, 0] = copies
        found = index.pairs(limits.pdq, variants.reshape(-1, 4), limits.pdq_certain)
        hit = np.zeros(per_distance, dtype=bool)
        hit[(found.i // 8)[found.i // 8 == found.j]] = True
        line.append(f"{d}:{100 * hit.mean():.2f}")
    print(f"PDQ chunk rule (certain within {limits.pdq_certain}, up to {limits.pdq} bits): recall % of {per_distance:,} "
          f"planted copies at each distance:\n  " + " ".join(line))


def real_copies(count: int, workers: int) -> None:
    """The chunk rule on real reposts: `count` photos of ../shared/data (bench/dupes_eval.py's originals of at
    least MIN_SIDE px and its transforms), each copy's closest PDQ distance to its original (over the variants)
    and whether the rule keeps it."""
    import tempfile
    from pathlib import Path

    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from dupes_eval import DATA, MIN_SIDE, TRANSFORMS, make_copy, originals  # type: ignore[import-not-found]

    from osint.hashing import PDQ, Thresholds, compare, hash_file
    from osint.pipeline import PoolExecutor

    if not DATA.is_dir():
        print(f"real copies: {DATA} is absent, skipped")
        return
    limits = Thresholds()
    plain = Thresholds(pdq_certain=limits.pdq)
    files = [p for p in originals(DATA) if p.suffix.lower() in {".jpg", ".jpeg", ".png"}]
    big = sorted(str(p) for p in files if max(Image.open(p).size) >= MIN_SIDE)
    chosen = sorted(np.random.default_rng(0).choice(big, size=min(count, len(big)), replace=False).tolist())
    hashes = {str(p): h for p, h, error in PoolExecutor(workers).run(hash_file, [Path(c) for c in chosen]) if not error}
    within = kept = 0
    by_distance: dict[int, list[int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        jobs = [(p, name, k * 100 + t, folder, False) for k, p in enumerate(hashes) for t, name in enumerate(TRANSFORMS)]
        for (original, _, _, _, _), made, error in PoolExecutor(workers).run(make_copy, jobs):
            if error:
                continue
            pdq = {e.algorithm: e for e in compare(hashes[original], made[0], plain).evidence}.get(PDQ)
            if pdq is None or not pdq.linked:
                continue
            ruled = {e.algorithm: e for e in compare(hashes[original], made[0], limits).evidence}[PDQ]
            within += 1
            kept += ruled.linked
            by_distance.setdefault(pdq.distance, [0, 0])[ruled.linked] += 1
    tail = {d: c for d, c in sorted(by_distance.items()) if d > limits.pdq_certain}
    print(f"real copies ({len(hashes)} photos of {DATA} x {len(TRANSFORMS)} transforms): {within} within PDQ "
          f"{limits.pdq} bits, {kept} kept by the chunk rule; beyond {limits.pdq_certain} bits (distance: kept/all): "
          + (", ".join(f"{d}: {c[1]}/{sum(c)}" for d, c in tail.items()) or "none"))


def _exactly(rng: np.random.Generator, row: np.ndarray, bits: int) -> np.ndarray:
    """A copy of one hash row with exactly `bits` distinct random bits flipped."""
    out = row.copy()
    for b in rng.choice(row.size * 64, size=bits, replace=False):
        out[b // 64] ^= np.uint64(1) << np.uint64(63 - int(b) % 64)
    return out


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
    parser.add_argument("--group", type=int, nargs="+", default=[250_000, 500_000, 1_000_000],
                        help="case sizes to group")
    parser.add_argument("--recall", type=int, default=20_000, help="planted PDQ copies per distance (0: skip)")
    parser.add_argument("--real", type=int, default=0,
                        help="real photos of ../shared/data to copy with bench/dupes_eval.py's transforms (0: skip)")
    parser.add_argument("--workers", type=int, default=2, help="processes hashing the real copies")
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
    if args.recall:
        rule_recall(rng, args.recall)
    if args.real:
        real_copies(args.real, args.workers)

    print("\ngrouping (HashSet.groups: pHash, dHash, PDQ x 8 variants; 20% of items are planted near copies)")
    print(f"{'items':>9} {'make s':>7} {'build s':>8} {'groups s':>9} {'cpu s':>7} {'groups':>8} {'exact':>6} {'arrays MiB':>10} "
          f"{'peak MiB':>9} {'peak bytes/item':>15} {'max RSS MiB':>11}")
    timed = []
    for n in args.group:
        t = time.perf_counter()
        hashes, original = planted_case(rng, n)
        make = time.perf_counter() - t
        names = list(hashes)
        tracemalloc.start()
        t = time.perf_counter()
        found = HashSet(hashes)
        build = time.perf_counter() - t
        t, cpu = time.perf_counter(), time.process_time()
        groups = found.groups(limits)
        took, cpu = time.perf_counter() - t, time.process_time() - cpu
        timed.append((n, took, cpu))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{n:9,} {make:7.1f} {build:8.1f} {took:9.1f} {cpu:7.1f} {len(groups):8,} {exact(groups, names, original):>6} "
              f"{found.nbytes / 2**20:10.1f} {peak / 2**20:9.0f} {peak / n:15.0f} "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:11.0f}")
        del hashes, found, groups
    for (n0, w0, c0), (n1, w1, c1) in zip(timed, timed[1:]):
        print(f"growth {n0:,} -> {n1:,}: time ~ N^{np.log(w1 / w0) / np.log(n1 / n0):.2f} (wall), "
              f"N^{np.log(c1 / c0) / np.log(n1 / n0):.2f} (cpu)")
    print("\nOne process. 'exact': the groups are exactly the planted ones (each original with all its copies, "
          "nothing else linked). 'arrays' is the hash arrays HashSet keeps (PDQ variants included); 'peak' the "
          "tracemalloc peak of building and grouping (the MediaHashes inputs, held by the caller, not included); "
          "'max RSS' the process's, inputs included; 'cpu' the process's CPU time for groups() "
          "(the box is shared: wall time includes waiting for a core).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
