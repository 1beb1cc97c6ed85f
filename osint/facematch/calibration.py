"""Distances between encodings, and what a distance means: the shipped distance -> false-match-rate table.

The table (calibration/faces.json) is written by `bench/face_eval.py` from ../shared/data/faces: for each
model, the share of different-person pairs (impostors) closer than each distance (FMR) and the share of
same-person pairs found (TAR). Every score this package prints quotes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

TABLE = "faces.json"


@dataclass(frozen=True)
class Calibration:
    """One model's measured distance -> FMR/TAR curve; `thresholds` maps an FMR (e.g. "0.001") to the
    distance at which that share of impostor pairs is reached."""

    model: str
    detector: str
    n_genuine: int
    n_impostor: int
    thresholds: dict[str, float]
    tar_at_fmr: dict[str, float]
    distance: np.ndarray
    fmr: np.ndarray
    tar: np.ndarray

    def fmr_at(self, d: float | np.ndarray) -> np.ndarray:
        """Estimated false-match rate at distance `d`: the share of impostor pairs at that distance or closer.
        Below the closest impostor measured it is reported as the resolution, 1 / n_impostor (an upper bound)."""
        return np.maximum(np.interp(d, self.distance, self.fmr), self.resolution)

    def tar_at(self, d: float | np.ndarray) -> np.ndarray:
        """Share of same-person pairs (press photos, no age gap) found at distance `d` or closer."""
        return np.interp(d, self.distance, self.tar)

    def distance_at(self, fmr: float) -> float:
        """The largest distance whose FMR does not exceed `fmr` (the threshold for that false-match rate)."""
        idx = np.searchsorted(self.fmr, fmr, side="right") - 1
        return float(self.distance[max(0, idx)])

    @property
    def resolution(self) -> float:
        return 1.0 / max(1, self.n_impostor)


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    """The shipped calibration file as plain data (models, fusion scales, defaults, provenance)."""
    return json.loads((resources.files("osint.facematch") / "calibration" / TABLE).read_text())


@lru_cache(maxsize=None)
def calibration(model: str) -> Calibration:
    """The shipped calibration of `model` ("dlib", "sface" or "fused")."""
    m = shipped()["models"][model]
    return Calibration(model, shipped()["detector"], m["n_genuine"], m["n_impostor"], m["threshold_at_fmr"],
                       m["tar_at_fmr"], np.asarray(m["table"]["distance"]), np.asarray(m["table"]["fmr"]),
                       np.asarray(m["table"]["tar"]))


def min_quality() -> float:
    """Faces with a lower quality score (SFace feature length) than 99% of the calibration faces: the
    shipped table does not describe them (blurred, dark, tiny), so they are flagged and not clustered."""
    return float(shipped()["min_quality"])


def fusion_scales() -> dict[str, float]:
    """Each model's distance scale for fusion (its threshold at FMR 0.1%): fused = sum of d / scale."""
    return dict(shipped()["fusion_scale"])


def distances(model: str, a: dict[str, np.ndarray], b: dict[str, np.ndarray],
              scales: dict[str, float] | None = None) -> np.ndarray:
    """Distance matrix (len(a) x len(b)) between two sets of encodings, for one model.

    dlib: Euclidean; sface: cosine distance 1 - a.b (features are unit length); fused: the sum of both,
    each divided by its own scale (so ~1 per model at its 0.1% FMR threshold, ~2 in all)."""
    if model == "dlib":
        x, y = a["dlib"], b["dlib"]
        sq = np.einsum("ij,ij->i", x, x)[:, None] + np.einsum("ij,ij->i", y, y)[None, :] - 2.0 * (x @ y.T)
        return np.sqrt(np.maximum(sq, 0.0))
    if model == "sface":
        return 1.0 - a["sface"] @ b["sface"].T
    if model == "fused":
        s = scales or fusion_scales()
        return distances("dlib", a, b) / s["dlib"] + distances("sface", a, b) / s["sface"]
    raise ValueError(f"unknown model {model!r} (dlib, sface or fused)")
