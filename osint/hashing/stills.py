"""A still cut from a video linked to its video at the frame it shows, even between keyframes.

Every keyframe of a video (the hash stage's: the first frame, each scene change, one every KEYFRAME_EVERY_S)
keeps its local features (osint.hashing.local). A still is searched among all keyframes through a visual-word
index and verified like any local link (RANSAC similarity + tiled pixel check); its best keyframe per video
is then refined: the frames from the keyframe before to the keyframe after are decoded, the still is aligned
onto each by the verified transform and the frame whose pixels correlate best is taken, its own features
re-fitted, and the frames scored again with that transform until the choice stops moving (a panning camera).
The link is verified again on that frame and says its time and index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from osint.errors import CorruptMedia
from osint.hashing.hashes import KEYFRAME_EVERY_S
from osint.hashing.local import (FIT_RULE, LOCAL_VERSION, PAIR_RULE, SHORTLIST, Decided, LocalFeatures, LocalLink,
                                 LocalSet, _aligned, _fit, _shrunk, decided, local_features, match_pair, pair_key)
from osint.media.features import Features, npz_arrays, npz_bytes

VIDEO_STAGE = "local-video"
VIDEO_VERSION = f"{LOCAL_VERSION},keyframes-every{KEYFRAME_EVERY_S:g}s/1"
KEYFRAME_SHORTLIST = 2 * SHORTLIST   # keyframes fitted per still: one clip's keyframes are alike and crowd a list
TRIES = 3       # keyframes of one video refined per still at most, most inliers first (a dark keyframe's
                # neighbour may fit better than the still's own neighbours)
REFITS = 3      # rounds of scoring the frames around the best fit and re-fitting on the best-scored one
STEP = 5        # every STEP-th frame between two keyframes is fitted, then the frames around the best one scored
FIT_STAGE = "local-keyframe-fits"   # the case's kept fits of a still to a keyframe (osint.hashing.stage) ...
FIT_VERSION = f"{VIDEO_VERSION};{FIT_RULE}/1"
FRAME_STAGE = "local-frames"        # ... and links of a still to the frame it shows, found from a keyframe
FRAME_VERSION = f"{VIDEO_VERSION};{PAIR_RULE};step{STEP},refits{REFITS}/1"


@dataclass(frozen=True)
class VideoLocal:
    """Local features of a video's keyframes, with each keyframe's time (seconds) and frame index."""

    frames: tuple[LocalFeatures, ...]
    t: tuple[float, ...]
    index: tuple[int, ...]

    def to_bytes(self) -> bytes:
        fs = self.frames
        return npz_bytes(
            VIDEO_VERSION, True, n=np.array([len(f.features.keypoints) for f in fs], np.int64),
            k=np.concatenate([f.features.keypoints for f in fs]) if fs else np.zeros((0, 2), np.float32),
            d=np.concatenate([f.features.descriptors for f in fs]) if fs else np.zeros((0, 128), np.uint8),
            gn=np.array([len(f.jpeg) for f in fs], np.int64),
            g=np.frombuffer(b"".join(f.jpeg for f in fs), np.uint8),
            s=np.array([f.size for f in fs], np.int64).reshape(-1, 2),
            f=np.array([f.full for f in fs], np.int64).reshape(-1, 2),
            t=np.array(self.t, np.float64), i=np.array(self.index, np.int64))

    @classmethod
    def from_bytes(cls, data: bytes) -> VideoLocal:
        z = npz_arrays(data, VIDEO_VERSION, "video local features")
        ends, jends = np.cumsum(z["n"]), np.cumsum(z["gn"])
        k, d, g = np.split(z["k"], ends[:-1]), np.split(z["d"], ends[:-1]), np.split(z["g"], jends[:-1])
        frames = tuple(LocalFeatures(Features(k[n], d[n]), g[n].tobytes(), (int(s[0]), int(s[1])), (int(f[0]), int(f[1])))
                       for n, (s, f) in enumerate(zip(z["s"], z["f"])))
        return cls(frames, tuple(float(t) for t in z["t"]), tuple(int(i) for i in z["i"]))


def video_local(path: Path | str) -> VideoLocal:
    """Local features of every keyframe of a video (raises CorruptMedia for one that does not decode)."""
    from osint.media import sample_frames

    got = [(local_features(f.image), f.t, f.index) for f in sample_frames(path, every_s=KEYFRAME_EVERY_S)]
    return VideoLocal(tuple(g[0] for g in got), tuple(g[1] for g in got), tuple(g[2] for g in got))


def video_local_file(path: Path) -> bytes | None:
    """A video's keyframes' local features as bytes for the case's derived store; None for anything else (photos
    have their own local stage, and it reports files that are neither)."""
    from osint.media import sniff_file

    return video_local(path).to_bytes() if sniff_file(path).media_type == "video" else None


def video_links(stills: Mapping[str, LocalFeatures], videos: Mapping[str, VideoLocal], path_of: Callable[[str], Path],
                shortlist: int = KEYFRAME_SHORTLIST, progress: Callable[[int], None] | None = None,
                fits: Decided | None = None, frames: Decided | None = None) -> list[LocalLink]:
    """Each still's link to every video it shows a frame of (a = the video, b = the still), at that frame.

    A keyframe is only a candidate (RANSAC fit alone: what moved in the half second between it and the still
    spoils the pixel check); the link is verified in full on the frame it is refined to. A keyframe's fit that
    `fits` holds and a refinement `frames` holds (by the keys of videos and stills: content hashes) are not
    computed again; new ones are kept there."""
    keyframes = {f"{sha}@{k}": f for sha, v in videos.items() for k, f in enumerate(v.frames)
                 if len(f.features.descriptors)}
    if not keyframes or not stills:
        return []
    found = LocalSet(keyframes)
    out: list[LocalLink] = []
    seen: dict[str, dict[int, LocalFeatures]] = {}      # video: {frame index: features} fitted so far
    for name, still in stills.items():
        fitted: dict[str, list[tuple[int, int, bool]]] = {}     # video: [(inliers, keyframe, mirrored)]
        for mirrored, q in ((False, still), (True, still.mirror())):
            for i, _ in found.index.shortlist(q.features, shortlist):
                inliers = decided(fits, pair_key(found.keys[i], name, mirrored), _inliers, found.features[i], q)
                if inliers:
                    sha, key = found.keys[i].rsplit("@", 1)
                    fitted.setdefault(sha, []).append((inliers, int(key), mirrored))
        for sha, keys in fitted.items():
            for _, k, mirrored in sorted(keys, reverse=True)[:TRIES]:
                key = pair_key(f"{sha}@{k}", name, mirrored)
                if frames is not None and key in frames:
                    plain = frames[key]
                else:
                    link, final = at_frame(still.mirror() if mirrored else still, videos[sha], k, path_of(sha), sha,
                                           name, seen.setdefault(sha, {}))
                    plain = None if link is None else link.to_plain()
                    if frames is not None and final:
                        frames[key] = plain
                if plain is not None:
                    out.append(LocalLink.from_plain(plain))
                    break
        if progress:
            progress(1)
    return out


def _inliers(keyframe: LocalFeatures, still: LocalFeatures) -> int:
    """How many matches the still's fit to a keyframe explains (0: no fit)."""
    fit = _fit(keyframe, still)
    return 0 if fit is None else int(fit[3].sum())


def at_frame(still: LocalFeatures, video: VideoLocal, k: int, path: Path, sha: str, name: str,
             seen: dict[int, LocalFeatures] | None = None) -> tuple[LocalLink | None, bool]:
    """The still's link to the frame between keyframes k-1 and k+1 it shows (a = `sha`, b = `name`); where the
    video no longer decodes, the link to keyframe k itself; None where neither verifies. Pass the still mirrored
    for a mirrored copy, and the same `seen` for one video's stills to extract each frame's features once. With
    the link, whether it is final: not where the video could not be decoded (a file that went away or a disk
    error, not a verdict on its content), which a later run tries again.

    Every STEP-th frame is fitted (the still's exact frame matches nearly every keypoint, a frame a few tenths
    of a second away a few dozen); the frames around the best fit are then scored by the correlation of all
    their pixels with the still aligned by that fit (re-fitted on the best-scored frame until it stays); of that
    frame and its two neighbours the one with the most inliers is verified in full."""
    import cv2

    from osint.media.video import frames_between

    key = video.frames[k]
    at_key = match_pair(key, still, sha, name)
    at_key = None if at_key is None else replace(at_key, t_a=video.t[k], frame_a=video.index[k])
    t1 = video.t[k + 1] if k + 1 < len(video.t) else video.t[k] + KEYFRAME_EVERY_S
    try:
        frames = [(f.t, f.index, _shrunk(f.image)) for f in frames_between(path, video.t[max(k - 1, 0)], t1)]
    except (CorruptMedia, OSError):
        return at_key, False
    feats = {} if seen is None else seen

    def features(j: int) -> LocalFeatures:
        index = frames[j][1]
        if index not in feats:
            feats[index] = replace(local_features(frames[j][2]), full=key.full)
        return feats[index]

    fits = {j: _fit(features(j), still) for j in range(0, len(frames), STEP)}
    scored = [(int(f[3].sum()), j, f[0]) for j, f in fits.items() if f is not None]
    if not scored:
        return at_key, True
    _, j, m = max(scored, key=lambda s: s[:2])
    grey, best = still.grey, j
    near = range(max(0, j - STEP + 1), min(len(frames), j + STEP))
    greys = {i: cv2.cvtColor(frames[i][2], cv2.COLOR_RGB2GRAY) for i in near}
    for _ in range(REFITS):     # the fit of a frame next to the still's own biases the scores towards it: re-fit
        pick = max(near, key=lambda i: _correlation(greys[i], grey, m))
        refit = _fit(features(pick), still) if pick != best else None
        best = pick
        if refit is None:
            break
        m = refit[0]
    # a fixed point of that loop can sit a frame off; the still's own frame matches the most keypoints
    around = sorted((i for i in (best - 1, best, best + 1) if 0 <= i < len(frames)),
                    key=lambda i: (_inliers(features(i), still), i == best), reverse=True)
    for i in dict.fromkeys((*around, j)):
        found = match_pair(features(i), still, sha, name)
        if found is not None:
            return replace(found, t_a=frames[i][0], frame_a=frames[i][1]), True
    return at_key, True


def _correlation(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> float:
    """Correlation of all the aligned overlap's pixels of two grey pictures (b's pixels to a's by `m`): unlike the
    tiled median it moves with every part of the picture that changes from one frame to the next."""
    aligned = _aligned(a, b, m)
    if aligned is None:
        return -1.0
    x, y, valid = aligned
    xv, yv = x[valid] - x[valid].mean(), y[valid] - y[valid].mean()
    return float((xv * yv).sum() / np.sqrt(max(float((xv * xv).sum() * (yv * yv).sum()), 1e-9)))
