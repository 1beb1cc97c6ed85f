"""Photos with chosen EXIF GPS tags, written by Pillow (so tests that must always run need no shared data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def gps_photo(path: Path, lat: Any = (50.0, 27.0, 0.0), lon: Any = (30.0, 31.0, 12.5), *, lat_ref: str = "N",
              lon_ref: str = "E", software: str | None = None, dto: str | None = "2024:05:14 10:20:00",
              offset: str | None = "+03:00", gps_date: str | None = "2024:05:14",
              gps_time: tuple[float, float, float] | None = (7.0, 20.0, 0.0), extra_gps: dict | None = None,
              seed: int = 0) -> Path:
    """A small photo (JPEG, or WebP by suffix) whose EXIF holds exactly the given GPS and time tags."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    exif = Image.Exif()
    if software:
        exif[0x0131] = software
    gps: dict[int, Any] = {1: lat_ref, 2: lat, 3: lon_ref, 4: lon, **(extra_gps or {})}
    if gps_date:
        gps[29] = gps_date
    if gps_time:
        gps[7] = gps_time
    exif[0x8825] = gps
    sub = {}
    if dto:
        sub[0x9003] = dto
    if offset:
        sub[0x9011] = offset
    if sub:
        exif[0x8769] = sub
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, exif=exif)
    return path
