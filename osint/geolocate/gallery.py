"""The landmark gallery of a case: geotagged reference photos, their cached features, and the index.

Reference photos are case items with role "landmark" (stored byte for byte like any evidence); each has a
record ("landmark", sha256) with its coordinates, label and the SHA-256 of its features file (a derived
.npz). The index is rebuilt only when the gallery changes and is kept as a derived file too.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from osint.case import Case, default_actor
from osint.errors import OsintError
from osint.geolocate.landmarks import (FEATURE_VERSION, Features, GalleryEntry, LandmarkIndex, extract_features,
                                       gallery_hash)
from osint.geolocate.places import on_earth
from osint.ingest import add_file, walk

KIND = "landmark"
INDEX_KIND = "landmark-index"


@dataclass(frozen=True)
class LandmarkAdded:
    """What happened to one reference photo: status "added", "updated" (new coordinates/label) or "failed"."""

    path: str
    status: str
    sha256: str | None = None
    features: int = 0
    error: str | None = None


def read_landmark_csv(path: Path) -> list[tuple[Path, float, float, str]]:
    """Rows `file,lat,lon,label` (header optional; files relative to the CSV's folder)."""
    rows = []
    with open(path, newline="") as fh:
        for i, row in enumerate(csv.reader(fh), 1):
            if not row or row[0].strip().lower() == "file":
                continue
            try:
                f, lat, lon, label = row[0], float(row[1]), float(row[2]), row[3] if len(row) > 3 else ""
            except (IndexError, ValueError):
                raise OsintError(f"{path}:{i}: expected file,lat,lon,label") from None
            rows.append(((path.parent / f).resolve(), lat, lon, label.strip()))
    return rows


def add_landmarks(case: Case, rows: Iterable[tuple[Path, float, float, str]], *, actor: str | None = None,
                  on_file: Callable[[LandmarkAdded], None] | None = None) -> list[LandmarkAdded]:
    """Add reference photos (folders are walked) with coordinates and a label; extract and cache features."""
    actor = actor or default_actor()
    out = []
    for top, lat, lon, label in rows:
        if not on_earth(lat, lon):
            outcome = LandmarkAdded(str(top), "failed", error=f"{lat},{lon} is not a valid latitude,longitude")
            out.append(outcome)
            if on_file:
                on_file(outcome)
            continue
        for path, problem in walk([top]):
            outcome = _add_one(case, path, lat, lon, label, actor) if not problem else \
                LandmarkAdded(str(path), "failed", error=problem)
            out.append(outcome)
            if on_file:
                on_file(outcome)
    return out


def _add_one(case: Case, path: Path, lat: float, lon: float, label: str, actor: str) -> LandmarkAdded:
    added = add_file(case, path, collector=actor, role="landmark", note=f"landmark reference: {label}")
    if added.status == "failed" or added.sha256 is None or added.media_type not in (None, "image"):
        return LandmarkAdded(str(path), "failed", added.sha256, error=added.error or "not a photo")
    old = case.record(KIND, added.sha256)
    if old and old.get("feature_version") == FEATURE_VERSION and case.derived_path(old["features"], ".npz").exists():
        fsha, keypoints = old["features"], int(old["keypoints"])  # re-added (a new label): features are cached
    else:
        try:
            feats = extract_features(case.object_path(added.sha256))
        except OsintError as exc:
            return LandmarkAdded(str(path), "failed", added.sha256, error=str(exc))
        fsha, keypoints = case.put_derived(feats.to_bytes(), ".npz"), len(feats.keypoints)
    data = {"lat": lat, "lon": lon, "label": label, "features": fsha, "feature_version": FEATURE_VERSION,
            "keypoints": keypoints, "path": added.path}
    case.put_record(KIND, added.sha256, data, action="landmark:add", actor=actor,
                    inputs={"sha256": added.sha256}, details={"label": label, "lat": lat, "lon": lon})
    return LandmarkAdded(str(path), "updated" if old else "added", added.sha256, keypoints)


def gallery(case: Case) -> list[tuple[GalleryEntry, str]]:
    """(entry, features file path) for every landmark record of the case."""
    return [(GalleryEntry(sha, float(d["lat"]), float(d["lon"]), str(d["label"])),
             str(case.derived_path(d["features"], ".npz"))) for sha, d in case.records(KIND).items()]


def remove_landmark(case: Case, sha_or_prefix: str, *, actor: str | None = None) -> str:
    """Drop a photo from the gallery (the original stays in the case, as every original does)."""
    sha = case.item(sha_or_prefix).sha256
    if not case.delete_record(KIND, sha, action="landmark:remove", actor=actor):
        raise OsintError(f"{sha[:12]} is not in the landmark gallery")
    return sha


def case_index(case: Case, *, actor: str | None = None) -> tuple[str, dict[str, str]] | None:
    """Path of an index for the current gallery (built and stored if the gallery changed) and the features
    file of each entry; None when the gallery is empty."""
    entries = gallery(case)
    if not entries:
        return None
    ghash = gallery_hash([e for e, _ in entries])
    rec = case.record(INDEX_KIND, FEATURE_VERSION)
    if not rec or rec.get("gallery") != ghash or not case.derived_path(rec["index"], ".npz").exists():
        index = LandmarkIndex.build([e for e, _ in entries],
                                    [Features.from_bytes(Path(f).read_bytes()) for _, f in entries])
        isha = case.put_derived(index.save(), ".npz")
        rec = {"gallery": ghash, "index": isha, "entries": len(entries), "words": len(index.vocab)}
        case.put_record(INDEX_KIND, FEATURE_VERSION, rec, action="landmark:index", actor=actor,
                        details={"entries": len(entries), "words": len(index.vocab)})
    return str(case.derived_path(rec["index"], ".npz")), {e.key: f for e, f in entries}
