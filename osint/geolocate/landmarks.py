"""Landmark matching: find which geotagged reference photo shows the same buildings as a query photo.

Each photo becomes up to 1,000 RootSIFT local features (OpenCV SIFT on the photo shrunk to 640 px).
An index keeps queries fast as the gallery grows: a visual vocabulary (k-means over gallery descriptors)
turns every photo into a tf-idf bag of visual words, so a query is scored against the whole gallery with
one sparse product and only a shortlist is checked geometrically: ratio-test matches (Lowe, 0.8) that are
also mutual nearest neighbours, then a fundamental matrix by RANSAC (MAGSAC, 1 px). `inliers` counts
correspondences consistent with one 3-D scene seen from two viewpoints; below MIN_INLIERS a candidate is
not a verified match.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from osint.errors import OsintError

FEATURE_VERSION = "rootsift-640-1000-v1"
MAX_SIDE = 640          # photos are shrunk to this longer side before feature extraction (pixels)
MAX_FEATURES = 1000     # strongest SIFT keypoints kept per photo
RATIO = 0.8             # Lowe ratio test: best match must be this much closer than the second best
RANSAC_PX = 1.0         # epipolar distance (pixels at 640 px) under which a match is an inlier
MIN_INLIERS = 15        # fewer geometric inliers than this is not a verified match
FULL_CONFIDENCE = 60    # inliers at which confidence reaches 1.0 (confidence = inliers / 60, capped)
SHORTLIST = 60          # gallery photos verified per query (bench: 30 -> 80 %, 60 -> 87 % top-1 at 10,000)


@dataclass(frozen=True)
class Features:
    """Keypoint positions (N x 2, pixels in the shrunk photo) and RootSIFT descriptors (N x 128, uint8 x 255)."""

    keypoints: np.ndarray
    descriptors: np.ndarray

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, k=self.keypoints, d=self.descriptors, v=np.array(FEATURE_VERSION))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Features:
        with np.load(io.BytesIO(data)) as z:
            if str(z["v"]) != FEATURE_VERSION:
                raise ValueError(f"features of version {z['v']} (expected {FEATURE_VERSION})")
            return cls(z["k"], z["d"])


def extract_features(image: np.ndarray | Path | str) -> Features:
    """RootSIFT features of a photo (path or RGB array): ~0.1-0.3 s for a 640 px photo on one core."""
    import cv2

    if isinstance(image, np.ndarray):
        rgb = image
    else:
        from osint.media import load_image

        rgb = load_image(image, max_side=MAX_SIDE)
    h, w = rgb.shape[:2]
    if max(h, w) > MAX_SIDE:
        s = MAX_SIDE / max(h, w)
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    sift = cv2.SIFT_create(nfeatures=MAX_FEATURES)  # type: ignore[attr-defined]  # missing from cv2's stubs
    kps, desc = sift.detectAndCompute(gray, None)
    if desc is None or not kps:
        return Features(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8))
    desc = desc[:MAX_FEATURES] / np.maximum(desc[:MAX_FEATURES].sum(1, keepdims=True), 1e-7)
    root = np.sqrt(desc)
    pts = np.array([k.pt for k in kps[:MAX_FEATURES]], np.float32)
    return Features(pts, np.clip(np.round(root * 255), 0, 255).astype(np.uint8))


@dataclass(frozen=True)
class GalleryEntry:
    """One geotagged reference photo: `key` is its SHA-256 (or any stable id), `label` names the place."""

    key: str
    lat: float
    lon: float
    label: str


@dataclass(frozen=True)
class ImageMatch:
    """A gallery photo checked against the query: word-histogram similarity (0-1, cosine of tf-idf
    vectors), ratio-test matches, and geometric inliers (RANSAC fundamental matrix)."""

    key: str
    label: str
    lat: float
    lon: float
    similarity: float
    matches: int
    inliers: int


@dataclass(frozen=True)
class Candidate:
    """A candidate location: the best verified gallery photo of that place and the evidence for it.

    `confidence` = inliers / 60 capped at 1 (a heuristic, not a probability); `verified` means at least
    MIN_INLIERS (15) inliers. bench/landmark_eval.py measures how often a wrong place reaches that.
    """

    label: str
    lat: float
    lon: float
    inliers: int
    matches: int
    confidence: float
    verified: bool
    best_key: str
    images: tuple[ImageMatch, ...]


class LandmarkIndex:
    """Bag-of-visual-words index over a gallery; built once per gallery state, saved as one .npz file."""

    def __init__(self, entries: Sequence[GalleryEntry], vocab: np.ndarray, idf: np.ndarray, matrix: Any):
        self.entries = list(entries)
        self.vocab = vocab
        self.idf = idf
        self.matrix = matrix  # scipy.sparse CSR, one L2-normalised tf-idf row per entry
        self._flann: Any = None

    @classmethod
    def build(cls, entries: Sequence[GalleryEntry], features: Sequence[Features], *, words: int | None = None,
              sample: int = 100_000, iterations: int = 8, seed: int = 0) -> LandmarkIndex:
        """Train the vocabulary on up to `sample` gallery descriptors (k-means; `words` defaults to about one
        word per 40 descriptors, 64-4096) and index every entry. Cost grows linearly with the gallery."""
        from scipy import sparse

        rng = np.random.default_rng(seed)
        all_desc = [f.descriptors for f in features if len(f.descriptors)]
        total = sum(len(d) for d in all_desc)
        if not total:
            raise OsintError("the landmark gallery has no usable features (flat or tiny photos?): add photos "
                             "that show the structure with texture and detail")
        k = words or int(min(4096, max(64, total // 40)))
        pick = np.concatenate(all_desc)[rng.choice(total, min(sample, total), replace=False)].astype(np.float32)
        k = min(k, len(pick))
        vocab = _kmeans(pick, k, iterations, rng)
        index = cls(entries, vocab, np.ones(k, np.float32), None)
        rows = [index._words(f) for f in features]
        df = np.zeros(k, np.float64)
        for r in rows:
            df[np.unique(r)] += 1
        index.idf = np.log((len(rows) + 1) / (df + 1)).astype(np.float32)
        data, ind, ptr = [], [], [0]
        for r in rows:
            vec = index._tfidf(r)
            ind.append(vec.indices)
            data.append(vec.data)
            ptr.append(ptr[-1] + len(vec.indices))
        index.matrix = sparse.csr_matrix((np.concatenate(data) if data else [], np.concatenate(ind) if ind else [],
                                          ptr), shape=(len(rows), k), dtype=np.float32)
        return index

    def _flann_index(self) -> Any:
        import cv2

        if self._flann is None:
            self._flann = cv2.flann_Index(self.vocab, dict(algorithm=1, trees=4))  # type: ignore[attr-defined]
        return self._flann

    def _words(self, f: Features) -> np.ndarray:
        if not len(f.descriptors):
            return np.zeros(0, np.int64)
        idx, _ = self._flann_index().knnSearch(f.descriptors.astype(np.float32), 1, params=dict(checks=32))
        return idx[:, 0].astype(np.int64)

    def _tfidf(self, words: np.ndarray) -> Any:
        from scipy import sparse

        k = len(self.vocab)
        counts = np.bincount(words, minlength=k).astype(np.float32) * self.idf
        norm = float(np.linalg.norm(counts)) or 1.0
        return sparse.csr_matrix(counts / norm)

    def shortlist(self, query: Features, k: int = 30) -> list[tuple[int, float]]:
        """Indices and cosine similarities of the `k` gallery entries whose word histograms are closest."""
        if not len(query.descriptors) or not self.entries:
            return []
        scores = (self.matrix @ self._tfidf(self._words(query)).T).toarray().ravel()
        top = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in top]

    def match(self, query: Features, features_of: Callable[[str], Features], *,
              shortlist: int = SHORTLIST) -> list[Candidate]:
        """Rank candidate places for a query: shortlist by words, verify each by RANSAC, group by place."""
        checked = []
        for i, sim in self.shortlist(query, shortlist):
            e = self.entries[i]
            m, inl = verify(query, features_of(e.key))
            checked.append(ImageMatch(e.key, e.label, e.lat, e.lon, round(sim, 4), m, inl))
        return rank_places(checked)

    def save(self) -> bytes:
        buf = io.BytesIO()
        m = self.matrix
        np.savez_compressed(buf, vocab=self.vocab, idf=self.idf, data=m.data, indices=m.indices, indptr=m.indptr,
                            shape=np.array(m.shape), entries=np.array(json.dumps([e.__dict__ for e in self.entries])),
                            version=np.array(FEATURE_VERSION))
        return buf.getvalue()

    @classmethod
    def load(cls, data: bytes | Path) -> LandmarkIndex:
        from scipy import sparse

        raw = data.read_bytes() if isinstance(data, Path) else data
        with np.load(io.BytesIO(raw)) as z:
            if str(z["version"]) != FEATURE_VERSION:
                raise ValueError("landmark index of another feature version: rebuild it")
            matrix = sparse.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
            entries = [GalleryEntry(**e) for e in json.loads(str(z["entries"]))]
            return cls(entries, z["vocab"], z["idf"], matrix)


def gallery_hash(entries: Sequence[GalleryEntry]) -> str:
    """A fingerprint of the gallery's contents and the feature version: the index is rebuilt when it changes."""
    text = json.dumps([FEATURE_VERSION, sorted((e.key, e.lat, e.lon, e.label) for e in entries)])
    return hashlib.sha256(text.encode()).hexdigest()


def verify(query: Features, ref: Features) -> tuple[int, int]:
    """(mutual ratio-test matches, RANSAC fundamental-matrix inliers) between two photos' features."""
    import cv2

    if len(query.descriptors) < 8 or len(ref.descriptors) < 8:
        return 0, 0
    bf = cv2.BFMatcher(cv2.NORM_L2)
    qd, rd = query.descriptors.astype(np.float32), ref.descriptors.astype(np.float32)
    back = {m.queryIdx: m.trainIdx for m in bf.match(rd, qd)}
    good = [p[0] for p in bf.knnMatch(qd, rd, k=2)
            if len(p) == 2 and p[0].distance < RATIO * p[1].distance and back.get(p[0].trainIdx) == p[0].queryIdx]
    if len(good) < 8:
        return len(good), 0
    a = query.keypoints[[g.queryIdx for g in good]]
    b = ref.keypoints[[g.trainIdx for g in good]]
    _, mask = cv2.findFundamentalMat(a, b, cv2.USAC_MAGSAC, RANSAC_PX, 0.999, 2000)
    return len(good), int(mask.sum()) if mask is not None else 0


def rank_places(checked: Sequence[ImageMatch]) -> list[Candidate]:
    """Group verified photos by place (label + coordinates); rank places by their best inlier count."""
    groups: dict[tuple[str, float, float], list[ImageMatch]] = {}
    for m in checked:
        groups.setdefault((m.label, m.lat, m.lon), []).append(m)
    out = []
    for (label, lat, lon), ms in groups.items():
        ms.sort(key=lambda m: (-m.inliers, -m.similarity))
        best = ms[0]
        out.append(Candidate(label, lat, lon, best.inliers, best.matches,
                             round(min(1.0, best.inliers / FULL_CONFIDENCE), 3), best.inliers >= MIN_INLIERS,
                             best.key, tuple(ms)))
    out.sort(key=lambda c: (-c.inliers, -max(m.similarity for m in c.images)))
    return out


def _kmeans(x: np.ndarray, k: int, iterations: int, rng: np.random.Generator) -> np.ndarray:
    """Plain Lloyd k-means with BLAS distance products (chunked); empty clusters are re-seeded."""
    centers = x[rng.choice(len(x), k, replace=False)].copy()
    x2 = (x * x).sum(1)
    for _ in range(iterations):
        labels = np.empty(len(x), np.int64)
        c2 = (centers * centers).sum(1)
        for s in range(0, len(x), 8192):
            d = x2[s:s + 8192, None] - 2 * x[s:s + 8192] @ centers.T + c2[None, :]
            labels[s:s + 8192] = d.argmin(1)
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, x)
        counts = np.bincount(labels, minlength=k)
        empty = counts == 0
        centers[~empty] = sums[~empty] / counts[~empty, None]
        if empty.any():
            centers[empty] = x[rng.choice(len(x), int(empty.sum()), replace=False)]
    return np.ascontiguousarray(centers, dtype=np.float32)


def confidence_note() -> str:
    """What the landmark confidence means, for reports and help texts."""
    return (f"confidence = geometric inliers / {FULL_CONFIDENCE} (capped at 1); a candidate with fewer than "
            f"{MIN_INLIERS} inliers is not a verified match. A lead for human comparison, never a verdict.")
