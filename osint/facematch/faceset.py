"""A set of encoded faces as numpy matrices plus where each face is: what matching and clustering work on.

Built from the cached "faces" stage results of a case (no image is decoded) or from files analysed
directly (outside a case).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from osint.facematch.analyse import STAGE, FaceSettings, MediaFaces, unpack


@dataclass(frozen=True)
class FaceRef:
    """Where a face is: `item` (SHA-256 in a case, a file path outside one), frame time `t` (seconds, None
    for photos), box (left, top, width, height) in original pixels, quality (SFace feature length, None
    without SFace), crop and context (derived SHA-256)."""

    item: str
    media_type: str
    index: int
    t: float | None
    frame: int | None
    box: tuple[int, int, int, int]
    quality: float | None
    crop: str | None
    context: str | None


@dataclass(frozen=True)
class FaceSet:
    """Encoded faces: `faces[i]` has encodings `enc[model][i]` (float32, 128 wide)."""

    faces: list[FaceRef]
    enc: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.faces)

    def take(self, rows: list[int] | np.ndarray) -> FaceSet:
        rows = np.asarray(rows, dtype=int)
        return FaceSet([self.faces[i] for i in rows], {m: v[rows] for m, v in self.enc.items()})


def empty(models: Iterable[str]) -> FaceSet:
    return FaceSet([], {m: np.zeros((0, 128), np.float32) for m in models})


def concat(sets: list[FaceSet], models: Iterable[str]) -> FaceSet:
    models = tuple(models)
    if not sets:
        return empty(models)
    return FaceSet([f for s in sets for f in s.faces], {m: np.concatenate([s.enc[m] for s in sets]) for m in models})


def from_result(item: str, data: dict[str, Any] | MediaFaces, models: Iterable[str]) -> FaceSet:
    """The encoded faces of one stored (or freshly computed) stage result."""
    if isinstance(data, MediaFaces):
        from osint.pipeline import to_plain

        data = to_plain(data)
    models = tuple(models)
    mats = {m: unpack(data["encodings"][m]) if m in data["encodings"] else np.zeros((0, 128), np.float32)
            for m in models}
    context = {(fr["t"], fr["frame"]): fr.get("context") for fr in data["frames"]}
    faces, rows = [], []
    for f in data["faces"]:
        if f["row"] is None:
            continue
        crop = f["crop"] if isinstance(f.get("crop"), str) else None
        ctx = context.get((f["t"], f["frame"]))
        faces.append(FaceRef(item, data["media_type"], f["index"], f["t"], f["frame"], tuple(f["box"]),
                             f.get("quality"), crop, ctx if isinstance(ctx, str) else None))
        rows.append(f["row"])
    return FaceSet(faces, {m: v[rows] for m, v in mats.items()})


def case_faces(case: Any, settings: FaceSettings, role: str | None = "collected") -> FaceSet:
    """Every encoded face in the case's cached results for these settings (items of `role`; None: all)."""
    keep = {it.sha256 for it in case.items(role=role)}
    sets = [from_result(r.sha256, r.data, settings.models) for r in case.results(STAGE, settings.version())
            if r.data is not None and r.sha256 in keep]
    return concat(sets, settings.models)
