"""Crop-robust repost links from local features: a cropped, captioned, rescaled, screenshotted or mirrored copy.

Global hashes see the whole picture, so a crop of 10% already moves them past any safe threshold. Here each
picture keeps its RootSIFT keypoints (osint.media.features) and its grey pixels in the keypoints' frame
(640 px). Candidates come from a visual-word index (one sparse product per picture, never all pairs); each
candidate is checked twice: a similarity transform (scale, rotation, shift: what cropping, rescaling and
pasting into a screenshot do) fitted by RANSAC must explain at least MIN_INLIERS ratio-test matches to within
RANSAC_PX, and the two pictures' pixels, aligned by that transform, must agree tile by tile at the coarser
picture's own resolution (median correlation of textured tiles at least MIN_AGREEMENT). Two photos of one
scene from nearly the same spot (a burst, a nearby viewpoint) fit a transform on the building alone, but
parallax and motion leave their tiles agreeing at 0.64-0.88; a repost agrees at 0.95-1.0, and a caption or
watermark spoils only the tiles it covers. A mirrored copy is matched with its keypoints and descriptors
mirrored (a fixed permutation of the SIFT bins), so no second extraction is needed. Every link says why:
inliers, their residual, agreement, scale, rotation, mirror, and which part of each picture the other shows.
Verification is deterministic, so its outcome for a pair (link or none) can be kept (`Decided`; in a case by
osint.hashing.stage, under PAIR_VERSION: the features' version and every threshold) and never computed again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from osint.media.features import FEATURE_VERSION, Features, WordIndex, extract_features, npz_arrays, npz_bytes

GREY_QUALITY = 90       # JPEG quality of the stored grey picture (the pixel check's input)
RATIO = 0.8             # Lowe ratio test
RANSAC_PX = 3.0         # reprojection error (pixels at 640 px) under which a match is an inlier
MIN_INLIERS = 12        # fewer inliers than this: no link
MIN_AGREEMENT = 0.92    # median correlation of the aligned overlap's textured tiles: reposts (crops, captions,
                        # 0.25x, screenshots, JPEG 50, mirrors) 0.94-1.0; burst shots, nearby viewpoints 0.58-0.90
                        # (bench/dupes_eval.py)
TILES = 20              # tiles across the coarser picture's longer side for the pixel check
MIN_TILES = 4           # fewer textured tiles in the overlap than this: no link
MIN_OVERLAP = 0.1       # the overlap must cover at least this share of the smaller picture
SHORTLIST = 10          # candidates checked per picture (and as many for its mirror image)
LOCAL_VERSION = f"{FEATURE_VERSION}+grey-q{GREY_QUALITY}/2"
FIT_RULE = f"ratio{RATIO},ransac{RANSAC_PX:g}px,inliers{MIN_INLIERS}"     # what decides a fit (`_fit`)
PAIR_RULE = f"{FIT_RULE},agreement{MIN_AGREEMENT:g},tiles{TILES}/{MIN_TILES},overlap{MIN_OVERLAP:g}"  # ... a link
PAIR_STAGE = "local-links"              # the case's kept outcomes of photo pairs (osint.hashing.stage)
PAIR_VERSION = f"{LOCAL_VERSION};{PAIR_RULE}/1"
_MIRROR = np.arange(128).reshape(4, 4, 8)[::-1][:, :, (8 - np.arange(8)) % 8].ravel()  # RootSIFT bins, mirrored


@dataclass(frozen=True)
class LocalFeatures:
    """What crop-robust linking keeps of one picture: keypoints and grey pixels at 640 px, sizes."""

    features: Features
    jpeg: bytes                 # the grey picture in the keypoints' frame, JPEG GREY_QUALITY
    size: tuple[int, int]       # (width, height) of the picture the keypoints were found in
    full: tuple[int, int]       # (width, height) of the picture itself (upright)
    mirrored: bool = False      # keypoints, descriptors and pixels of the picture's mirror image

    @property
    def grey(self) -> np.ndarray:
        """The grey picture (uint8, decoded on each use: a few ms, no memory held per picture)."""
        import cv2

        grey = cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise ValueError("could not decode the stored grey picture")
        return np.ascontiguousarray(grey[:, ::-1]) if self.mirrored else grey

    def to_bytes(self) -> bytes:
        return npz_bytes(LOCAL_VERSION, True, k=self.features.keypoints, d=self.features.descriptors,
                         g=np.frombuffer(self.jpeg, np.uint8), s=np.array(self.size), f=np.array(self.full))

    @classmethod
    def from_bytes(cls, data: bytes) -> LocalFeatures:
        z = npz_arrays(data, LOCAL_VERSION, "local features")
        return cls(Features(z["k"], z["d"]), z["g"].tobytes(), (int(z["s"][0]), int(z["s"][1])),
                   (int(z["f"][0]), int(z["f"][1])))

    def mirror(self) -> LocalFeatures:
        """The same features as the mirror image's (left-right): positions flipped, SIFT bins permuted."""
        k = self.features.keypoints.copy()
        k[:, 0] = self.size[0] - 1 - k[:, 0]
        return replace(self, features=Features(k, self.features.descriptors[:, _MIRROR]), mirrored=not self.mirrored)


def local_features(picture: np.ndarray | Path | str) -> LocalFeatures:
    """Keypoints and grey pixels of a photo (path) or an RGB array (a video keyframe)."""
    import cv2

    from osint.media import load_image
    from osint.media.features import MAX_SIDE

    rgb = picture if isinstance(picture, np.ndarray) else load_image(picture, max_side=MAX_SIDE)
    h, w = rgb.shape[:2]
    full = (w, h) if isinstance(picture, np.ndarray) else _upright_size(Path(picture), (w, h))
    rgb = _shrunk(rgb)
    h, w = rgb.shape[:2]
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), [cv2.IMWRITE_JPEG_QUALITY, GREY_QUALITY])
    if not ok:
        raise ValueError("could not encode the grey picture")
    return LocalFeatures(extract_features(rgb), jpeg.tobytes(), (w, h), full)


def _shrunk(rgb: np.ndarray) -> np.ndarray:
    """The picture with its longer side at most the features' MAX_SIDE (the keypoints' frame)."""
    import cv2

    from osint.media.features import MAX_SIDE

    h, w = rgb.shape[:2]
    if max(h, w) <= MAX_SIDE:
        return rgb
    s = MAX_SIDE / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


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
    `rotation` in degrees (clockwise), `mirror` whether b shows a mirrored, `box_a` the part of a that b
    shows and `box_b` where it sits in b (left, top, right, bottom as fractions of each picture: a crop of a
    has box_b near (0, 0, 1, 1); a screenshot of a has box_a near (0, 0, 1, 1)). `agreement` is the median
    correlation of the aligned pixels' tiles (1 = identical), `residual` the inliers' median distance from
    where the transform puts them (pixels at 640 px: a repost 0.0-0.6, another shot of the scene about 1).
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
    residual: float = 0.0
    mirror: bool = False
    t_a: float | None = None      # where a is a video: the time (seconds) of the frame b shows
    frame_a: int | None = None    # ... and that frame's index (decode order, 0 = first)

    @property
    def method(self) -> str:
        return "local features (RootSIFT + RANSAC similarity + tiled pixel check)"

    def to_plain(self) -> dict[str, Any]:
        """Every field as JSON (what the case keeps of a verified pair)."""
        return asdict(self)

    @classmethod
    def from_plain(cls, data: Mapping[str, Any]) -> LocalLink:
        """The link `to_plain` gave (equal to it: JSON keeps the floats exactly)."""
        box_a, box_b = (tuple(float(v) for v in data[k]) for k in ("box_a", "box_b"))
        return cls(**{**data, "box_a": box_a, "box_b": box_b})  # type: ignore[arg-type]

    def describe(self) -> str:
        """One line: why these two are linked."""
        rot = f", rotated {self.rotation:.0f}°" if abs(self.rotation) >= 1 else ""
        box = ", ".join(f"{v:.2f}" for v in self.box_a)
        at = "" if self.t_a is None else f" frame {self.frame_a} at {self.t_a:.3f} s"
        return (f"local {self.inliers} inliers (residual {self.residual:.2f} px), agreement {self.agreement:.2f}, "
                f"b shows a's{at} ({box}) at {self.scale:.2f}x{rot}{', mirror' if self.mirror else ''}")


def match_pair(a: LocalFeatures, b: LocalFeatures, name_a: str = "a", name_b: str = "b") -> LocalLink | None:
    """The link between two pictures, or None when the geometric or the pixel check fails. Pass `b.mirror()`
    to look for a mirrored copy: the link then says mirror and its boxes are in the unmirrored pictures."""
    import cv2

    fit = _fit(a, b)
    if fit is None:
        return None
    m, pa, pb, inl = fit
    scale_ab = float(np.hypot(m[0, 0], m[1, 0]))          # a's pixels per b pixel (640 px frames)
    agreement = _agreement(a.grey, b.grey, m)
    if agreement < MIN_AGREEMENT:
        return None
    inliers = int(inl.sum())
    residual = float(np.median(np.linalg.norm(pb[inl] @ m[:, :2].T + m[:, 2] - pa[inl], axis=1)))
    box_a = _box(m, b.size, a.size)
    box_b = _box(cv2.invertAffineTransform(m), a.size, b.size)
    box_a, box_b = (_unmirror(box_a) if a.mirrored else box_a), (_unmirror(box_b) if b.mirrored else box_b)
    rotation = float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
    scale = (b.full[0] / b.size[0]) / (a.full[0] / a.size[0]) / scale_ab
    return LocalLink(name_a, name_b, inliers, len(pa), round(agreement, 3), round(scale, 3), round(-rotation, 1),
                     box_a, box_b, residual=round(residual, 2), mirror=a.mirrored != b.mirrored)


def _fit(a: LocalFeatures, b: LocalFeatures) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The similarity transform (2 x 3, b's 640 px frame to a's) RANSAC fits to the ratio-test matches, the matched
    points (a's, b's) and which are inliers; None under MIN_INLIERS or at an implausible scale."""
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
    if m is None or mask is None or int(mask.sum()) < MIN_INLIERS or not 0.05 < np.hypot(m[0, 0], m[1, 0]) < 20:
        return None
    return m, pa, pb, mask.ravel().astype(bool)


def _aligned(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The two grey pictures aligned by `m` (b's pixels to a's) at the coarser picture's resolution (the finer one
    blurred to it, then warped onto it): (warped finer, coarser, valid overlap); None when the overlap is under
    MIN_OVERLAP of the smaller picture."""
    import cv2

    scale_ab = float(np.hypot(m[0, 0], m[1, 0]))
    if scale_ab >= 1:     # b is the coarser: a onto b
        fine, coarse, t, ratio = a, b, cv2.invertAffineTransform(m), scale_ab
    else:
        fine, coarse, t, ratio = b, a, m, 1 / scale_ab
    h, w = coarse.shape
    src = cv2.GaussianBlur(fine.astype(np.float32), (0, 0), 0.5 * ratio)
    x = cv2.GaussianBlur(cv2.warpAffine(src, t, (w, h), flags=cv2.INTER_LINEAR), (0, 0), 0.5)
    y = cv2.GaussianBlur(coarse.astype(np.float32), (0, 0), 0.5)
    valid = cv2.warpAffine(np.ones(fine.shape, np.float32), t, (w, h), flags=cv2.INTER_LINEAR) > 0.99
    valid = cv2.erode(valid.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if valid.sum() < MIN_OVERLAP * min(coarse.size, fine.size / ratio ** 2):
        return None
    return x, y, valid


def _agreement(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> float:
    """Median correlation of the textured tiles of the two grey pictures aligned by `m` (b's pixels to a's)."""
    aligned = _aligned(a, b, m)
    if aligned is None:
        return 0.0
    x, y, valid = aligned
    h, w = y.shape
    side = max(8, round(max(h, w) / TILES))
    ny, nx = h // side, w // side
    if not ny or not nx:
        return 0.0

    def tiles(z: np.ndarray) -> np.ndarray:       # per-tile sums over valid pixels
        return z[:ny * side, :nx * side].reshape(ny, side, nx, side).sum(axis=(1, 3))

    v = valid.astype(np.float32)
    n = tiles(v)
    x, y = x * v, y * v
    sx, sy = tiles(x), tiles(y)
    n1 = np.maximum(n, 1)
    vx = tiles(x * x) - sx * sx / n1
    vy = tiles(y * y) - sy * sy / n1
    cov = tiles(x * y) - sx * sy / n1
    textured = (n >= 0.9 * side * side) & (np.maximum(vx, vy) >= 16 * n1)     # std of at least 4 grey levels
    if textured.sum() < MIN_TILES:
        return 0.0
    corr = cov[textured] / np.sqrt(np.maximum(vx[textured] * vy[textured], 1e-6))
    return float(np.median(corr))


def _box(m: np.ndarray, size_from: tuple[int, int], size_to: tuple[int, int]) -> tuple[float, float, float, float]:
    """Where the picture of `size_from` lands in the one of `size_to` under `m`, clipped (fractions)."""
    w, h = size_from
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64) @ m.T
    tw, th = size_to
    box = (corners[:, 0].min() / tw, corners[:, 1].min() / th, corners[:, 0].max() / tw, corners[:, 1].max() / th)
    return _round(np.clip(box, 0, 1))


def _unmirror(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return _round((1 - box[2], box[1], 1 - box[0], box[3]))


def _round(box: Iterable[float]) -> tuple[float, float, float, float]:
    a, b, c, d = (round(float(v), 3) for v in box)
    return a, b, c, d


class RepostIndex(WordIndex):
    """The visual-word index of crop-robust links, each word weighted by the square root of its count.

    A caption's letters repeat a few visual words hundreds of times (a copy of a 270-keypoint portrait had 797
    keypoints, most of them on the caption), and with raw counts those words outweigh the picture's own, so the
    copy's original fell to 10th-35th among 3,675 (bench/dupes_eval.py, crop 10% + caption + 0.5x + q50) past the
    SHORTLIST; square roots (Jégou et al., "On the burstiness of visual elements", 2009) put it back in the top 10.
    """

    @staticmethod
    def term_weights(counts: np.ndarray) -> np.ndarray:
        """Square roots of the counts: a repeated word counts, but not once per repetition."""
        return np.sqrt(counts)


class Decided(Protocol):
    """Outcomes of pairs verified before, by `pair_key` (a dict; in a case, osint.hashing.stage keeps them):
    verification is deterministic, so a pair decided once is not verified again."""

    def __contains__(self, key: object) -> bool: ...

    def __getitem__(self, key: str) -> Any: ...

    def __setitem__(self, key: str, value: Any) -> None: ...


def pair_key(a: str, b: str, mirrored: bool) -> str:
    """The key of one verification: picture a against b (or b's mirror image), in that order."""
    return f"{a} {b}{' mirror' if mirrored else ''}"


def decided(known: Decided | None, key: str, verify: Callable[..., Any], *args: Any) -> Any:
    """The outcome kept under `key` in `known`, else `verify(*args)`'s (JSON), kept there."""
    if known is None:
        return verify(*args)
    if key not in known:
        known[key] = verify(*args)
    return known[key]


class LocalSet:
    """Many pictures' local features with a visual-word index: `similar` for one picture, `links` for all."""

    def __init__(self, features: Mapping[str, LocalFeatures], index: WordIndex | None = None):
        self.keys = list(features)
        self.features = [features[k] for k in self.keys]
        self.index = index or RepostIndex.build([f.features for f in self.features])

    def similar(self, query: LocalFeatures, name: str = "query", shortlist: int = SHORTLIST) -> list[LocalLink]:
        """Pictures the query shows part of (or that show part of it), plain or mirrored, most inliers first."""
        best: dict[int, LocalLink] = {}
        for q in (query, query.mirror()):
            for i, _ in self.index.shortlist(q.features, shortlist):
                link = match_pair(self.features[i], q, self.keys[i], name)
                if link is not None and (i not in best or link.inliers > best[i].inliers):
                    best[i] = link
        return sorted(best.values(), key=lambda lk: -lk.inliers)

    def candidates(self, shortlist: int = SHORTLIST) -> list[tuple[int, int, bool]]:
        """Each pair (i < j, mirrored) to check once: j in i's shortlist or i in j's, for the picture and its
        mirror image."""
        seen: set[tuple[int, int, bool]] = set()
        for i, f in enumerate(self.features):
            for mirrored, q in ((False, f), (True, f.mirror())):
                seen.update((min(i, j), max(i, j), mirrored) for j, _ in self.index.shortlist(q.features, shortlist + 1)
                            if j != i)
        return sorted(seen)

    def check(self, pair: tuple[int, int, bool]) -> LocalLink | None:
        """The link of one candidate pair (i, j, mirrored), or None."""
        i, j, mirrored = pair
        b = self.features[j].mirror() if mirrored else self.features[j]
        return match_pair(self.features[i], b, self.keys[i], self.keys[j])

    def _plain(self, pair: tuple[int, int, bool]) -> dict[str, Any] | None:
        link = self.check(pair)
        return None if link is None else link.to_plain()

    def links(self, shortlist: int = SHORTLIST, progress: Callable[[int], None] | None = None,
              known: Decided | None = None) -> list[LocalLink]:
        """Every verified link between two pictures of the set (plain or mirrored): each candidate pair once, a
        pair `known` holds (by the pictures' keys: content hashes) not verified again, a new one kept there."""
        out, done = [], 0
        for pair in self.candidates(shortlist):
            if progress and pair[0] > done:
                progress(pair[0] - done)
                done = pair[0]
            i, j, mirrored = pair
            plain = decided(known, pair_key(self.keys[i], self.keys[j], mirrored), self._plain, pair)
            if plain is not None:
                out.append(LocalLink.from_plain(plain))
        if progress:
            progress(len(self.keys) - done)
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
