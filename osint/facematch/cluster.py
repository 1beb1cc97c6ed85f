"""Group faces of the same unknown person across photos and videos (Chinese whispers on a distance graph).

Two faces are linked when their distance is within the threshold of a strict false-match rate (default
0.1%); each face then repeatedly takes the label most common among its links. Groups are leads: the same
child seen in several videos is worth a look even with no reference photo yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from osint.facematch.calibration import calibration, distances, min_quality
from osint.facematch.faceset import FaceRef, FaceSet

CHUNK = 2048


@dataclass(frozen=True)
class Group:
    """Faces linked into one group: `representative` has the smallest mean distance to the others;
    `items` counts distinct photos/videos the group spans."""

    representative: FaceRef
    members: list[FaceRef]
    items: int
    mean_distance: float


def links(faces: FaceSet, model: str, threshold: float) -> list[np.ndarray]:
    """For each face, the other faces within `threshold`, except faces in the same frame (two faces in one
    picture are two people), computed in row chunks."""
    frame_of: dict[tuple[str, float | None], int] = {}
    frames = np.asarray([frame_of.setdefault((f.item, f.t), len(frame_of)) for f in faces.faces])
    out: list[np.ndarray] = []
    for start in range(0, len(faces), CHUNK):
        block = {m: v[start:start + CHUNK] for m, v in faces.enc.items()}
        d = distances(model, block, faces.enc)
        for i, row in enumerate(d):
            near = np.flatnonzero(row <= threshold)
            out.append(near[frames[near] != frames[start + i]])
    return out


def chinese_whispers(neighbours: list[np.ndarray], rounds: int = 30, seed: int = 0) -> np.ndarray:
    """Cluster labels for a graph given as neighbour lists (deterministic for a given seed)."""
    labels = np.arange(len(neighbours))
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        changed = False
        for i in rng.permutation(len(neighbours)):
            if len(neighbours[i]):
                values, counts = np.unique(labels[neighbours[i]], return_counts=True)
                new = values[np.argmax(counts)]
                if new != labels[i]:
                    labels[i], changed = new, True
        if not changed:
            break
    return labels


def cluster(faces: FaceSet, *, model: str, max_fmr: float = 0.001, min_size: int = 2,
            low_quality: bool = False) -> list[Group]:
    """Groups of at least `min_size` faces, largest first; faces closer than the `max_fmr` threshold link.

    Low-quality faces (below the calibration quality floor) are left out unless `low_quality`: blurred
    faces of different people encode close together and would chain strangers into one group."""
    if not low_quality:
        floor = min_quality()
        faces = faces.take([i for i, f in enumerate(faces.faces) if f.quality is None or f.quality >= floor])
    threshold = calibration(model).distance_at(max_fmr)
    labels = chinese_whispers(links(faces, model, threshold))
    groups = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        if len(rows) < min_size:
            continue
        sub = faces.take(rows)
        d = distances(model, sub.enc, sub.enc)
        mean = d.sum(1) / max(1, len(rows) - 1)
        rep = int(np.argmin(mean))
        groups.append(Group(sub.faces[rep], sub.faces, len({f.item for f in sub.faces}),
                            round(float(mean[rep]), 4)))
    groups.sort(key=lambda g: (-g.items, -len(g.members), g.mean_distance))
    return groups
