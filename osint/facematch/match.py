"""Rank reference persons for every found face: pure numpy over cached encodings, no image touched.

For each face and each person: the score against the person's closest reference photo, how many of the
person's photos are within the review threshold ("agree"), and the estimated false-match rate (FMR) at
that score from the table of the person's population: children (the person was under 18 in the
reference photos), adults, or, where the age is unknown, the conservative table. For children the score is
normalised against the case's other reference persons when there are enough of them (cohort.py).
Results are candidates for human review, never verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from osint.facematch import cohort
from osint.facematch.ages import AgeGap
from osint.facematch.calibration import CONSERVATIVE, Calibration, calibration, distances, min_quality, shipped
from osint.facematch.faceset import FaceRef, FaceSet

if TYPE_CHECKING:
    from osint.facematch.tracks import Track

REVIEW = "candidate for human review"


@dataclass(frozen=True)
class Candidate:
    """One (found face, reference person) pair within the review threshold.

    distance: to the person's closest reference face (model-specific units, smaller is closer);
    fmr: share of different-person pairs measured this close or closer (the chance a stranger scores so
    well, per comparison); agree: how many of the person's `photos` reference faces are within threshold;
    rank: 1 for the face's most likely person (lowest FMR); low_quality: the face scores below the calibration
    faces' quality floor (blurred, dark or tiny), so its FMR is less certain than stated; ages: the person's age
    in the reference and the found photo and the years between (filled in where dates are known: ages.dated);
    table: which calibration ("adults", "children", "conservative") and population: what it was measured on,
    in words (every FMR shown names it); fmr_bound: no impostor of that table scored so close (fmr is an
    upper bound); track: for a video, the face followed across frames that this candidate stands for
    (tracks.match_media), `face` being its frame most like the person."""

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
    table: str = "adults"
    population: str = "adults, no age gap"
    fmr_bound: bool = False
    track: Track | None = None


def default_model(population: str = "adults") -> str:
    """The model with the best measured TAR at FMR 0.1% for `population` (children: without a cohort; the
    conservative table is the children's at almost every distance, so it takes theirs)."""
    return str(shipped("adults" if population == "adults" else "children")["default_model"])


@dataclass(frozen=True)
class Scoring:
    """How one person's scores are made and read: the model (e.g. "fused+cohort10"), its table, the
    cohort size (None: raw distance), and a note on what was not done (e.g. too small a cohort)."""

    model: str
    table: str
    cohort: int | None
    note: str = ""

    @property
    def calibration(self) -> Calibration:
        return calibration(self.model, self.table)

    @property
    def population(self) -> str:
        label = self.calibration.population
        if self.cohort:
            label += f", scores normalised against {self.cohort} other reference persons of the case"
        return label + (f" ({self.note})" if self.note else "")


def scoring(table: str, others: int, model: str | None = None) -> Scoring:
    """The scoring for a person whose photos fall in `table` ("adults", "children" or "conservative"),
    in a case with `others` other reference persons; `model` None: the population's best."""
    if table != "children":
        return Scoring(model or default_model(table), table, None)
    size = cohort.size_for(others)
    if model in (None, "fused") and size:
        return Scoring(f"fused+cohort{size}", table, size)
    note = "" if size or model not in (None, "fused") else \
        f"not cohort-normalised: {others} other reference persons, {min(cohort.settings().sizes)} needed"
    return Scoring(model or default_model(table), table, None, note)


def match(faces: FaceSet, refs: FaceSet, owners: list[str], *, model: str | None = None,
          max_fmr: float | None = None, top: int = 3, tables: dict[str, str] | None = None) -> list[Candidate]:
    """Candidates for every face in `faces` against reference faces `refs` (row i belongs to person
    `owners[i]`): persons within the score whose FMR is `max_fmr`, `top` per face, lowest FMR first.
    `tables` gives each person's population ("children", "adults"); persons not in it are of unknown age
    and get the conservative table."""
    max_fmr = float(shipped()["default_max_fmr"] if max_fmr is None else max_fmr)
    if not len(faces) or not len(refs):
        return []
    people = sorted(set(owners))
    how = {p: scoring((tables or {}).get(p, CONSERVATIVE), len(people) - 1, model) for p in people}
    cols = np.asarray([people.index(o) for o in owners])
    scores: dict[str, np.ndarray] = {}                              # model -> faces x reference photos
    for sc in set(how.values()):
        if sc.model not in scores:
            scores[sc.model] = (cohort.normalise("fused", faces.enc, refs.enc, owners, refs.enc, owners, sc.cohort)
                                if sc.cohort else distances(sc.model, faces.enc, refs.enc))
    best = np.full((len(faces), len(people)), np.inf)
    arg = np.zeros((len(faces), len(people)), dtype=int)
    agree = np.zeros((len(faces), len(people)), dtype=int)
    limit = np.zeros(len(people))
    counts = np.bincount(cols, minlength=len(people))
    for p, person in enumerate(people):
        sub = np.flatnonzero(cols == p)
        limit[p] = how[person].calibration.distance_at(max_fmr)
        dp = scores[how[person].model][:, sub]
        k = dp.argmin(1)
        best[:, p] = dp[np.arange(len(faces)), k]
        arg[:, p] = sub[k]
        agree[:, p] = (dp <= limit[p]).sum(1)
    rows, ps = np.nonzero(best <= limit[None, :])                # the few (face, person) pairs listed
    fmr = np.empty(len(rows))
    for q in np.unique(ps):
        fmr[ps == q] = how[people[q]].calibration.fmr_at(best[rows[ps == q], q])
    listed: dict[int, list[tuple[float, float, int]]] = {}
    for r, q, f in zip(rows.tolist(), ps.tolist(), fmr.tolist()):
        listed.setdefault(r, []).append((f, float(best[r, q]), q))
    out = []
    floor = min_quality()
    for r, found in listed.items():
        face = faces.face(r)
        for rank, (f, score, q) in enumerate(sorted(found)[:top], 1):
            sc = how[people[q]]
            out.append(Candidate(face, people[q], round(score, 4), f, int(agree[r, q]), int(counts[q]), rank,
                                 refs.face(int(arg[r, q])), sc.model, round(float(limit[q]), 4), max_fmr,
                                 face.quality is not None and face.quality < floor, table=sc.table,
                                 population=sc.population, fmr_bound=f <= sc.calibration.resolution))
    out.sort(key=lambda c: (c.fmr, c.distance, c.face.item, c.face.index))
    return out


def explain(candidates: list[Candidate], model: str | None = None, max_fmr: float | None = None) -> str:
    """What the scores of `candidates` mean: one `describe` per (model, table) used, and each population with
    any note (e.g. too small a cohort); with no candidates, what the default would have been."""
    if not candidates:
        return describe(model or default_model(CONSERVATIVE), max_fmr, CONSERVATIVE)
    used = sorted({(c.model, c.max_fmr, c.table) for c in candidates})
    notes = sorted({c.population for c in candidates if "(" in c.population})
    return " ".join([describe(*u) for u in used] + [f"Note: {n}." for n in notes])


def describe(model: str, max_fmr: float | None = None, table: str = "adults") -> str:
    """One line saying what the scores mean: model, threshold, the FMR at it, and what population measured it."""
    cal = calibration(model, table)
    max_fmr = float(shipped()["default_max_fmr"] if max_fmr is None else max_fmr)
    t = cal.distance_at(max_fmr)
    what = "score (cohort-normalised)" if "+cohort" in model else "distance"
    gap = ("" if table == "children" else "; across years of growing up far fewer true matches score this close, "
           "so rank, do not cut")
    return (f"model {model} (detector {cal.detector}); listed up to {what} {t:.4f}, where {max_fmr:.2%} of "
            f"different-person pairs score as close (FMR) and {float(cal.tar_at(t)):.1%} of same-person pairs "
            f"are found, measured on {cal.n_impostor:,} impostor / {cal.n_genuine:,} genuine pairs "
            f"(population: {cal.population}){gap}. Faces marked low quality (below {min_quality():.2f}: blurred, dark, tiny) are "
            f"outside what was measured. Each line is a {REVIEW}, not an identification.")
