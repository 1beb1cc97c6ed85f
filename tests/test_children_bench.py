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


def test_wccn_evens_out_the_spread_within_identities() -> None:
    from children_eval import project, within_class

    rng = np.random.default_rng(1)
    # 60 identities on the unit sphere, each photo spread 20 times more along one axis than along the others
    centres = rng.normal(0, 1, (60, 8))
    spread = np.full(8, 0.01)
    spread[0] = 0.2
    ids = np.repeat(np.arange(60), 10)
    x = centres[ids] + rng.normal(0, 1, (600, 8)) * spread
    mean, white = within_class(x, ids, 0.0)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = (unit - mean) @ white
    within = np.concatenate([y[ids == p] - y[ids == p].mean(0) for p in range(60)])
    cov = within.T @ within / (len(y) - 60)
    assert np.allclose(cov, np.eye(8), atol=1e-6)
    out = project(x, (mean, white))
    assert out.dtype == np.float32 and np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    # full shrinkage leaves only the centring: whitening is then a multiple of the identity
    _, none = within_class(x, ids, 1.0)
    assert np.allclose(none, none[0, 0] * np.eye(8))
