"""vPDQ, Meta's video hash, through the `vpdq` package (optional: it builds against ffmpeg's libraries).

A video's vPDQ is the reference PDQ of its frames (each with its time and quality); osint hashes every frame
(vPDQ's seconds_per_hash 0), since frames sampled once a second fall at other moments in a trimmed copy and
a moving shot changes within 0.3 s. Matching reports what ThreatExchange's vPDQ matcher reports, the share of
each video's distinct good frames found in the other within the PDQ distance; a trimmed copy is contained in
its source (nearly all its frames found there) while its source is only partly in it, so a link needs either
share, not both, to reach MATCH_PERCENT (ThreatExchange: the query's share 80%, the indexed video's 0%).

The compact text form (stored in a case, exchanged in hash lists) is ThreatExchange's compact feature text
`pdq_hex,quality,seconds` for each distinct PDQ of the video, in order of first appearance, joined by `;`
(`json.dumps(text.split(";"))` is ThreatExchange's vPDQ signal string). A PDQ seen in several frames is
written once, with its best quality, so matching on the compact form equals matching on every frame.
Install with `pip install 'osint[vpdq]'` after the ffmpeg development packages (Debian: libavcodec-dev
libavformat-dev libavdevice-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from osint.errors import OsintError

SECONDS_PER_HASH = 0.0  # every frame
DISTANCE = 31          # PDQ bits within which two frames are the same picture (vPDQ's default)
MIN_QUALITY = 50       # frames of lower PDQ quality take no part in matching (vPDQ's default)
MATCH_PERCENT = 80.0   # share of one video's frames found in the other (ThreatExchange's query default)
MAX_FRAMES = 120_000   # distinct PDQs in one compact vPDQ (about 67 minutes of all-distinct frames at 30 fps)
MAX_SECONDS = 86_400.0  # a frame time beyond a day is not a video's
VPDQ_STAGE, VPDQ_VERSION = "vpdq", "vpdq every frame/1"
_FEATURE = re.compile(r"([0-9a-fA-F]{64}),(\d{1,3}),(\d[0-9.eE+-]{0,15})")   # ThreatExchange writes 1.23e+03


@dataclass(frozen=True)
class VpdqFrame:
    """One hashed frame: its time in seconds, PDQ (64 hex digits, Meta's) and quality 0..100."""

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

    def describe(self) -> str:
        """One line: how much of each video is in the other."""
        return f"vpdq: {self.a_percent:.0f}% / {self.b_percent:.0f}% of frames within {DISTANCE} bits"


@dataclass(frozen=True)
class VpdqLink:
    """Videos a and b linked by vPDQ: `a_percent` of a's good frames are in b, `b_percent` of b's in a."""

    a: str
    b: str
    a_percent: float
    b_percent: float

    @property
    def method(self) -> str:
        return "vPDQ (Meta's video hash, every frame)"

    def describe(self) -> str:
        """One line: why these two are linked."""
        return VpdqMatch(self.a_percent, self.b_percent).describe()


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
    return tuple(VpdqFrame(round(float(f.timestamp), 3), str(f.hex), int(f.quality)) for f in features)


def distinct(frames: Sequence[VpdqFrame]) -> tuple[VpdqFrame, ...]:
    """Each PDQ once, at its first time, with its best quality (what matching uses, in a fraction of the size)."""
    best: dict[str, VpdqFrame] = {}
    for f in frames:
        old = best.get(f.pdq)
        if old is None or f.quality > old.quality:
            best[f.pdq] = VpdqFrame(f.t if old is None else old.t, f.pdq, f.quality)
    return tuple(best.values())


def to_text(frames: Sequence[VpdqFrame]) -> str:
    """The compact text form of a vPDQ (module docstring)."""
    return ";".join(f"{f.pdq},{f.quality},{f.t:.3f}" for f in distinct(frames))


def from_text(text: str) -> tuple[VpdqFrame, ...]:
    """Parse the compact text form, checking every feature; ValueError says what is wrong and where."""
    text = text.strip()
    if not text:
        raise ValueError("empty vPDQ")
    if text.count(";") >= MAX_FRAMES:
        raise ValueError(f"{text.count(';') + 1:,} frames, over the {MAX_FRAMES:,} a vPDQ may have")
    frames = []
    for k, part in enumerate(text.split(";"), 1):
        m = _FEATURE.fullmatch(part.strip())
        if m is None:
            raise ValueError(f"frame {k} {part[:90]!r} is not pdq_hex(64),quality,seconds")
        try:
            quality, t = int(m[2]), float(m[3])
        except ValueError:
            raise ValueError(f"frame {k}: time {m[3]!r} is not a number of seconds") from None
        if quality > 100 or not math.isfinite(t) or t > MAX_SECONDS:
            raise ValueError(f"frame {k}: quality {quality} (0..100) or time {t} s (0..{MAX_SECONDS:.0f}) out of range")
        frames.append(VpdqFrame(t, m[1].lower(), quality))
    return distinct(frames)


def vpdq_file(path: Path) -> dict[str, object]:
    """The vPDQ stage's result for one video: its compact text and how many frames were hashed."""
    frames = vpdq_hash(path)
    return {"vpdq": to_text(frames), "frames": len(frames)}


def containment(videos: Sequence[Sequence[VpdqFrame]], distance: int = DISTANCE,
                min_quality: int = MIN_QUALITY) -> dict[tuple[int, int], VpdqMatch]:
    """For every pair i < j of `videos` sharing a frame within `distance` bits: the percent of i's distinct
    good frames found in j and of j's in i. One Hamming self-join over all frames, not a scan of all pairs."""
    import numpy as np

    from osint.hashing.index import HammingIndex, to_words

    good = [sorted({f.pdq for f in v if f.quality >= min_quality}) for v in videos]
    counts = np.array([len(g) for g in good], dtype=np.int64)
    hexes = [h for g in good for h in g]
    if not hexes:
        return {}
    owner = np.repeat(np.arange(len(videos), dtype=np.int64), counts)
    pairs = HammingIndex(to_words(hexes, 256)).pairs(distance)
    cross = owner[pairs.i] != owner[pairs.j]
    frame = np.concatenate([pairs.i[cross], pairs.j[cross]])
    other = np.concatenate([owner[pairs.j[cross]], owner[pairs.i[cross]]])
    n = len(videos)
    hits = np.unique(frame * n + other)                      # (frame, video it is found in), each once
    found, in_video = np.unique(owner[hits // n] * n + hits % n, return_counts=True)
    share = {(int(k // n), int(k % n)): 100.0 * int(c) / int(counts[k // n]) for k, c in zip(found, in_video)}
    return {(i, j): VpdqMatch(round(share.get((i, j), 0.0), 1), round(share.get((j, i), 0.0), 1))
            for i, j in {(min(i, j), max(i, j)) for i, j in share}}


def vpdq_match(a: Sequence[VpdqFrame], b: Sequence[VpdqFrame], distance: int = DISTANCE,
               min_quality: int = MIN_QUALITY) -> VpdqMatch:
    """Percent of each video's distinct good frames found in the other within `distance` bits."""
    return containment([a, b], distance, min_quality).get((0, 1), VpdqMatch(0.0, 0.0))


def vpdq_links(videos: Mapping[str, Sequence[VpdqFrame]], distance: int = DISTANCE,
               min_quality: int = MIN_QUALITY) -> list[VpdqLink]:
    """Every pair of videos ({sha256: vPDQ}) one of which contains the other (MATCH_PERCENT of its frames)."""
    keys = list(videos)
    found = containment([videos[k] for k in keys], distance, min_quality)
    return sorted((VpdqLink(keys[i], keys[j], m.a_percent, m.b_percent) for (i, j), m in found.items() if m.linked),
                  key=lambda lk: (lk.a, lk.b))
