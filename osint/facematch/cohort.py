"""Cohort score normalisation: judge a distance against how close each side comes to other people.

A child's face changes as it grows, and some faces sit close to many others. Symmetric normalisation
(S-norm) turns each distance d(q, r) into a score that says how unusual it is: for the found face q and
the reference photo r, the mean and spread of their distances to a cohort of other people's faces (all of
them, or in the adaptive form the K closest), then 0.5 * ((d - mu_q) / sd_q + (d - mu_r) / sd_r) per model;
the fused score is a weighted sum of the models' scores. Smaller is closer, as with distances.

The cohort comes from the case itself: the photos of the other reference persons (never the person being
scored, and never shipped child encodings). The spread of the scores depends on the cohort's size, so a
cohort is cut to a size with its own measured table (10 other persons); with fewer, nothing is
normalised and the caller says so. The form (all faces or K), weight and size were chosen on children
(bench/children_eval.py) and ship, as numbers only, in calibration/children.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from osint.facematch.calibration import distances, shipped
from osint.facematch.encode import ENCODERS


@dataclass(frozen=True)
class CohortSettings:
    """K closest cohort faces per side (None: all of them, plain S-norm), the fused score's weight on dlib
    (SFace gets the rest), and the cohort sizes (other persons) that have a measured table, largest first:
    a case's cohort is cut to the largest size it reaches, since the scores' spread (so their FMR) depends
    on it."""

    k: int | None
    weight_dlib: float
    sizes: tuple[int, ...] = (10,)


def settings() -> CohortSettings:
    """The shipped cohort settings (chosen on children, leaving persons out)."""
    c = shipped("children")["cohort"]
    return CohortSettings(None if c["k"] is None else int(c["k"]), float(c["weight_dlib"]),
                          tuple(sorted(c["sizes"], reverse=True)))


def size_for(others: int, config: CohortSettings | None = None) -> int | None:
    """The cohort size used with `others` other reference persons: the largest measured one they reach,
    None when they reach none (then nothing is normalised)."""
    config = config or settings()
    return next((n for n in config.sizes if others >= n), None)


def members(people: list[str], person: str, size: int) -> list[str]:
    """The cohort of `person`: the first `size` other persons by id (stable as references are added)."""
    return [p for p in sorted(people) if p != person][:size]


def _stats(d: np.ndarray, owner: np.ndarray, allowed: np.ndarray, k: int | None,
           sums: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of each row's `k` smallest distances `d` (rows x cohort faces) to cohort faces whose
    owner is `allowed` (a mask over owner ids). With at most `k` such faces they are all taken, no sort:
    the row sums (`sums` of d and d squared, when already made) less the few faces left out."""
    ok = allowed[owner]
    if k is None or ok.sum() <= k:
        n, out = int(ok.sum()), d[:, ~ok]
        s1, s2 = sums if sums is not None else (d.sum(1), (d * d).sum(1))
        mu = (s1 - out.sum(1)) / n
        var = (s2 - (out * out).sum(1)) / n - mu * mu
        return mu, np.sqrt(np.maximum(var, 1e-12))
    part = np.sort(np.where(ok, d, np.inf), axis=1)[:, :k]
    return part.mean(1), np.maximum(part.std(1), 1e-6)


def normalise(model: str, faces: dict[str, np.ndarray], refs: dict[str, np.ndarray], owners: list[str],
              cohort: dict[str, np.ndarray], cohort_owners: list[str], size: int,
              config: CohortSettings | None = None) -> np.ndarray:
    """Normalised scores (len(faces) x len(refs)) of `model` ("dlib", "sface" or "fused"). Reference row j
    belongs to person owners[j]; it and every face are judged against the cohort rows (owned as
    `cohort_owners`) of `members(cohort persons, owners[j], size)`."""
    config = config or settings()
    people = sorted(set(owners) | set(cohort_owners))
    ref_p = np.asarray([people.index(o) for o in owners])
    pool = sorted(set(cohort_owners))[: size + 1]          # every person's cohort is drawn from these
    rows = np.flatnonzero(np.isin(cohort_owners, pool))
    coh_p = np.asarray([people.index(cohort_owners[r]) for r in rows], dtype=int)
    sub = {m: v[rows] for m, v in cohort.items()}
    weights = {"dlib": config.weight_dlib, "sface": 1.0 - config.weight_dlib} if model == "fused" else {model: 1.0}
    groups: dict[tuple[int, ...], list[int]] = {}
    for p in np.unique(ref_p):
        allowed = tuple(people.index(c) for c in members(pool, people[p], size))
        groups.setdefault(allowed, []).append(int(p))
    total = np.zeros((len(next(iter(faces.values()))), len(owners)), np.float32)
    for m in ENCODERS[model]:
        d = distances(m, faces, refs)
        to_f = d[:, rows] if cohort is refs else distances(m, faces, sub)
        to_r = distances(m, refs, sub)
        sums = to_f.sum(1), np.einsum("ij,ij->i", to_f, to_f)
        for allowed, group in groups.items():
            mask = np.zeros(len(people), bool)
            mask[list(allowed)] = True
            mu_q, sd_q = _stats(to_f, coh_p, mask, config.k, sums)
            cols = np.flatnonzero(np.isin(ref_p, group))
            mu_r, sd_r = _stats(to_r[cols], coh_p, mask, config.k)
            total[:, cols] += weights[m] * 0.5 * ((d[:, cols] - mu_q[:, None]) / sd_q[:, None]
                                                  + (d[:, cols] - mu_r) / sd_r)
    return total
