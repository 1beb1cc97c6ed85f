"""vPDQ, Meta's video hash, through the `vpdq` package (optional: it builds against ffmpeg's libraries).

A video's vPDQ is the reference PDQ of its frames (each with its frame number, time and quality); osint hashes
every frame (vPDQ's seconds_per_hash 0), since frames sampled once a second fall at other moments in a
trimmed copy and a moving shot changes within 0.3 s. Matching reports what ThreatExchange's vPDQ matcher
reports, the share of each video's distinct good frames found in the other within the PDQ distance; a trimmed
copy is contained in its source (nearly all its frames found there) while its source is only partly in it, so
a link needs either share, not both, to reach MATCH_PERCENT. Install with `pip install 'osint[vpdq]'` after the ffmpeg development
packages (Debian: libavcodec-dev libavformat-dev libavdevice-dev libavutil-dev libswscale-dev
libswresample-dev libavfilter-dev).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osint.errors import OsintError

SECONDS_PER_HASH = 0.0  # every frame
DISTANCE = 31          # PDQ bits within which two frames are the same picture (vPDQ's default)
MIN_QUALITY = 50       # frames of lower PDQ quality take no part in matching (vPDQ's default)
MATCH_PERCENT = 80.0   # both ways: share of one video's frames found in the other (ThreatExchange's default)


@dataclass(frozen=True)
class VpdqFrame:
    """One hashed frame: its number, time in seconds, PDQ (64 hex digits, Meta's) and quality 0..100."""

    frame: int
    t: float
    pdq: str
    quality: int


@dataclass(frozen=True)
class VpdqMatch:
    """How much of each video the other contains: percent of a's (b's) good frames with a frame of b (a)
    within DISTANCE bits; `linked` when either reaches MATCH_PERCENT (one video contains the other)."""

    a_percent: float
    b_percent: float

    @property
    def linked(self) -> bool:
        return max(self.a_percent, self.b_percent) >= MATCH_PERCENT


def vpdq_available() -> bool:
    try:
        import vpdq  # noqa: F401
    except ImportError:
        return False
    return True


def vpdq_hash(path: Path | str, seconds_per_hash: float = SECONDS_PER_HASH) -> tuple[VpdqFrame, ...]:
    """The vPDQ of a video file (the reference implementation's frames, in order)."""
    try:
        import vpdq
    except ImportError:
        raise OsintError("vPDQ needs the optional vpdq package: pip install 'osint[vpdq]' (it builds against "
                         "ffmpeg's development libraries)") from None
    try:
        features = vpdq.computeHash(str(path), seconds_per_hash=seconds_per_hash)
    except Exception as exc:  # noqa: BLE001 - the binding raises a bare Exception for unreadable videos
        raise OsintError(f"vPDQ could not hash {Path(path).name}: {exc}") from None
    return tuple(VpdqFrame(int(f.frame_number), round(float(f.timestamp), 3), str(f.hex), int(f.quality))
                 for f in features)


def vpdq_match(a: tuple[VpdqFrame, ...], b: tuple[VpdqFrame, ...], distance: int = DISTANCE,
               min_quality: int = MIN_QUALITY) -> VpdqMatch:
    """Percent of each video's distinct good frames found in the other within `distance` bits."""
    import numpy as np

    from osint.hashing.index import distances, to_words

    def good(frames: tuple[VpdqFrame, ...]) -> np.ndarray:
        hexes = sorted({f.pdq for f in frames if f.quality >= min_quality})
        return to_words(hexes, 256) if hexes else np.zeros((0, 4), np.uint64)

    wa, wb = good(a), good(b)
    if not len(wa) or not len(wb):
        return VpdqMatch(0.0, 0.0)
    near = distances(wa[:, None, :], wb[None, :, :]) <= distance
    return VpdqMatch(round(100.0 * float(near.any(axis=1).mean()), 1), round(100.0 * float(near.any(axis=0).mean()), 1))
