"""Turn a detected face into 128-d encodings: dlib's ResNet (face_recognition's model) and OpenCV's SFace.

dlib: 5-point landmarks from dlib's shape predictor, then the ResNet descriptor of the aligned 150x150
chip; distance is Euclidean (face_recognition's 0.6 threshold). SFace: the face aligned on YuNet's 5
landmarks to 112x112; the unit-length feature; distance is cosine distance 1 - a.b (0 same, 2 opposite).
Only a region around the face is handed to the models, so a face costs the same in a 1 or a 50 MP photo.
With `flip`, each model also encodes the mirror of the aligned face and the two are averaged (test-time
flip augmentation); measured by bench/children_eval.py --flip and bench/face_eval.py --flip, off by default.
With `marks="dlib68"`, SFace is aligned on 5 points taken from dlib's 68-point landmarks (eye centres, nose
tip, mouth corners) instead of YuNet's; measured by both benches' --marks dlib68, off by default.
"""

from __future__ import annotations

import numpy as np

from osint.facematch import models
from osint.facematch.detect import Detection, yunet_landmarks

MODELS = ("dlib", "sface")
MARKS = ("yunet", "dlib68")     # where SFace's 5 alignment points come from
ENCODERS = {"dlib": ("dlib",), "sface": ("sface",), "fused": ("dlib", "sface")}

# A YuNet box spans forehead to chin; dlib's shape predictor was trained on HOG boxes (brows to chin,
# square). Mapping measured on 150 LFW faces found by both: left -0.016w, top +0.152h, 1.117w x 0.822h.
_YUNET_TO_DLIB = (-0.016, 0.152, 1.117, 0.822)


def dlib_box(det: Detection, detector: str) -> tuple[int, int, int, int]:
    """The box in the convention dlib's shape predictor expects (HOG/CNN boxes are already in it)."""
    x, y, w, h = det.box
    if detector != "yunet":
        return det.box
    a, b, c, d = _YUNET_TO_DLIB
    return round(x + a * w), round(y + b * h), round(c * w), round(d * h)


FACE_PX = 250   # larger faces are shrunk to this width first: both models work on 112-150 px chips


def _region(rgb: np.ndarray, box: tuple[int, int, int, int]) -> tuple[np.ndarray, int, int, float]:
    """The face box padded by one box size on each side (clipped), its offset in the image, and the
    factor it was shrunk by so the face is at most FACE_PX wide (1.0 if not)."""
    import cv2

    h, w = rgb.shape[:2]
    x, y, bw, bh = box
    pad = max(bw, bh)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    region = rgb[y0:min(h, y + bh + pad), x0:min(w, x + bw + pad)]
    f = min(1.0, FACE_PX / max(bw, bh, 1))
    if f < 1.0:
        region = cv2.resize(region, (max(1, round(region.shape[1] * f)), max(1, round(region.shape[0] * f))),
                            interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(region), x0, y0, f


def encode_dlib(rgb: np.ndarray, box: tuple[int, int, int, int], flip: bool = False) -> np.ndarray:
    """dlib ResNet descriptor (128 float32, Euclidean space) of the face in `box` (dlib convention); with
    `flip`, the mean of the descriptors of the aligned chip and of its mirror."""
    import dlib

    region, x0, y0, f = _region(rgb, box)
    x, y, w, h = ((v - o) * f for v, o in zip(box, (x0, y0, 0, 0)))
    rect = dlib.rectangle(round(x), round(y), round(x + w), round(y + h))
    shape = models.shape_predictor()(region, rect)
    if not flip:
        return np.asarray(models.resnet().compute_face_descriptor(region, shape, 0), dtype=np.float32)
    chip = dlib.get_face_chip(region, shape, size=150, padding=0.25)     # what the call above aligns to
    pair = models.resnet().compute_face_descriptor([chip, np.ascontiguousarray(chip[:, ::-1])])
    return np.mean(np.asarray(pair, dtype=np.float32), axis=0)


def dlib68_landmarks(rgb: np.ndarray, box: tuple[int, int, int, int]) -> tuple[tuple[float, float], ...]:
    """YuNet's 5 points (right eye, left eye, nose tip, right and left mouth corner; original pixels) taken from
    dlib's 68-point landmarks of the face in `box` (dlib convention): eye centres are the means of each eye's
    six points, the nose tip point 30, the mouth corners points 48 and 54."""
    import dlib

    region, x0, y0, f = _region(rgb, box)
    x, y, w, h = ((v - o) * f for v, o in zip(box, (x0, y0, 0, 0)))
    shape = models.shape_predictor68()(region, dlib.rectangle(round(x), round(y), round(x + w), round(y + h)))
    p = np.asarray([(shape.part(i).x, shape.part(i).y) for i in range(68)], dtype=np.float64)
    five = [p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]]
    return tuple((float(px / f + x0), float(py / f + y0)) for px, py in five)


def encode_sface(rgb: np.ndarray, box: tuple[int, int, int, int],
                 landmarks: tuple[tuple[float, float], ...], flip: bool = False) -> tuple[np.ndarray, float]:
    """SFace feature (128 float32, unit length) of the face aligned on its 5 YuNet landmarks, and the
    feature's length before normalising: a face-quality score (sharp faces ~10-13, blurred ones ~5-7).
    With `flip`, the normalised mean of the unit features of the aligned face and its mirror (quality
    stays the unmirrored face's)."""
    region, x0, y0, f = _region(rgb, box)
    x, y, w, h = box
    row = [(x - x0) * f, (y - y0) * f, w * f, h * f] + \
        [v for px, py in landmarks for v in ((px - x0) * f, (py - y0) * f)] + [1.0]
    net = models.sface()
    aligned = net.alignCrop(np.ascontiguousarray(region[:, :, ::-1]), np.asarray([row], dtype=np.float32))
    feat = net.feature(aligned).reshape(-1).astype(np.float32)
    norm = float(np.linalg.norm(feat))
    feat = feat / max(norm, 1e-12)
    if flip:
        mirror = net.feature(np.ascontiguousarray(aligned[:, ::-1])).reshape(-1).astype(np.float32)
        feat = feat + mirror / max(float(np.linalg.norm(mirror)), 1e-12)
        feat = feat / max(float(np.linalg.norm(feat)), 1e-12)
    return feat, norm


def encode(rgb: np.ndarray, det: Detection, detector: str, encoder: str,
           flip: bool = False, marks: str = "yunet") -> tuple[dict[str, np.ndarray], float | None]:
    """Encodings of one face for each model the encoder needs ("dlib", "sface" or both for "fused"), and
    its quality (SFace feature length; None without SFace); `flip` averages each with its mirror's.

    SFace needs 5 landmarks: YuNet's (for HOG/CNN faces YuNet is run on the face region to find them, and a
    face where it finds none gets no SFace encoding: the caller reports it), or with `marks="dlib68"` those
    of dlib's 68-point predictor."""
    out: dict[str, np.ndarray] = {}
    quality = None
    for model in ENCODERS[encoder]:
        if model == "dlib":
            out["dlib"] = encode_dlib(rgb, dlib_box(det, detector), flip)
        else:
            points = dlib68_landmarks(rgb, dlib_box(det, detector)) if marks == "dlib68" else \
                det.landmarks or yunet_landmarks(rgb, det.box)
            if points is not None:
                out["sface"], quality = encode_sface(rgb, det.box, points, flip)
    return out, quality
