"""bench/children_eval.py's age-aware reading of a score (measured only, never shipped): it keeps the score's
order for one reference age and gap, and reads one score as stronger evidence where genuine pairs score worse."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from children_eval import AgeLLR, oriented  # noqa: E402


def test_pairs_are_read_from_the_younger_photo() -> None:
    ref, gap = oriented(np.asarray([3, 7, 5]))
    assert ref[0, 1] == ref[1, 0] == 3 and gap[0, 1] == gap[1, 0] == 4
    assert ref[1, 2] == 5 and gap[1, 2] == 2 and gap[2, 2] == 0


def test_age_aware_reading_is_monotone_and_follows_the_reference_age() -> None:
    rng = np.random.default_rng(0)
    n = 6000
    ref = rng.integers(0, 16, n).astype(float)
    gap = rng.integers(1, 6, n).astype(float)
    genuine = rng.random(n) < 0.3
    # genuine pairs of young references score worse (closer to the impostors), as toddlers do
    s = np.where(genuine, -5.0 + 0.2 * (15 - ref) + rng.normal(0, 1, n), rng.normal(0, 0.8, n))
    model = AgeLLR.fit(s, ref, gap, genuine, ("age", "gap"))
    grid = np.linspace(-9, 4, 80)
    for age in (1.0, 12.0):
        read = model.score(grid, np.full_like(grid, age), np.full_like(grid, 3.0))
        assert np.all(np.diff(read) >= -1e-9)
    toddler, teen = (model.score(np.asarray([-2.5]), np.asarray([a]), np.asarray([3.0]))[0] for a in (1.0, 12.0))
    assert toddler < teen
