"""A set of encoded faces as numpy matrices plus where each face is: what matching and clustering work on.

Built from the cached "faces" stage results of a case (no image is decoded) or from files analysed
directly (outside a case).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
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


Entry = tuple[str, str, dict[str, Any], Any]   # item, media type, stored face, context of its frame


@dataclass(frozen=True)
class FaceSet:
    """Encoded faces: row i has encodings `enc[model][i]` (float32, 128 wide) and is described by
    `face(i)`. Rows are kept as the stored face records; FaceRefs are built only when asked for, so
    loading 100,000 cached faces to rank them stays cheap."""

    entries: list[Entry]
    enc: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.entries)

    def face(self, i: int) -> FaceRef:
        item, media_type, f, ctx = self.entries[i]
        crop = f.get("crop")
        return FaceRef(item, media_type, f["index"], f["t"], f["frame"], tuple(f["box"]), f.get("quality"),
                       crop if isinstance(crop, str) else None, ctx if isinstance(ctx, str) else None)

    @cached_property
    def faces(self) -> list[FaceRef]:
        return [self.face(i) for i in range(len(self))]

    @property
    def items(self) -> set[str]:
        return {e[0] for e in self.entries}

    def take(self, rows: list[int] | np.ndarray) -> FaceSet:
        rows = np.asarray(rows, dtype=int)
        return FaceSet([self.entries[i] for i in rows], {m: v[rows] for m, v in self.enc.items()})


def concat(sets: list[FaceSet], models: Iterable[str]) -> FaceSet:
    models = tuple(models)
    if not sets:
        return FaceSet([], {m: np.zeros((0, 128), np.float32) for m in models})
    return FaceSet([e for s in sets for e in s.entries], {m: np.concatenate([s.enc[m] for s in sets]) for m in models})


def from_result(item: str, data: dict[str, Any] | MediaFaces, models: Iterable[str]) -> FaceSet:
    """The encoded faces of one stored (or freshly computed) stage result."""
    if isinstance(data, MediaFaces):
        from osint.pipeline import to_plain

        data = dict(to_plain(data))
    models = tuple(models)
    mats = {m: unpack(data["encodings"][m]) if m in data["encodings"] else np.zeros((0, 128), np.float32)
            for m in models}
    context = {(fr["t"], fr["frame"]): fr.get("context") for fr in data["frames"]}
    media_type = data["media_type"]
    entries = [(item, media_type, f, context.get((f["t"], f["frame"]))) for f in data["faces"] if f["row"] is not None]
    rows = [e[2]["row"] for e in entries]
    return FaceSet(entries, {m: v[rows] for m, v in mats.items()})


def case_faces(case: Any, settings: FaceSettings, role: str | None = "collected") -> FaceSet:
    """Every encoded face in the case's cached results for these settings (items of `role`; None: all).

    Encoded faces hold rows 0..k-1 of their item's matrices in face order (analyse assigns them so), so
    the matrices of all items are decoded and joined in one go: no image is touched, ~1 s per 100,000 faces."""
    keep = {it.sha256 for it in case.items(role=role)}
    entries: list[Entry] = []
    raw: dict[str, list[bytes]] = {m: [] for m in settings.models}
    for r in case.results(STAGE, settings.version()):
        if r.data is None or r.sha256 not in keep or not r.data["encodings"]:
            continue
        context = {(fr["t"], fr["frame"]): fr.get("context") for fr in r.data["frames"]}
        entries += [(r.sha256, r.data["media_type"], f, context.get((f["t"], f["frame"])))
                    for f in r.data["faces"] if f["row"] is not None]
        for m in raw:
            raw[m].append(base64.b64decode(r.data["encodings"][m]))
    return FaceSet(entries, {m: np.frombuffer(b"".join(v), dtype="<f4").reshape(-1, 128) for m, v in raw.items()})
