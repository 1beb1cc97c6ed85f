"""Near-duplicate links between photos and video keyframes: search one picture, or group a whole case.

Every photo and every video keyframe is a point with three hashes. Two items are linked when any pair of
their points is within the threshold of any one hash (pHash, dHash, or PDQ compared over all eight
mirrored/rotated variants; PDQ beyond `Thresholds.pdq_certain` bits also needs one chunk of the two hashes
within a bit, the chunk rule that keeps grouping a million items near-linear). Groups are the connected
components of those links, so a chain of reposts (original -> cropped -> cropped and captioned) ends up in
one group even when its ends are far apart.
Points whose PDQ quality is below MIN_QUALITY (black frames, fades, blank pages) never link anything, and a
dHash whose eight rows take fewer than MIN_DHASH_ROWS values (stripes: a narrow strip squeezed to 9 x 8 pixels)
takes no part in dHash links, since such hashes of unrelated pictures meet within 3 bits (bench/dupes_eval.py:
a panorama strip turned 90 degrees and a border-trimmed LFW face, 3 bits apart; 3 of 4,522 original views).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from osint.hashing.hashes import BITS, DHASH, PDQ, PHASH, MediaHashes
from osint.hashing.index import HammingIndex, distances, near_chunk, to_words
from osint.hashing.local import LocalLink
from osint.hashing.vpdq import VpdqLink
from osint.hashing.pdq import DIHEDRAL

ALGORITHMS = (PHASH, DHASH, PDQ)
MIN_QUALITY = 20   # PDQ quality below this: too little detail for any hash to mean anything
MIN_DHASH_ROWS = 3  # a dHash with fewer distinct rows than this describes stripes, not a picture
PAIRWISE_LIMIT = 50


@dataclass(frozen=True)
class Thresholds:
    """Largest Hamming distance (differing bits) at which two pictures count as the same picture, per hash.

    pHash and dHash defaults are the largest distances at which no two of 3,676 distinct real photos link
    in bench/dupes_eval.py. PDQ's zero-false-link distance there is 55; the default is 31 (PDQ's published
    matching threshold), which loses little recall in that table, keeps a margin for cases far larger than
    6.7 million pairs, and keeps grouping a large case fast.

    The chunk rule: two PDQ hashes within `pdq_certain` bits always link; from there to `pdq` bits they link
    when one of the 12 chunks of the hash (each 64-bit word cut in 22, 21 and 21 bits) differs by at most 1 bit
    (`osint.hashing.index.near_chunk`). Hashes with random differences meet it at 99.3% at 31 bits, 99.9% at
    28, 99.99% to 26 (bench/hash_search.py measures each distance); it lets the pair search look only
    within 1 bit on each chunk, which grows near-linearly with the case (README, Scale). pdq_certain >= pdq
    is the plain distance rule.
    """

    phash: int = 5
    dhash: int = 3
    pdq: int = 31
    pdq_certain: int = 23

    def of(self, algorithm: str) -> int:
        return int(getattr(self, algorithm))


@dataclass(frozen=True)
class Evidence:
    """The closest pair of points of two items under one hash: distance in bits, where, and how.

    `t_a`/`t_b` are keyframe times in seconds (None for a photo); `view_a`/`view_b` say whether the full
    picture or its content without borders matched; `transform` is how b's picture looks relative to a's
    ("identity", or the mirror, flip or clockwise rotation PDQ matched it under); `linked` means `distance`
    is within the threshold.
    """

    algorithm: str
    distance: int
    t_a: float | None
    t_b: float | None
    view_a: str
    view_b: str
    transform: str
    linked: bool


@dataclass(frozen=True)
class PairMatch:
    """How two items (SHA-256 `a`, `b`; `a` may be "query") compare under every hash."""

    a: str
    b: str
    evidence: tuple[Evidence, ...]

    @property
    def linked(self) -> bool:
        return any(e.linked for e in self.evidence)

    def best(self) -> Evidence:
        """The evidence with the smallest distance relative to its hash length."""
        return min(self.evidence, key=lambda e: e.distance / BITS[e.algorithm])


@dataclass(frozen=True)
class Group:
    """Items linked directly or through a chain of links, and the links themselves: by hashes (closest
    evidence each) and by local features (crops and screenshots) or vPDQ (videos), `local`."""

    members: tuple[str, ...]
    links: tuple[PairMatch, ...]
    local: tuple[LocalLink | VpdqLink, ...] = ()


class _Points:
    """The usable frames of some items as flat arrays: which item, when, and each hash as uint64 words."""

    def __init__(self, hashes: Mapping[str, MediaHashes]):
        owner, t, view, frames = [], [], [], []
        self.shas = list(hashes)
        for k, sha in enumerate(self.shas):
            for f in hashes[sha].frames:
                if f.pdq_quality >= MIN_QUALITY:
                    owner.append(k)
                    t.append(np.nan if f.t is None else f.t)
                    view.append(f.view)
                    frames.append(f)
        self.owner = np.array(owner, dtype=np.int64)
        self.t = np.array(t, dtype=np.float64)
        self.view = view
        self.words = {PHASH: to_words([f.phash for f in frames], BITS[PHASH]),
                      DHASH: to_words([f.dhash for f in frames], BITS[DHASH]),
                      PDQ: to_words([f.pdq for f in frames], BITS[PDQ])}
        self.usable = {PHASH: np.ones(len(frames), bool), PDQ: np.ones(len(frames), bool),
                       DHASH: dhash_rows(self.words[DHASH]) >= MIN_DHASH_ROWS}
        flat = [h for f in frames for h in f.pdq_dihedral]
        self.variants = to_words(flat, BITS[PDQ]).reshape(len(frames), len(DIHEDRAL), BITS[PDQ] // 64)

    def __len__(self) -> int:
        return len(self.owner)

    def where(self, k: int) -> tuple[float | None, str]:
        """Keyframe time (None for a photo) and view of point k."""
        return (None if np.isnan(self.t[k]) else float(self.t[k])), self.view[k]

    def queries(self, algorithm: str) -> tuple[np.ndarray, np.ndarray]:
        """The rows to search with for one hash (all 8 dihedral variants for PDQ) and the point and variant of each."""
        if algorithm == PDQ:
            rows = self.variants.reshape(-1, self.variants.shape[-1])
            return rows, np.arange(len(rows))
        return self.words[algorithm], np.arange(len(self)) * len(DIHEDRAL)


def dhash_rows(words: np.ndarray) -> np.ndarray:
    """How many distinct rows (bytes) each 64-bit dHash word holds: 1 to 8."""
    rows = np.sort(np.ascontiguousarray(words, dtype=np.uint64).view(np.uint8).reshape(-1, 8), axis=1)
    return 1 + (np.diff(rows, axis=1) != 0).sum(axis=1)


def compare(a: MediaHashes, b: MediaHashes, thresholds: Thresholds = Thresholds(), name_a: str = "a",
            name_b: str = "b") -> PairMatch:
    """Closest frames of two items under each hash (PDQ over b's picture mirrored and rotated too)."""
    pa, pb = _Points({name_a: a}), _Points({name_b: b})
    evidence = []
    if len(pa) and len(pb):
        for algo in ALGORITHMS:
            rows, code = pb.queries(algo)
            d = distances(pa.words[algo][:, None, :], rows[None, :, :])
            linked = (d <= thresholds.of(algo)) & pa.usable[algo][:, None] & pb.usable[algo][code // len(DIHEDRAL)]
            if algo == PDQ and thresholds.pdq_certain < thresholds.pdq:
                linked &= near_chunk(pa.words[algo][:, None, :], rows[None, :, :], thresholds.pdq_certain)
            i, j = np.unravel_index(int(np.argmin(np.where(linked, d, d + BITS[algo] + 1))), d.shape)
            # the closest linked pair of points, else the closest; variant v of b's picture looks like a, so b
            # is a under the inverse of v
            evidence.append(_evidence(algo, int(d[i, j]), pa.where(int(i)), pb.where(int(code[j]) // len(DIHEDRAL)),
                                      _inverse(int(code[j] % len(DIHEDRAL))), bool(linked[i, j])))
    return PairMatch(name_a, name_b, tuple(evidence))


def _evidence(algo: str, distance: int, where_a: tuple[float | None, str], where_b: tuple[float | None, str],
              variant: int, linked: bool) -> Evidence:
    return Evidence(algo, distance, where_a[0], where_b[0], where_a[1], where_b[1], DIHEDRAL[variant], linked)


class HashSet:
    """The hashes of many items, searchable: `similar` for one picture, `groups` for all near-duplicates."""

    def __init__(self, hashes: Mapping[str, MediaHashes]):
        self.hashes = dict(hashes)
        self.points = _Points(self.hashes)
        self.index = {algo: HammingIndex(self.points.words[algo]) for algo in ALGORITHMS}

    @property
    def nbytes(self) -> int:
        """Memory held by the hash arrays (PDQ variants included), in bytes."""
        return sum(ix.nbytes for ix in self.index.values()) + int(self.points.variants.nbytes)

    def similar(self, query: MediaHashes, thresholds: Thresholds = Thresholds()) -> list[PairMatch]:
        """Items linked to `query` (a point within a threshold of one of its points, by the link rule), closest first."""
        q = _Points({"query": query})
        items: dict[int, None] = {}
        for algo in ALGORITHMS:
            if len(q):
                found = self.index[algo].search(q.queries(algo)[0], thresholds.of(algo))[0]
                items.update(dict.fromkeys(self.points.owner[found].tolist()))
        matches = [m for m in (compare(query, self.hashes[sha], thresholds, "query", sha)
                               for sha in (self.points.shas[k] for k in items)) if m.linked]   # the chunk rule
        return sorted(matches, key=lambda m: m.best().distance / BITS[m.best().algorithm])

    def pairwise(self, group: Group, thresholds: Thresholds = Thresholds(), limit: int = PAIRWISE_LIMIT
                 ) -> list[PairMatch]:
        """Every pair of a group's members compared under every hash; for groups over `limit` members only
        the linked pairs (a group of n has n(n-1)/2 pairs)."""
        if len(group.members) > limit:
            return [compare(self.hashes[m.a], self.hashes[m.b], thresholds, m.a, m.b) for m in group.links]
        return [compare(self.hashes[a], self.hashes[b], thresholds, a, b)
                for k, a in enumerate(group.members) for b in group.members[k + 1:]]

    def links(self, thresholds: Thresholds = Thresholds()) -> list[PairMatch]:
        """Every pair of distinct items linked under some hash, with the closest under-threshold evidence."""
        best: dict[tuple[int, int], dict[str, Evidence]] = {}
        p = self.points
        for algo in ALGORITHMS:
            rows, code = p.queries(algo)
            pairs = (self.index[algo].pairs(thresholds.of(algo), rows, thresholds.pdq_certain) if algo == PDQ else
                     self.index[algo].pairs(thresholds.of(algo)))
            qi = code[pairs.i] // len(DIHEDRAL)
            keep = (p.owner[qi] != p.owner[pairs.j]) & p.usable[algo][qi] & p.usable[algo][pairs.j]
            qi, variant, j, d = qi[keep], code[pairs.i][keep] % len(DIHEDRAL), pairs.j[keep], pairs.d[keep]
            own_a, own_b = p.owner[qi], p.owner[j]
            key = np.minimum(own_a, own_b) * len(p.shas) + np.maximum(own_a, own_b)
            order = np.argsort(d, kind="stable")
            _, first = np.unique(key[order], return_index=True)  # each item pair's closest point pair only:
            for k in order[np.sort(first)]:                      # long videos give millions of raw pairs
                a, b, ta, tb = int(p.owner[qi[k]]), int(p.owner[j[k]]), p.where(int(qi[k])), p.where(int(j[k]))
                v = int(variant[k])   # variant v of a's picture looks like b
                if a > b:   # store each pair once, as (lower, higher); the transform then turns around
                    a, b, ta, tb, v = b, a, tb, ta, _inverse(v)
                slot = best.setdefault((a, b), {})
                if algo not in slot:
                    slot[algo] = _evidence(algo, int(d[k]), ta, tb, v, True)
        return [PairMatch(self.points.shas[a], self.points.shas[b], tuple(ev.values())) for (a, b), ev in best.items()]

    def near_pdq(self, hexes: Sequence[str], radius: int) -> list[tuple[int, str, Evidence]]:
        """PDQ hashes from elsewhere (a hash list) against the set: (index into `hexes`, item SHA-256, the
        closest evidence) for every item with a picture within `radius` bits of one, mirrored or rotated too.
        Evidence side a is the outside hash, b the item."""
        if not hexes or not len(self.points):
            return []
        p = self.points
        rows, code = p.queries(PDQ)
        pairs = HammingIndex(to_words(list(hexes), BITS[PDQ])).pairs(radius, rows)
        point, variant = code[pairs.i] // len(DIHEDRAL), code[pairs.i] % len(DIHEDRAL)
        key = pairs.j * len(p.shas) + p.owner[point]
        order = np.argsort(pairs.d, kind="stable")
        _, first = np.unique(key[order], return_index=True)
        out = []
        for k in order[np.sort(first)]:
            t, view = p.where(int(point[k]))
            # variant v of the item's picture looks like the outside picture: the item is it under v's inverse
            ev = Evidence(PDQ, int(pairs.d[k]), None, t, "full", view, DIHEDRAL[_inverse(int(variant[k]))], True)
            out.append((int(pairs.j[k]), p.shas[int(p.owner[point[k]])], ev))
        return out

    def groups(self, thresholds: Thresholds = Thresholds(),
               local: Sequence[LocalLink | VpdqLink] = ()) -> list[Group]:
        """Connected components of `links`, and of the `local` links given (osint.hashing.local: crops,
        screenshots; osint.hashing.vpdq: videos) between items of this set, with two or more items, largest first."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        links = self.links(thresholds)
        index = {sha: k for k, sha in enumerate(self.points.shas)}
        local = [lk for lk in local if lk.a in index and lk.b in index]
        n = len(index)
        a = np.array([index[m.a] for m in links] + [index[lk.a] for lk in local], dtype=np.int64)
        b = np.array([index[m.b] for m in links] + [index[lk.b] for lk in local], dtype=np.int64)
        _, label = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
        by_label: dict[int, tuple[list[PairMatch], list[LocalLink | VpdqLink]]] = {}
        for m, la in zip(links, label[a]):
            by_label.setdefault(int(la), ([], []))[0].append(m)
        for lk, la in zip(local, label[a[len(links):]]):
            by_label.setdefault(int(la), ([], []))[1].append(lk)
        order = np.argsort(label, kind="stable")
        bounds = np.searchsorted(label[order], np.arange(label.max() + 2 if n else 1))
        groups = [Group(tuple(self.points.shas[k] for k in order[bounds[lab]:bounds[lab + 1]]), tuple(found),
                        tuple(crops)) for lab, (found, crops) in by_label.items()]
        return sorted(groups, key=lambda g: (-len(g.members), g.members[0]))


_INVERSE = {"rotate90": "rotate270", "rotate270": "rotate90"}   # every other dihedral transform undoes itself


def _inverse(variant: int) -> int:
    name = DIHEDRAL[variant]
    return DIHEDRAL.index(_INVERSE.get(name, name))
