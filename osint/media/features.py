"""Local features of a picture and a visual-word index over many pictures' features.

RootSIFT (OpenCV SIFT on the picture shrunk to MAX_SIDE, descriptors L1-normalised and square-rooted) gives
up to MAX_FEATURES keypoints that survive crops, rescaling, captions and recompression. `WordIndex` turns
every picture into a tf-idf bag of visual words (k-means over descriptors), so candidates for a query come
from one sparse product instead of comparing every pair; the caller checks the shortlist geometrically.
Used by landmark matching (osint.geolocate) and crop-robust repost links (osint.hashing).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from osint.errors import OsintError

FEATURE_VERSION = "rootsift-640-1000-v1"
FLANN_SEED = 0x05EED     # seed of the word trees: the same words in every run (see WordIndex._flann_index)
MAX_SIDE = 640          # pictures are shrunk to this longer side before feature extraction (pixels)
MAX_FEATURES = 1000     # strongest SIFT keypoints kept per picture


@dataclass(frozen=True)
class Features:
    """Keypoint positions (N x 2, pixels in the shrunk photo) and RootSIFT descriptors (N x 128, uint8 x 255)."""

    keypoints: np.ndarray
    descriptors: np.ndarray

    def to_bytes(self) -> bytes:
        return npz_bytes(FEATURE_VERSION, k=self.keypoints, d=self.descriptors)

    @classmethod
    def from_bytes(cls, data: bytes) -> Features:
        z = npz_arrays(data, FEATURE_VERSION, "features")
        return cls(z["k"], z["d"])


def npz_bytes(version: str, compress: bool = False, **arrays: Any) -> bytes:
    """Arrays and the format version that wrote them as one .npz blob: how features are kept in a case."""
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, v=np.array(version), **arrays)
    return buf.getvalue()


def npz_arrays(data: bytes, version: str, what: str) -> dict[str, np.ndarray]:
    """The arrays of an `npz_bytes` blob; ValueError naming `what` when another format version wrote it."""
    with np.load(io.BytesIO(data)) as z:
        if str(z["v"]) != version:
            raise ValueError(f"{what} of version {z['v']} (expected {version})")
        return {name: z[name] for name in z.files}


def extract_features(image: np.ndarray | Path | str) -> Features:
    """RootSIFT features of a picture (path or RGB array): ~0.1-0.3 s for a 640 px photo on one core."""
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


class WordIndex:
    """Bag-of-visual-words index over many pictures' features: row i of `matrix` is picture i."""

    def __init__(self, vocab: np.ndarray, idf: np.ndarray, matrix: Any):
        self.vocab = vocab
        self.idf = idf
        self.matrix = matrix  # scipy.sparse CSR, one L2-normalised tf-idf row per picture
        self._flann: Any = None

    @classmethod
    def build(cls, features: Sequence[Features], *, words: int | None = None, sample: int = 100_000,
              iterations: int = 8, seed: int = 0) -> WordIndex:
        """Train the vocabulary on up to `sample` descriptors (k-means; `words` defaults to about one word per
        40 descriptors, 64-4096) and index every picture. Cost grows linearly with the number of pictures."""
        from scipy import sparse

        rng = np.random.default_rng(seed)
        all_desc = [f.descriptors for f in features if len(f.descriptors)]
        total = sum(len(d) for d in all_desc)
        if not total:
            raise OsintError("no usable local features (flat or tiny pictures?): add pictures with texture and "
                             "detail")
        k = words or int(min(4096, max(64, total // 40)))
        pick = np.concatenate(all_desc)[rng.choice(total, min(sample, total), replace=False)].astype(np.float32)
        k = min(k, len(pick))
        index = cls(kmeans(pick, k, iterations, rng), np.ones(k, np.float32), None)
        rows = [index.words(f) for f in features]
        df = np.zeros(k, np.float64)
        for r in rows:
            df[np.unique(r)] += 1
        index.idf = np.log((len(rows) + 1) / (df + 1)).astype(np.float32)
        data, ind, ptr = [], [], [0]
        for r in rows:
            vec = index.tfidf(r)
            ind.append(vec.indices)
            data.append(vec.data)
            ptr.append(ptr[-1] + len(vec.indices))
        index.matrix = sparse.csr_matrix((np.concatenate(data) if data else [], np.concatenate(ind) if ind else [],
                                          ptr), shape=(len(rows), k), dtype=np.float32)
        return index

    def _flann_index(self) -> Any:
        import cv2

        if self._flann is None:
            # FLANN's randomised trees draw from OpenCV's random generator, whose state depends on whatever ran
            # before in the process (RANSAC draws from it): seeded, every run assigns the same words
            cv2.setRNGSeed(FLANN_SEED)
            self._flann = cv2.flann_Index(self.vocab, dict(algorithm=1, trees=4))  # type: ignore[attr-defined]
        return self._flann

    def words(self, f: Features) -> np.ndarray:
        """The visual word of each of a picture's descriptors."""
        if not len(f.descriptors):
            return np.zeros(0, np.int64)
        idx, _ = self._flann_index().knnSearch(f.descriptors.astype(np.float32), 1, params=dict(checks=32))
        return idx[:, 0].astype(np.int64)

    def tfidf(self, words: np.ndarray) -> Any:
        """A 1 x vocabulary sparse row: word counts weighted by idf, L2-normalised."""
        from scipy import sparse

        k = len(self.vocab)
        counts = self.term_weights(np.bincount(words, minlength=k).astype(np.float32)) * self.idf
        norm = float(np.linalg.norm(counts)) or 1.0
        return sparse.csr_matrix(counts / norm)

    @staticmethod
    def term_weights(counts: np.ndarray) -> np.ndarray:
        """A picture's weight of each word from its count there (raw counts here; see osint.hashing.local)."""
        return counts

    def shortlist(self, query: Features, k: int = 30) -> list[tuple[int, float]]:
        """Indices and cosine similarities of the `k` indexed pictures whose word histograms are closest."""
        if not len(query.descriptors) or self.matrix is None or not self.matrix.shape[0]:
            return []
        scores = (self.matrix @ self.tfidf(self.words(query)).T).toarray().ravel()
        top = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in top]


def kmeans(x: np.ndarray, k: int, iterations: int, rng: np.random.Generator) -> np.ndarray:
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
