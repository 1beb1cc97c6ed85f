"""Generated pictures and videos for the hashing tests (always available, no shared data needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_photo


def write_video(path: Path, scenes: list[np.ndarray], seconds: float = 1.0, fps: int = 10) -> Path:
    """An MP4 (mp4v) showing each RGB scene for `seconds`, with a little noise so frames are not identical."""
    import cv2

    h, w = scenes[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    rng = np.random.default_rng(0)
    for scene in scenes:
        for _ in range(int(seconds * fps)):
            noisy = np.clip(scene.astype(np.int16) + rng.integers(-3, 4, scene.shape), 0, 255).astype(np.uint8)
            writer.write(cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    """Six distinct generated JPEGs, 480 x 360."""
    return [make_photo(tmp_path / "photos" / f"p{k}.jpg", seed=k, size=(480, 360)) for k in range(6)]
