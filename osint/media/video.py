"""Sample frames from a video: one at every scene change plus one every few seconds, with timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from osint.errors import CorruptMedia

SCENE_THRESHOLD = 0.20   # mean absolute difference of 32x32 grey thumbnails, 0..1; dark footage cuts score ~0.2
DEFAULT_EVERY_S = 2.0


@dataclass(frozen=True)
class Frame:
    """A decoded video frame: `t` seconds from the start, `index` in decode order, RGB pixels."""

    t: float
    index: int
    image: np.ndarray
    scene_change: bool


def _decoded(path: Path | str) -> Iterator[tuple[float, int, Any]]:
    """Grab every frame of a video in decode order: (seconds from the start, index, the capture to retrieve the
    frame from). Raises `CorruptMedia` if the video cannot be opened or yields no frame."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise CorruptMedia("cannot open video")
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 25.0
        index = 0
        while cap.grab():
            pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            yield (pos_ms / 1000.0 if pos_ms and pos_ms > 0 else index / fps), index, cap
            index += 1
        if index == 0:
            raise CorruptMedia("video has no decodable frame")
    finally:
        cap.release()


def _rgb(bgr: np.ndarray, max_side: int | None) -> np.ndarray:
    """A decoded BGR frame as RGB, shrunk to `max_side`."""
    import cv2

    if max_side and max(bgr.shape[:2]) > max_side:
        f = max_side / max(bgr.shape[:2])
        bgr = cv2.resize(bgr, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def sample_frames(path: Path | str, every_s: float = DEFAULT_EVERY_S,
                  scene_threshold: float = SCENE_THRESHOLD, max_side: int | None = None) -> Iterator[Frame]:
    """Yield the first frame, every frame that starts a new scene, and at least one frame every `every_s` s.

    Every frame is decoded (scene detection needs them all) but only a 32x32 grey copy is compared, so the
    cost is that of decoding. Raises `CorruptMedia` if the video cannot be opened or yields no frame.
    """
    import cv2

    prev: np.ndarray | None = None
    last_t = -1e9
    for t, index, cap in _decoded(path):
        ok, bgr = cap.retrieve()
        if not ok or bgr is None:
            break
        small = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (32, 32), interpolation=cv2.INTER_AREA)
        small = small.astype(np.float32) / 255.0
        cut = prev is not None and float(np.abs(small - prev).mean()) >= scene_threshold
        if prev is None or cut or t - last_t >= every_s:
            yield Frame(round(t, 3), index, _rgb(bgr, max_side), bool(cut))
            last_t = t
        prev = small
    if prev is None:
        raise CorruptMedia("video has no decodable frame")


def frames_between(path: Path | str, t0: float, t1: float, max_side: int | None = None) -> Iterator[Frame]:
    """Every frame from `t0` to `t1` seconds (inclusive, times and indices as `sample_frames` gives them): the
    frames between two keyframes. Frames before `t0` are grabbed but not converted. Raises `CorruptMedia` like
    `sample_frames`."""
    for t, index, cap in _decoded(path):
        if t > t1 + 1e-6:
            break
        if t >= t0 - 1e-6:
            ok, bgr = cap.retrieve()
            if not ok or bgr is None:
                break
            yield Frame(round(t, 3), index, _rgb(bgr, max_side), False)


_MP4_EPOCH = 2082844800          # seconds from 1904-01-01 (MP4/QuickTime time) to 1970-01-01
_MAX_BOXES = 4096                # boxes walked at most: a hostile file may declare millions


def creation_time(path: Path | str) -> str | None:
    """The creation time an MP4/MOV file's movie header (moov/mvhd) states, as ISO 8601 UTC; None when the file
    is another container, states none (0, which encoders write when they do not know) or is damaged."""
    import struct
    from datetime import datetime, timezone

    try:
        with open(path, "rb") as fh:
            end = fh.seek(0, 2)
            pos, stop, seen = 0, end, 0
            while pos + 8 <= stop and seen < _MAX_BOXES:
                seen += 1
                fh.seek(pos)
                size, kind = struct.unpack(">I4s", fh.read(8))
                head = 8
                if size == 1:
                    size, head = struct.unpack(">Q", fh.read(8))[0], 16
                elif size == 0:
                    size = stop - pos
                if size < head or pos + size > end:
                    return None
                if kind == b"moov":          # descend: mvhd is a direct child of moov
                    pos, stop = pos + head, pos + size
                    continue
                if kind == b"mvhd":
                    version = fh.read(4)[0]
                    secs = struct.unpack(">Q" if version == 1 else ">I", fh.read(8 if version == 1 else 4))[0]
                    if secs <= _MP4_EPOCH:     # 0 (unset) or before 1970: no real creation time
                        return None
                    when = datetime.fromtimestamp(secs - _MP4_EPOCH, timezone.utc)
                    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
                pos += size
    except (OSError, struct.error, IndexError, ValueError, OverflowError):
        return None
    return None
