"""Faces in one photo or video: detect, encode, crop, and (in a case) store them as the cached "faces" stage.

A photo is one frame; a video is sampled at scene changes and at a steady rate, each frame with its time.
Every face found is kept: faces narrower than `min_encode` pixels are reported as "too_small" (not
encoded: an encoding of a 15-pixel face is noise), faces whose landmarks cannot be found as "no_landmarks".
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from osint.facematch import models
from osint.facematch.detect import DETECTORS, Detection, detect
from osint.facematch.encode import ENCODERS, MARKS, encode

STAGE = "faces"
MIN_ENCODE_PX = 20      # faces narrower than this (original pixels) are reported, not encoded
CROP_PX = 160           # side of the saved face crop
CONTEXT_PX = 640        # longer side of the saved frame thumbnail with numbered boxes
EVERY_S = 1.0           # video: at least one frame per second, plus every scene change
CODE_VERSION = 3        # bump when a code change alters what is detected or encoded (part of the cache key)


@dataclass(frozen=True)
class FaceSettings:
    """How faces are found and encoded; every field is part of the cache key (`version`)."""

    detector: str = "yunet"
    encoder: str = "fused"
    min_face: int | None = None
    min_encode: int = MIN_ENCODE_PX
    every_s: float = EVERY_S
    flip: bool = False      # also encode the mirrored face and average (measured in bench/, not the default)
    marks: str = "yunet"    # SFace aligned on YuNet's landmarks or on dlib's 68 ("dlib68": measured, not the default)

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r} (choose from {', '.join(DETECTORS)})")
        if self.encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {self.encoder!r} (choose from {', '.join(ENCODERS)})")
        if self.marks not in MARKS:
            raise ValueError(f"unknown landmarks {self.marks!r} (choose from {', '.join(MARKS)})")

    @property
    def models(self) -> tuple[str, ...]:
        return ENCODERS[self.encoder]

    def version(self) -> str:
        """Stage version: settings plus the SHA-256 prefix of every model file the results depend on."""
        files = {"yunet": ["yunet"], "hog": [], "cnn": ["mmod"]}[self.detector]
        if "dlib" in self.models:
            files += ["sp5", "resnet"]
        if "sface" in self.models:
            files += ["sface"] + ([] if self.detector == "yunet" or self.marks == "dlib68" else ["yunet"])
            files += ["sp68"] if self.marks == "dlib68" else []
        hashes = ",".join(f"{f}={models.model_hash(f)}" for f in files)
        min_face = self.min_face or DETECTORS[self.detector].min_face
        return (f"v{CODE_VERSION} det={self.detector}/{min_face} enc={self.encoder} min_encode={self.min_encode} "
                f"every={self.every_s} {hashes}" + (" flip" if self.flip else "")
                + ("" if self.marks == "yunet" else f" marks={self.marks}"))


@dataclass(frozen=True)
class FoundFace:
    """One face: its frame (`t` seconds and frame index for videos, None for photos), box (left, top,
    width, height) in original pixels, status "ok" / "too_small" / "no_landmarks", the row of its
    encodings (None when not encoded), quality (SFace feature length: blurred faces score low), and its
    crop (JPEG bytes while computed, derived SHA-256 once stored)."""

    index: int
    t: float | None
    frame: int | None
    box: tuple[int, int, int, int]
    score: float
    status: str
    row: int | None
    quality: float | None = None
    crop: bytes | str | None = None


@dataclass(frozen=True)
class FrameInfo:
    """A sampled frame that held faces, with its context thumbnail (JPEG bytes, then derived SHA-256)."""

    t: float | None
    frame: int | None
    scene_change: bool
    context: bytes | str | None = None


@dataclass(frozen=True)
class MediaFaces:
    """All faces of one photo or video; `encodings` maps model -> base64 float32 (rows x 128), and
    `landmarks` is base64 float32 (faces x 10): YuNet's 5 points (x, y) per face, NaN where none. Both
    are packed because parsing 100,000 faces' numbers from JSON would dominate re-matching."""

    media_type: str
    width: int
    height: int
    frames_sampled: int
    faces: list[FoundFace] = field(default_factory=list)
    frames: list[FrameInfo] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)
    landmarks: str = ""
    decoder_notes: tuple[str, ...] = ()  # what the decoders complained about (a damaged video's concealed frames)


def pack(rows: list[np.ndarray] | list[list[float]] | np.ndarray) -> str:
    """Rows of float32 (encodings, landmarks) as one base64 string: exact, and ~5x smaller than JSON."""
    return base64.b64encode(np.asarray(rows, dtype="<f4").tobytes()).decode("ascii")


def unpack(text: str, width: int = 128) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(-1, width)


def _jpeg(rgb: np.ndarray, quality: int = 88) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else b""


def face_crop(rgb: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    """A square JPEG of the face with some margin, at most CROP_PX on a side, for side-by-side review."""
    import cv2

    h, w = rgb.shape[:2]
    x, y, bw, bh = box
    side = int(max(bw, bh) * 1.5)
    cx, cy = x + bw // 2, y + bh // 2
    x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
    crop = rgb[y0:min(h, y0 + side), x0:min(w, x0 + side)]
    if max(crop.shape[:2]) > CROP_PX:
        f = CROP_PX / max(crop.shape[:2])
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)
    return _jpeg(crop)


def context_thumb(rgb: np.ndarray, faces: list[FoundFace]) -> bytes:
    """The whole frame reduced to CONTEXT_PX with each face boxed and numbered (green: encoded)."""
    import cv2

    f = min(1.0, CONTEXT_PX / max(rgb.shape[:2]))
    img = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else rgb.copy()
    for face in faces:
        x, y, bw, bh = (round(v * f) for v in face.box)
        colour = (0, 200, 0) if face.status == "ok" else (230, 160, 0)
        cv2.rectangle(img, (x, y), (x + bw, y + bh), colour, 2)
        cv2.putText(img, str(face.index), (x, max(12, y - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1)
    return _jpeg(img, 85)


def faces_in_frame(rgb: np.ndarray, settings: FaceSettings, *, t: float | None = None, frame: int | None = None,
                   start: int = 0, rows: dict[str, list[np.ndarray]] | None = None,
                   marks: list[list[float]] | None = None) -> list[FoundFace]:
    """Detect, size-check, encode and crop every face of one frame; encodings are appended to `rows`
    (encoded faces get rows 0, 1, ... in face order) and landmarks (10 numbers, NaN if none) to `marks`."""
    rows = rows if rows is not None else {m: [] for m in settings.models}
    found: list[FoundFace] = []
    for det in detect(rgb, settings.detector, settings.min_face):
        status, row, quality = _encode_into(rgb, det, settings, rows)
        found.append(FoundFace(start + len(found), t, frame, det.box, det.score, status, row, quality,
                               face_crop(rgb, det.box)))
        if marks is not None:
            marks.append([v for p in det.landmarks for v in p] if det.landmarks else [float("nan")] * 10)
    return found


def _encode_into(rgb: np.ndarray, det: Detection, settings: FaceSettings,
                 rows: dict[str, list[np.ndarray]]) -> tuple[str, int | None, float | None]:
    if det.box[2] < settings.min_encode:
        return "too_small", None, None
    enc, quality = encode(rgb, det, settings.detector, settings.encoder, settings.flip, settings.marks)
    if set(enc) != set(settings.models):
        return "no_landmarks", None, None
    row = len(next(iter(rows.values())))
    for model, vec in enc.items():
        rows[model].append(vec)
    return "ok", row, None if quality is None else round(quality, 3)


def analyse_file(path: Path | str, settings: FaceSettings = FaceSettings()) -> MediaFaces:
    """Faces of the photo or video at `path`. Raises UnsupportedMedia / CorruptMedia for bad input."""
    from osint.media import load_image, sample_frames, sniff_file

    kind = sniff_file(path)
    if kind.media_type == "image":
        frames: Iterable[tuple[float | None, int | None, bool, np.ndarray]] = [(None, None, False, load_image(path))]
    else:
        frames = ((f.t, f.index, f.scene_change, f.image) for f in sample_frames(path, every_s=settings.every_s))
    rows: dict[str, list[np.ndarray]] = {m: [] for m in settings.models}
    marks: list[list[float]] = []
    faces: list[FoundFace] = []
    infos: list[FrameInfo] = []
    n = 0
    height = width = 0
    for t, index, cut, rgb in frames:
        n += 1
        height, width = rgb.shape[:2]
        found = faces_in_frame(rgb, settings, t=t, frame=index, start=len(faces), rows=rows, marks=marks)
        if found:
            faces += found
            infos.append(FrameInfo(t, index, cut, context_thumb(rgb, found)))
    encodings = {m: pack(v) for m, v in rows.items() if v}
    return MediaFaces(kind.media_type, width, height, n, faces, infos, encodings, pack(marks) if marks else "")


def store_images(case: Any, data: dict[str, Any]) -> dict[str, Any]:
    """`run_stage` keep-hook: move crop and context JPEG bytes into the case's derived files (by hash)."""
    for face in data["faces"]:
        if isinstance(face.get("crop"), bytes):
            face["crop"] = case.put_derived(face["crop"], ".jpg")
    for info in data["frames"]:
        if isinstance(info.get("context"), bytes):
            info["context"] = case.put_derived(info["context"], ".jpg")
    return data


def scan_case(case: Any, settings: FaceSettings = FaceSettings(), items: Iterable[Any] | None = None, *,
              executor: Any = None, on_item: Callable[[Any, Any, str | None], None] | None = None) -> Any:
    """Run the "faces" stage over `items` (default: every photo and video in the case, any role).

    Cached per (sha256, version): items already analysed with these settings and models cost nothing.
    Returns the pipeline's StageRun (computed, cached, errors)."""
    from osint.pipeline import run_stage

    items = case.items(role=None) if items is None else list(items)
    version = settings.version()
    return run_stage(case, STAGE, version, functools.partial(analyse_file, settings=settings), items,
                     executor=executor, on_item=on_item, keep=lambda _item, data: store_images(case, data),
                     details={"settings": {k: v for k, v in vars(settings).items()}})


def without_images(result: MediaFaces) -> MediaFaces:
    """The same result with crop and context bytes dropped (for results kept outside a case)."""
    return replace(result, faces=[replace(f, crop=None) for f in result.faces],
                   frames=[replace(fr, context=None) for fr in result.frames])
