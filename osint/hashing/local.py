"""Crop-robust repost links from local features: a cropped, captioned, rescaled or screenshotted copy.

Global hashes see the whole picture, so a crop of 10% already moves them past any safe threshold. Here each
picture keeps its RootSIFT keypoints (osint.media.features) and a small grey thumbnail. Candidates come from
a visual-word index (one sparse product per picture, never all pairs); each candidate is checked twice:
a similarity transform (scale, rotation, shift: what cropping, rescaling and pasting into a screenshot do)
fitted by RANSAC must explain at least MIN_INLIERS ratio-test matches to within RANSAC_PX, and the two
pictures' pixels, aligned by that transform, must agree (normalised cross-correlation of the overlap at
least MIN_AGREEMENT): two photos of one building from nearly the same spot fit a transform on the building
alone, a repost agrees everywhere it overlaps. Every link says why: inliers, agreement, scale, rotation,
and which part of each picture the other shows (the crop box). Mirrored copies are PDQ's (SIFT is not
mirror-invariant).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from osint.media.features import FEATURE_VERSION, Features, WordIndex, extract_features

THUMB_SIDE = 160        # longest side of the grey thumbnail kept for the pixel check
RATIO = 0.8             # Lowe ratio test
RANSAC_PX = 3.0         # reprojection error (pixels at 640 px) under which a match is an inlier
MIN_INLIERS = 12        # fewer inliers than this: no link
MIN_AGREEMENT = 0.91    # normalised cross-correlation of the aligned overlap (blurred thumbnails): burst shots
                        # of one scene reach 0.88-0.90 (bench/dupes_eval.py), most reposts 0.93-1.0
MIN_OVERLAP = 0.1       # the overlap must cover at least this share of the smaller picture
SHORTLIST = 10          # candidates checked per picture
LOCAL_VERSION = f"{FEATURE_VERSION}+thumb{THUMB_SIDE}/1"


@dataclass(frozen=True)
class LocalFeatures:
    """What crop-robust linking keeps of one picture: keypoints at 640 px, grey thumbnail, sizes."""

    features: Features
    thumb: np.ndarray           # uint8 grey, longer side THUMB_SIDE
    size: tuple[int, int]       # (width, height) of the picture the keypoints were found in
    full: tuple[int, int]       # (width, height) of the picture itself (upright)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, k=self.features.keypoints, d=self.features.descriptors, t=self.thumb,
                            s=np.array(self.size), f=np.array(self.full), v=np.array(LOCAL_VERSION))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LocalFeatures:
        with np.load(io.BytesIO(data)) as z:
            if str(z["v"]) != LOCAL_VERSION:
                raise ValueError(f"local features of version {z['v']} (expected {LOCAL_VERSION})")
            return cls(Features(z["k"], z["d"]), z["t"], (int(z["s"][0]), int(z["s"][1])),
                       (int(z["f"][0]), int(z["f"][1])))


def local_features(picture: np.ndarray | Path | str) -> LocalFeatures:
    """Keypoints and thumbnail of a photo (path) or an RGB array (a video keyframe)."""
    import cv2

    from osint.media import load_image
    from osint.media.features import MAX_SIDE

    rgb = picture if isinstance(picture, np.ndarray) else load_image(picture, max_side=MAX_SIDE)
    h, w = rgb.shape[:2]
    full = (w, h) if isinstance(picture, np.ndarray) else _upright_size(Path(picture), (w, h))
    if max(h, w) > MAX_SIDE:
        s = MAX_SIDE / max(h, w)
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    h, w = rgb.shape[:2]
    s = THUMB_SIDE / max(h, w)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    thumb = cv2.resize(grey, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return LocalFeatures(extract_features(rgb), thumb, (w, h), full)


def _upright_size(path: Path, decoded: tuple[int, int]) -> tuple[int, int]:
    """The photo's own size, turned as EXIF orientation turns it (the decoded size where the header is unreadable)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
            turned = im.getexif().get(0x0112) in (5, 6, 7, 8)
    except Exception:  # noqa: BLE001 - a format Pillow cannot open lazily (HEIF): the decode's size will do
        return decoded
    return (h, w) if turned else (w, h)


@dataclass(frozen=True)
class LocalLink:
    """b shows (part of) a's picture: `inliers` of `matches` keypoint matches fit one similarity transform.

    `scale` is how large a's content appears in b, in each picture's own pixels (0.5: shown at half size),
    `rotation` in degrees
    (clockwise), `box_a` the part of a that b shows and `box_b` where it sits in b (left, top, right, bottom
    as fractions of each picture: a crop of a has box_b near (0, 0, 1, 1); a screenshot of a has box_a
    near (0, 0, 1, 1)). `agreement` is the correlation of the aligned pixels (1 = identical).
    """

    a: str
    b: str
    inliers: int
    matches: int
    agreement: float
    scale: float
    rotation: float
    box_a: tuple[float, float, float, float]
    box_b: tuple[float, float, float, float]

    @property
    def method(self) -> str:
        return "local features (RootSIFT + RANSAC similarity + pixel check)"

    def describe(self) -> str:
        """One line: why these two are linked."""
        rot = f", rotated {self.rotation:.0f}°" if abs(self.rotation) >= 1 else ""
        box = ", ".join(f"{v:.2f}" for v in self.box_a)
        return (f"local {self.inliers} inliers, agreement {self.agreement:.2f}, b shows a's ({box}) at "
                f"{self.scale:.2f}x{rot}")


def match_pair(a: LocalFeatures, b: LocalFeatures, name_a: str = "a", name_b: str = "b") -> LocalLink | None:
    """The link between two pictures, or None when the geometric or the pixel check fails."""
    import cv2

    fa, fb = a.features, b.features
    if len(fa.descriptors) < MIN_INLIERS or len(fb.descriptors) < MIN_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(fb.descriptors.astype(np.float32), fa.descriptors.astype(np.float32),
                                                k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    pb = fb.keypoints[[g.queryIdx for g in good]]
    pa = fa.keypoints[[g.trainIdx for g in good]]
    m, mask = cv2.estimateAffinePartial2D(pb, pa, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX,
                                          maxIters=2000, confidence=0.999)
    inliers = 0 if mask is None else int(mask.sum())
    if m is None or inliers < MIN_INLIERS:
        return None
    scale_ab = float(np.hypot(m[0, 0], m[1, 0]))          # a's pixels per b pixel (640 px frames)
    if not 0.05 < scale_ab < 20:
        return None
    agreement, box_a, box_b = _pixel_check(a, b, m)
    if agreement < MIN_AGREEMENT:
        return None
    rotation = float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
    scale = (b.full[0] / b.size[0]) / (a.full[0] / a.size[0]) / scale_ab
    return LocalLink(name_a, name_b, inliers, len(good), round(agreement, 3), round(scale, 3),
                     round(-rotation, 1), box_a, box_b)


def _pixel_check(a: LocalFeatures, b: LocalFeatures, m: np.ndarray
                 ) -> tuple[float, tuple[float, float, float, float], tuple[float, float, float, float]]:
    """Correlation of b's thumbnail warped onto a's over their overlap, and the overlap's box in each picture."""
    import cv2

    sa = a.thumb.shape[1] / a.size[0]                      # thumbnail pixels per 640-frame pixel
    sb = b.thumb.shape[1] / b.size[0]
    t = m.copy()
    t[:, :2] *= sa / sb
    t[:, 2] *= sa
    h, w = a.thumb.shape
    warped = cv2.warpAffine(b.thumb.astype(np.float32), t, (w, h), flags=cv2.INTER_LINEAR)
    valid = cv2.warpAffine(np.ones(b.thumb.shape, np.float32), t, (w, h), flags=cv2.INTER_LINEAR) > 0.99
    valid = cv2.erode(valid.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    small = min(a.thumb.size, b.thumb.size * (sa / sb) ** 2)
    if valid.sum() < MIN_OVERLAP * small or valid.sum() < 64:
        return 0.0, (0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)
    x = cv2.GaussianBlur(warped, (0, 0), 1.0)[valid]
    y = cv2.GaussianBlur(a.thumb.astype(np.float32), (0, 0), 1.0)[valid]
    x, y = x - x.mean(), y - y.mean()
    agreement = float((x * y).sum() / (np.sqrt((x * x).sum() * (y * y).sum()) + 1e-6))
    rows, cols = np.nonzero(valid)
    box_a = (cols.min() / w, rows.min() / h, (cols.max() + 1) / w, (rows.max() + 1) / h)
    inv = cv2.invertAffineTransform(t)
    corners = np.array([[box_a[0] * w, box_a[1] * h, 1], [box_a[2] * w, box_a[3] * h, 1],
                        [box_a[0] * w, box_a[3] * h, 1], [box_a[2] * w, box_a[1] * h, 1]]) @ inv.T
    bh, bw = b.thumb.shape
    box_b = (corners[:, 0].min() / bw, corners[:, 1].min() / bh, corners[:, 0].max() / bw, corners[:, 1].max() / bh)
    return agreement, _round(box_a), _round(tuple(np.clip(box_b, 0, 1)))


def _round(box: Iterable[float]) -> tuple[float, float, float, float]:
    a, b, c, d = (round(float(v), 3) for v in box)
    return a, b, c, d


class LocalSet:
    """Many pictures' local features with a visual-word index: `similar` for one picture, `links` for all."""

    def __init__(self, features: Mapping[str, LocalFeatures], index: WordIndex | None = None):
        self.keys = list(features)
        self.features = [features[k] for k in self.keys]
        self.index = index or WordIndex.build([f.features for f in self.features])

    def similar(self, query: LocalFeatures, name: str = "query", shortlist: int = SHORTLIST) -> list[LocalLink]:
        """Pictures the query shows part of (or that show part of it), most inliers first."""
        found = []
        for i, _ in self.index.shortlist(query.features, shortlist):
            link = match_pair(self.features[i], query, self.keys[i], name)
            if link is not None:
                found.append(link)
        return sorted(found, key=lambda lk: -lk.inliers)

    def links(self, shortlist: int = SHORTLIST, progress: Callable[[int], None] | None = None) -> list[LocalLink]:
        """Every verified link between two pictures of the set: each picture's shortlist checked once per pair."""
        seen: set[tuple[int, int]] = set()
        out = []
        for i, f in enumerate(self.features):
            for j, _ in self.index.shortlist(f.features, shortlist + 1):
                pair = (min(i, j), max(i, j))
                if i == j or pair in seen:
                    continue
                seen.add(pair)
                link = match_pair(self.features[pair[0]], self.features[pair[1]], self.keys[pair[0]],
                                  self.keys[pair[1]])
                if link is not None:
                    out.append(link)
            if progress:
                progress(1)
        return out


def local_groups(keys: Sequence[str], links: Sequence[LocalLink]) -> list[list[str]]:
    """Connected components (two or more members) of links over `keys`."""
    parent = {k: k for k in keys}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for lk in links:
        parent[root(lk.a)] = root(lk.b)
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(root(k), []).append(k)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))


LOCAL_STAGE = "local"


def local_file(path: Path) -> bytes | None:
    """A photo's local features as bytes for the case's derived store; None for a video (keyframes are
    linked by their hashes)."""
    from osint.errors import UnsupportedMedia
    from osint.media import sniff_file

    kind = sniff_file(path)
    if kind.media_type == "video":
        return None
    if kind.media_type != "image":
        raise UnsupportedMedia(f"not a photo or video ({kind.format})")
    return local_features(path).to_bytes()
