"""Landmark matching: find which geotagged reference photo shows the same buildings as a query photo.

Each photo becomes up to 1,000 RootSIFT local features (osint.media.features: SIFT on the photo shrunk to 640 px).
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
from osint.media.features import FEATURE_VERSION, Features, WordIndex, extract_features  # noqa: F401 - re-exported

RATIO = 0.8             # Lowe ratio test: best match must be this much closer than the second best
RANSAC_PX = 1.0         # epipolar distance (pixels at 640 px) under which a match is an inlier
MIN_INLIERS = 15        # fewer geometric inliers than this is not a verified match
FULL_CONFIDENCE = 60    # inliers at which confidence reaches 1.0 (confidence = inliers / 60, capped)
SHORTLIST = 60          # gallery photos verified per query (bench: 30 -> 80 %, 60 -> 87 % top-1 at 10,000)


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


class LandmarkIndex(WordIndex):
    """Bag-of-visual-words index over a gallery (row i is entry i); built once per gallery state, saved as one
    .npz file."""

    def __init__(self, entries: Sequence[GalleryEntry], vocab: np.ndarray, idf: np.ndarray, matrix: Any):
        super().__init__(vocab, idf, matrix)
        self.entries = list(entries)

    @classmethod
    def build(cls, entries: Sequence[GalleryEntry], features: Sequence[Features], *,  # type: ignore[override]
              words: int | None = None, sample: int = 100_000, iterations: int = 8, seed: int = 0) -> LandmarkIndex:
        """Train the vocabulary on the gallery's descriptors and index every entry (see `WordIndex.build`)."""
        try:
            words_index = WordIndex.build(features, words=words, sample=sample, iterations=iterations, seed=seed)
        except OsintError:
            raise OsintError("the landmark gallery has no usable features (flat or tiny photos?): add photos "
                             "that show the structure with texture and detail") from None
        return cls(entries, words_index.vocab, words_index.idf, words_index.matrix)

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


def confidence_note() -> str:
    """What the landmark confidence means, for reports and help texts."""
    return (f"confidence = geometric inliers / {FULL_CONFIDENCE} (capped at 1); a candidate with fewer than "
            f"{MIN_INLIERS} inliers is not a verified match. A lead for human comparison, never a verdict.")
