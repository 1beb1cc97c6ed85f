"""Rank reference persons for every found face: pure numpy over cached encodings, no image touched.

For each face and each person: the distance to the person's closest reference photo, how many of the
person's photos are within the review threshold ("agree"), and the estimated false-match rate (FMR) at
that distance from the shipped calibration table. Results are candidates for human review, never verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from osint.facematch.ages import AgeGap
from osint.facematch.calibration import Calibration, calibration, distances, min_quality, shipped
from osint.facematch.faceset import FaceRef, FaceSet

REVIEW = "candidate for human review"


@dataclass(frozen=True)
class Candidate:
    """One (found face, reference person) pair within the review threshold.

    distance: to the person's closest reference face (model-specific units, smaller is closer);
    fmr: share of different-person pairs measured this close or closer (the chance a stranger scores so
    well, per comparison); agree: how many of the person's `photos` reference faces are within threshold;
    rank: 1 for the face's closest person; low_quality: the face scores below the calibration faces'
    quality floor (blurred, dark or tiny), so its FMR is less certain than stated; ages: the person's age in
    the reference and the found photo and the years between (filled in where dates are known: ages.dated)."""

    face: FaceRef
    person: str
    distance: float
    fmr: float
    agree: int
    photos: int
    rank: int
    reference: FaceRef
    model: str
    threshold: float
    max_fmr: float
    low_quality: bool
    ages: AgeGap | None = None


def default_model() -> str:
    """The model with the best measured TAR at FMR 0.1% (from the shipped calibration)."""
    return str(shipped()["default_model"])


def match(faces: FaceSet, refs: FaceSet, owners: list[str], *, model: str | None = None,
          max_fmr: float | None = None, top: int = 3) -> list[Candidate]:
    """Candidates for every face in `faces` against reference faces `refs` (row i belongs to person
    `owners[i]`): persons within the distance whose FMR is `max_fmr`, `top` per face, closest first."""
    model = model or default_model()
    max_fmr = float(shipped()["default_max_fmr"] if max_fmr is None else max_fmr)
    cal: Calibration = calibration(model)
    threshold = cal.distance_at(max_fmr)
    if not len(faces) or not len(refs):
        return []
    d = distances(model, faces.enc, refs.enc)                       # faces x reference photos
    people = sorted(set(owners))
    cols = np.asarray([people.index(o) for o in owners])
    best = np.full((len(faces), len(people)), np.inf)
    arg = np.zeros((len(faces), len(people)), dtype=int)
    agree = np.zeros((len(faces), len(people)), dtype=int)
    counts = np.bincount(cols, minlength=len(people))
    for p in range(len(people)):
        sub = np.flatnonzero(cols == p)
        dp = d[:, sub]
        k = dp.argmin(1)
        best[:, p] = dp[np.arange(len(faces)), k]
        arg[:, p] = sub[k]
        agree[:, p] = (dp <= threshold).sum(1)
    order = np.argsort(best, axis=1)[:, :top]
    out = []
    rows, ranks = np.nonzero(np.take_along_axis(best, order, 1) <= threshold)
    fmr = cal.fmr_at(best[rows, order[rows, ranks]]) if len(rows) else np.zeros(0)
    floor = min_quality()
    for r, k, f in zip(rows, ranks, fmr):
        p = order[r, k]
        face = faces.face(int(r))
        out.append(Candidate(face, people[p], round(float(best[r, p]), 4), float(f), int(agree[r, p]),
                             int(counts[p]), int(k) + 1, refs.face(arg[r, p]), model, round(threshold, 4),
                             max_fmr, face.quality is not None and face.quality < floor))
    out.sort(key=lambda c: (c.distance, c.face.item, c.face.index))
    return out


def describe(model: str, max_fmr: float | None = None) -> str:
    """One line saying what the scores mean: model, threshold, the FMR at it, and what data measured it."""
    cal = calibration(model)
    max_fmr = float(shipped()["default_max_fmr"] if max_fmr is None else max_fmr)
    t = cal.distance_at(max_fmr)
    return (f"model {model} (detector {cal.detector}); listed up to distance {t:.4f}, where {max_fmr:.2%} of "
            f"different-person pairs score as close (FMR) and {float(cal.tar_at(t)):.1%} of same-person pairs "
            f"are found, measured on {cal.n_impostor:,} impostor / {cal.n_genuine:,} genuine pairs of adult press "
            f"photos without age gap; across years of growing up far fewer true matches score this close, so "
            f"rank, do not cut. Faces marked low quality (below {min_quality():.2f}: blurred, dark, tiny) are outside "
            f"what was measured. Each line is a {REVIEW}, not an identification.")
