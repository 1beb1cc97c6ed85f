"""Find faces in an RGB image with YuNet (default), dlib HOG or dlib CNN, at a cost-aware working scale.

Each detector finds faces down to a native size in the pixels it is given. The image is resized so that
the smallest face we look for (`min_face` original pixels) reaches that native size: large photos are
detected on a reduced copy (much cheaper than full resolution), small photos and video frames on an
enlarged one (finds small faces), and boxes are mapped back to original pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from osint.facematch import models


@dataclass(frozen=True)
class DetectorSpec:
    """A detector's properties: smallest face it finds in its input (px), default smallest face sought in
    the original (px), the largest working image it is given (megapixels, a cost cap), and the smallest."""

    name: str
    native_px: int
    min_face: int
    max_mp: float
    min_side: int


DETECTORS = {
    # YuNet finds faces from about 10 px and turned up to 90 degrees; ~10 ms per 0.25 MP on one core.
    "yunet": DetectorSpec("yunet", native_px=12, min_face=20, max_mp=4.0, min_side=480),
    # dlib HOG's 80x80 window finds frontal faces from about 40 px after its own 2x upsample.
    "hog": DetectorSpec("hog", native_px=80, min_face=40, max_mp=4.0, min_side=0),
    # dlib's MMOD CNN: more pose-tolerant than HOG, 1.5-6 s per 512x512 on CPU, so it gets a small image.
    "cnn": DetectorSpec("cnn", native_px=80, min_face=40, max_mp=1.0, min_side=0),
}


@dataclass(frozen=True)
class Detection:
    """One face: box (left, top, width, height) in original pixels, detector score, and for YuNet the 5
    landmarks (right eye, left eye, nose tip, right and left mouth corner) as (x, y) original pixels."""

    box: tuple[int, int, int, int]
    score: float
    landmarks: tuple[tuple[float, float], ...] | None


def working_scale(height: int, width: int, spec: DetectorSpec, min_face: int | None = None) -> float:
    """Resize factor for detection: brings `min_face` original px to the detector's native size, within
    the detector's pixel budget and never below its minimum working side."""
    want = spec.native_px / float(min_face or spec.min_face)
    cap = (spec.max_mp * 1e6 / float(height * width)) ** 0.5
    floor = spec.min_side / float(max(height, width))
    return max(min(want, cap), floor)


def detect(rgb: np.ndarray, detector: str = "yunet", min_face: int | None = None) -> list[Detection]:
    """All faces in `rgb` (HxWx3 uint8), largest first; `min_face` overrides the detector's default."""
    import cv2

    spec = DETECTORS[detector]
    h, w = rgb.shape[:2]
    s = working_scale(h, w, spec, min_face)
    work = rgb if abs(s - 1.0) < 1e-3 else cv2.resize(
        rgb, (max(1, round(w * s)), max(1, round(h * s))),
        interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    sx, sy = work.shape[1] / w, work.shape[0] / h
    found = {"yunet": _yunet, "hog": _hog, "cnn": _cnn}[detector](work)
    out = []
    for (x, y, bw, bh), score, marks in found:
        left, top = max(0, round(x / sx)), max(0, round(y / sy))
        right, bottom = min(w, round((x + bw) / sx)), min(h, round((y + bh) / sy))
        if right - left < 2 or bottom - top < 2:
            continue
        pts = None if marks is None else tuple((round(px / sx, 1), round(py / sy, 1)) for px, py in marks)
        out.append(Detection((left, top, right - left, bottom - top), round(float(score), 4), pts))
    return sorted(out, key=lambda d: -d.box[2] * d.box[3])


def _yunet(work: np.ndarray) -> list:
    net = models.yunet()
    net.setInputSize((work.shape[1], work.shape[0]))
    _, faces = net.detect(np.ascontiguousarray(work[:, :, ::-1]))
    if faces is None:
        return []
    return [((float(f[0]), float(f[1]), float(f[2]), float(f[3])), float(f[14]),
             tuple((float(f[4 + 2 * i]), float(f[5 + 2 * i])) for i in range(5))) for f in faces]


def _hog(work: np.ndarray) -> list:
    rects, scores, _ = models.hog_detector().run(work, 0, 0.0)
    return [((r.left(), r.top(), r.width(), r.height()), s, None) for r, s in zip(rects, scores)]


def _cnn(work: np.ndarray) -> list:
    return [((d.rect.left(), d.rect.top(), d.rect.width(), d.rect.height()), d.confidence, None)
            for d in models.cnn_detector()(work, 0)]


def yunet_landmarks(rgb: np.ndarray, box: tuple[int, int, int, int]) -> tuple[tuple[float, float], ...] | None:
    """The 5 YuNet landmarks for a face found by another detector: YuNet is run on the padded box region
    (scaled so the face is ~120 px) and the detection overlapping the box most is taken; None if none."""
    import cv2

    h, w = rgb.shape[:2]
    x, y, bw, bh = box
    pad = max(bw, bh)
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(w, x + bw + pad), min(h, y + bh + pad)
    region = rgb[y0:y1, x0:x1]
    s = 120.0 / max(bw, bh)
    region = cv2.resize(region, (max(1, round(region.shape[1] * s)), max(1, round(region.shape[0] * s))))
    best, best_iou = None, 0.3
    for (fx, fy, fw, fh), _, marks in _yunet(region):
        cand = (fx / s + x0, fy / s + y0, fw / s, fh / s)
        overlap = iou(cand, box)
        if overlap > best_iou:
            best, best_iou = tuple((px / s + x0, py / s + y0) for px, py in marks), overlap
    return best


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (left, top, width, height) boxes, 0..1."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
