"""Sample frames from a video: one at every scene change plus one every few seconds, with timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


def sample_frames(path: Path | str, every_s: float = DEFAULT_EVERY_S,
                  scene_threshold: float = SCENE_THRESHOLD, max_side: int | None = None) -> Iterator[Frame]:
    """Yield the first frame, every frame that starts a new scene, and at least one frame every `every_s` s.

    Every frame is decoded (scene detection needs them all) but only a 32x32 grey copy is compared, so the
    cost is that of decoding. Raises `CorruptMedia` if the video cannot be opened or yields no frame.
    """
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise CorruptMedia("cannot open video")
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 25.0
        prev: np.ndarray | None = None
        last_t = -1e9
        index = 0
        while True:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            t = pos_ms / 1000.0 if pos_ms and pos_ms > 0 else index / fps
            small = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (32, 32), interpolation=cv2.INTER_AREA)
            small = small.astype(np.float32) / 255.0
            cut = prev is not None and float(np.abs(small - prev).mean()) >= scene_threshold
            if prev is None or cut or t - last_t >= every_s:
                if max_side and max(bgr.shape[:2]) > max_side:
                    f = max_side / max(bgr.shape[:2])
                    bgr = cv2.resize(bgr, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
                yield Frame(round(t, 3), index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), bool(cut))
                last_t = t
            prev = small
            index += 1
        if index == 0:
            raise CorruptMedia("video has no decodable frame")
    finally:
        cap.release()
