"""One child, one candidate: the same face followed across a video's sampled frames (a track), matched as one.

Two faces of sampled frames at most MAX_GAP_S apart are linked when their encodings are very close (within the
FMR-0.1% distance), or close (within the FMR-1% distance) with boxes that overlap or lie within a face width of
each other (a face moves between samples). Across a longer gap (the person left and came back, or another shot),
only very close encodings of two faces above the quality floor link: blurred and dark faces encode close
together, so across gaps they would chain strangers. Two faces of one
frame are never linked. A track is matched on its best
frames (highest quality), and listed once per person with its time span, not once per frame. A track matched on
k frames has k chances for a stranger to score close, so its FMR is 1 - (1 - p)^k of its closest frame's p (an
upper bound: frames of one face are alike), and it is listed only where that is within the review threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from osint.facematch.calibration import calibration, distances, min_quality
from osint.facematch.detect import iou
from osint.facematch.faceset import FaceRef, FaceSet
from osint.facematch.match import Candidate, match

BEST = 3            # frames of a track that are matched: its highest-quality faces
MIN_IOU = 0.3       # box overlap that, with an encoding within the FMR-1% distance, links two faces
RECENT = 3          # a new face is compared with this many of a track's latest faces
MAX_GAP_S = 2.5     # overlapping boxes link only faces at most this far apart in time


@dataclass(frozen=True)
class Track:
    """One face followed through a video: `item`, its number there (1, 2, ... by first appearance), the
    number of sampled faces in it, its first and last frame time (seconds; None where the video's frames carry
    no time), its first face (what a decision about it is anchored to) and the faces that were matched."""

    item: str
    number: int
    faces: int
    start: float | None
    end: float | None
    first: FaceRef
    best: tuple[FaceRef, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for --json: where the track is and which of its frames were matched."""
        return {"number": self.number, "faces": self.faces, "start_s": self.start, "end_s": self.end,
                "first_face": self.first.index,
                "best_frames": [{"frame_time_s": f.t, "frame": f.frame, "face": f.index, "box": list(f.box),
                                 "quality": f.quality, "crop": f.crop} for f in self.best]}

    def describe(self) -> str:
        """One sentence for reviewers."""
        times = ", ".join(f"{f.t:.1f} s" if f.t is not None else f"frame {f.frame}" for f in self.best)
        return (f"face {self.number} of this video, followed across {self.faces} sampled frame(s), {self.span()}; "
                f"matched on its {len(self.best)} best frame(s) ({times}), this one the closest")

    def span(self) -> str:
        """'3.0-7.0 s', or the frame numbers where frames carry no time."""
        if self.start is not None and self.end is not None:
            return f"{self.start:.1f}-{self.end:.1f} s"
        frames = [f.frame for f in (self.first, *self.best) if f.frame is not None]
        return f"frames from {min(frames)}" if frames else "no frame times"


def link_model(faces: FaceSet, model: str | None = None) -> str:
    """The raw distance that links faces: `model` when it is one ("dlib", "sface", "fused"), else fused where
    both encodings exist. Linking compares one person with themselves seconds apart, so its thresholds are the
    adult (no age gap) table's, whatever table the matching uses."""
    if model in ("dlib", "sface", "fused"):
        return model
    have = [m for m in ("dlib", "sface") if m in faces.enc]
    return "fused" if len(have) == 2 else have[0]


def link_tracks(faces: FaceSet, model: str | None = None) -> tuple[list[Track], dict[int, int]]:
    """Tracks of every video in `faces`, and the track (index into the list) of each video row."""
    model = link_model(faces, model)
    cal = calibration(model, "adults")
    strict, loose = cal.distance_at(0.001), cal.distance_at(0.01)
    by_item: dict[str, list[int]] = {}
    for row, entry in enumerate(faces.entries):
        if entry[1] == "video":
            by_item.setdefault(entry[0], []).append(row)
    tracks: list[Track] = []
    of_row: dict[int, int] = {}
    for item, rows in by_item.items():
        for number, members in enumerate(_link_item(faces, rows, model, strict, loose), 1):
            of_row.update({r: len(tracks) for r in members})
            tracks.append(_track(faces, item, number, members))
    return tracks, of_row


def _when(face: dict[str, Any]) -> tuple[float, float]:
    """Order of a face in its video: frame time, else frame number (a video whose frames carry no time)."""
    t, frame = face.get("t"), face.get("frame")
    return (float(t) if t is not None else float("inf"), float(frame) if frame is not None else float("inf"))


def _link_item(faces: FaceSet, rows: list[int], model: str, strict: float, loose: float) -> list[list[int]]:
    """Greedy linking of one video's faces, frame by frame, closest pairs first. Each frame's faces are compared
    with the latest RECENT faces of every track so far (memory grows with tracks, not with the video's length)."""
    rows = sorted(rows, key=lambda r: (_when(faces.entries[r][2]), faces.entries[r][2]["index"]))
    enc = {m: v[rows] for m, v in faces.enc.items()}
    frames: dict[tuple[float, float], list[int]] = {}
    for k, r in enumerate(rows):
        frames.setdefault(_when(faces.entries[r][2]), []).append(k)
    floor = min_quality()
    info = [faces.entries[r][2] for r in rows]
    sharp = [f.get("quality") is None or f["quality"] >= floor for f in info]
    tracks: list[list[int]] = []                 # positions in `rows`
    for when, members in frames.items():
        recent = [(t, j) for t, track in enumerate(tracks) for j in track[-RECENT:]]
        close: dict[tuple[int, int], tuple[float, bool]] = {}    # (face, track) -> min distance, sharp and strict
        if recent:
            cols = [j for _, j in recent]
            d = distances(model, {m: v[members] for m, v in enc.items()}, {m: v[cols] for m, v in enc.items()})
            for a, b in zip(*np.nonzero(d <= loose)):             # only close pairs reach Python
                k, j, t, dist = members[a], cols[b], recent[b][0], float(d[a, b])
                old = close.get((k, t), (np.inf, False))
                close[(k, t)] = (min(old[0], dist), old[1] or (sharp[k] and sharp[j] and dist <= strict))
        pairs = []
        for (k, t), (dist, sharp_match) in close.items():
            last = tracks[t][-1]
            if abs(when[0] - _when(info[last])[0]) <= MAX_GAP_S or when[0] == float("inf"):
                linked = dist <= strict or _beside(info[k]["box"], info[last]["box"])
            else:
                linked = sharp_match
            if linked:
                pairs.append((dist, k, t))
        used_k: set[int] = set()
        used_t: set[int] = set()
        for _dist, k, t in sorted(pairs):
            if k not in used_k and t not in used_t:
                tracks[t].append(k)
                used_k.add(k)
                used_t.add(t)
        tracks += [[k] for k in members if k not in used_k]
    return [[rows[k] for k in track] for track in tracks]


def _beside(a: list[int], b: list[int]) -> bool:
    """Boxes that overlap (IoU >= MIN_IOU) or whose centres are at most a face width apart."""
    if iou((a[0], a[1], a[2], a[3]), (b[0], b[1], b[2], b[3])) >= MIN_IOU:
        return True
    dx, dy = (a[0] + a[2] / 2) - (b[0] + b[2] / 2), (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    return (dx * dx + dy * dy) ** 0.5 <= max(a[2], b[2])


def _track(faces: FaceSet, item: str, number: int, members: list[int]) -> Track:
    refs = [faces.face(r) for r in members]
    times = [f.t for f in refs if f.t is not None]
    best = sorted(refs, key=lambda f: (-(f.quality or 0.0), -f.box[2] * f.box[3]))[:BEST]
    return Track(item, number, len(refs), min(times) if times else None, max(times) if times else None,
                 refs[0], tuple(best))


def match_media(faces: FaceSet, refs: FaceSet, owners: list[str], *, model: str | None = None,
                max_fmr: float | None = None, top: int = 3, tables: dict[str, str] | None = None) -> list[Candidate]:
    """`match`, with every video face linked into tracks: a photo face gives its candidates as before; a
    track is matched on its best frames and gives one candidate per person (its frame with the lowest FMR),
    with `track` set, its FMR corrected for the frames compared (`chances`), ranked among the persons of that
    track."""
    tracks, of_row = link_tracks(faces, model)
    if not tracks:
        return match(faces, refs, owners, model=model, max_fmr=max_fmr, top=top, tables=tables)
    best = {(f.item, f.index) for t in tracks for f in t.best}
    keep = [r for r, e in enumerate(faces.entries) if e[1] != "video" or (e[0], e[2]["index"]) in best]
    found = match(faces.take(keep), refs, owners, model=model, max_fmr=max_fmr, top=top, tables=tables)
    track_of = {(faces.entries[r][0], faces.entries[r][2]["index"]): tracks[t] for r, t in of_row.items()}
    out: list[Candidate] = []
    closest: dict[tuple[str, int, str], Candidate] = {}
    for c in found:
        track = track_of.get((c.face.item, c.face.index))
        if track is None:
            out.append(c)
            continue
        key = (track.item, track.number, c.person)
        if key not in closest or (c.fmr, c.distance) < (closest[key].fmr, closest[key].distance):
            closest[key] = replace(c, track=track)
    per_track: dict[tuple[str, int], list[Candidate]] = {}
    for (item, number, _person), c in closest.items():
        c = chances(c, len(c.track.best) if c.track else 1)
        if c.fmr <= c.max_fmr:
            per_track.setdefault((item, number), []).append(c)
    for group in per_track.values():
        group.sort(key=lambda c: (c.fmr, c.distance))
        out += [replace(c, rank=k + 1) for k, c in enumerate(group[:top])]
    out.sort(key=lambda c: (c.fmr, c.distance, c.face.item, c.face.index))
    return out


def chances(c: Candidate, k: int) -> Candidate:
    """`c` as the closest of k comparisons with the same person: FMR 1 - (1 - p)^k (at most k times p), and its
    population saying so."""
    if k <= 1:
        return c
    return replace(c, fmr=1.0 - (1.0 - c.fmr) ** k,
                   population=f"{c.population}; closest of {k} frames, FMR corrected for {k} chances")
