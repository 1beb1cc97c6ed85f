"""Distances between encodings, and what a distance means: the shipped distance -> false-match-rate tables.

Each table gives, for each model, the share of different-person pairs (impostors) closer than each distance
(FMR) and the share of same-person pairs found (TAR), and names the population it was measured on:
- calibration/faces.json (`bench/face_eval.py`, ../shared/data/faces): "adults, no age gap";
- calibration/children.json (`bench/children_eval.py`, ../shared/data/children, numbers only): "children
  1-5 years apart", raw distances and cohort-normalised scores ("MODEL+cohort", see cohort.py);
- "conservative", for a reference of unknown age: at each distance the higher FMR of the two.
Every score this package prints quotes one of them and says which.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

TABLES = {"adults": "faces.json", "children": "children.json"}
CONSERVATIVE = "conservative"
POPULATIONS = ("adults", "children", CONSERVATIVE)


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
    population: str = "adults, no age gap"

    def fmr_at(self, d: float | np.ndarray) -> np.ndarray:
        """Estimated false-match rate at distance `d`: the share of impostor pairs at that distance or closer.
        Below the closest impostor measured it is reported as the resolution, 1 / n_impostor (an upper bound)."""
        return np.maximum(np.interp(d, self.distance, self.fmr), self.resolution)

    def tar_at(self, d: float | np.ndarray) -> np.ndarray:
        """Share of same-person pairs (of `population`) found at distance `d` or closer."""
        return np.interp(d, self.distance, self.tar)

    def distance_at(self, fmr: float) -> float:
        """The largest distance whose FMR does not exceed `fmr` (the threshold for that false-match rate)."""
        idx = np.searchsorted(self.fmr, fmr, side="right") - 1
        return float(self.distance[max(0, idx)])

    @property
    def resolution(self) -> float:
        return 1.0 / max(1, self.n_impostor)


@lru_cache(maxsize=None)
def shipped(population: str = "adults") -> dict[str, Any]:
    """A shipped calibration file as plain data (models, fusion scales, defaults, provenance): "adults"
    (faces.json) or "children" (children.json)."""
    return json.loads((resources.files("osint.facematch") / "calibration" / TABLES[population]).read_text())


@lru_cache(maxsize=None)
def calibration(model: str, population: str = "adults") -> Calibration:
    """The shipped calibration of `model` ("dlib", "sface", "fused"; for children also "MODEL+cohort") on
    `population`: "adults", "children" or "conservative" (the higher FMR of both at each distance)."""
    if population == CONSERVATIVE:
        return _conservative(calibration(model, "adults"), calibration(model, "children"))
    table = shipped(population)
    m = table["models"][model]
    return Calibration(model, table["detector"], m["n_genuine"], m["n_impostor"], m["threshold_at_fmr"],
                       m["tar_at_fmr"], np.asarray(m["table"]["distance"]), np.asarray(m["table"]["fmr"]),
                       np.asarray(m["table"]["tar"]), table["population"])


def _conservative(a: Calibration, b: Calibration) -> Calibration:
    """One curve that states, at each distance, the higher FMR of `a` and `b` (and the lower TAR)."""
    grid = np.union1d(a.distance, b.distance)
    fmr = np.maximum(a.fmr_at(grid), b.fmr_at(grid))
    tar = np.minimum(a.tar_at(grid), b.tar_at(grid))
    weaker = min(a, b, key=lambda c: c.n_impostor)
    out = Calibration(a.model, a.detector, min(a.n_genuine, b.n_genuine), weaker.n_impostor, {}, {}, grid, fmr,
                      tar, f"age unknown: the higher FMR of {a.population} and {b.population}")
    thresholds = {f: round(out.distance_at(float(f)), 5) for f in a.thresholds}
    tars = {f: round(float(out.tar_at(t)), 5) for f, t in thresholds.items()}
    return Calibration(a.model, a.detector, out.n_genuine, out.n_impostor, thresholds, tars, grid, fmr, tar,
                       out.population)


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
