"""Which false-match table a reference gets (children, adults, conservative) and cohort normalisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from osint.facematch import calibration, distances, match
from osint.facematch.calibration import CONSERVATIVE
from osint.facematch.cohort import normalise, settings
from osint.facematch.faceset import FaceSet


def faceset(enc: dict[str, np.ndarray], item: str) -> FaceSet:
    entries = [(f"{item}{i}", "image", {"index": 0, "t": None, "frame": None, "box": [0, 0, 50, 50], "quality": 12.0},
                None) for i in range(len(enc["dlib"]))]
    return FaceSet(entries, enc)


def people(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """`n` random faces: dlib-like vectors and unit SFace features."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, 128)).astype(np.float32)
    return {"dlib": rng.normal(0, 0.09, (n, 128)).astype(np.float32),
            "sface": s / np.linalg.norm(s, axis=1, keepdims=True)}


def near(enc: dict[str, np.ndarray], step: float, seed: int = 1) -> dict[str, np.ndarray]:
    """The same faces moved a little (another photo of the same persons)."""
    rng = np.random.default_rng(seed)
    s = enc["sface"] + rng.normal(0, step, enc["sface"].shape).astype(np.float32)
    return {"dlib": enc["dlib"] + rng.normal(0, step / 4, enc["dlib"].shape).astype(np.float32),
            "sface": s / np.linalg.norm(s, axis=1, keepdims=True)}


def test_child_adult_and_unknown_age_get_their_tables() -> None:
    refs = people(3)
    found = near(refs, 0.02)
    owners = ["CHILD", "ADULT", "UNKNOWN"]
    cands = match(faceset(found, "f"), faceset(refs, "r"), owners, tables={"CHILD": "children", "ADULT": "adults"})
    by = {c.person: c for c in cands if c.face.item[-1] == "012"[owners.index(c.person)]}
    assert set(by) == set(owners)
    assert by["CHILD"].table == "children" and by["CHILD"].population.startswith("children 1-5 years apart")
    assert by["ADULT"].table == "adults" and by["ADULT"].population == "adults, no age gap"
    assert by["UNKNOWN"].table == CONSERVATIVE and "age unknown" in by["UNKNOWN"].population
    # two other persons are too few a cohort: the child's score is SFace's raw distance, and it says why
    assert by["CHILD"].model == "sface"
    assert "not cohort-normalised: 2 other reference persons, 10 needed" in by["CHILD"].population
    for c in by.values():
        cal = calibration(c.model, c.table)
        assert c.fmr == pytest.approx(float(cal.fmr_at(c.distance)))
    # the conservative table states at every distance at least what either table states
    grid = np.linspace(0.0, 1.2, 61)
    cons = calibration("sface", CONSERVATIVE).fmr_at(grid)
    assert np.all(cons >= calibration("sface", "adults").fmr_at(grid) - 1e-12)
    assert np.all(cons >= calibration("sface", "children").fmr_at(grid) - 1e-12)
    assert calibration("sface", "children").fmr_at(0.6) > 10 * calibration("sface", "adults").fmr_at(0.6)


def test_empty_cohort_changes_nothing_and_says_so() -> None:
    refs = people(1)
    found = near(people(1), 0.0)
    cands = match(faceset(found, "f"), faceset(refs, "r"), ["ONLY"], model="fused", tables={"ONLY": "children"},
                  max_fmr=1.0)
    assert len(cands) == 1
    c = cands[0]
    raw = float(distances("fused", found, refs)[0, 0])
    assert c.model == "fused" and c.distance == pytest.approx(raw, abs=1e-4)
    assert c.fmr == pytest.approx(float(calibration("fused", "children").fmr_at(raw)))
    assert "not cohort-normalised: 0 other reference persons, 10 needed" in c.population


def test_cohort_of_other_references_normalises_children() -> None:
    n = settings().sizes[0] + 2
    refs = people(n)
    found = near(refs, 0.05)
    owners = [f"P{i:02d}" for i in range(n)]
    cands = match(faceset(found, "f"), faceset(refs, "r"), owners, tables={p: "children" for p in owners})
    firsts = {c.face.item: c for c in cands if c.rank == 1}
    assert len(firsts) == n and all(c.person == owners[int(item[1:])] for item, c in firsts.items())
    c = next(iter(firsts.values()))
    assert c.model == f"fused+cohort{n - 2}" and f"normalised against {n - 2} other reference persons" in c.population
    z = normalise("fused", found, refs, owners, refs, owners, n - 2)
    row = int(c.face.item[1:])
    assert c.distance == pytest.approx(float(z[row, owners.index(c.person)]), abs=1e-4)


def test_children_table_numbers_only_and_measured_leaving_persons_out() -> None:
    from osint.facematch.calibration import shipped

    t = shipped("children")
    assert t["population"] == "children 1-5 years apart" and t["generated_by"] == "bench/children_eval.py"
    for m in ("dlib", "sface", "fused", f"fused+cohort{settings().sizes[0]}"):
        e = t["models"][m]
        assert e["n_genuine"] >= 300 and e["n_impostor"] >= 10_000 and e["n_persons"] >= 20
        assert set(e["table"]) == {"distance", "fmr", "tar"}
    text = (Path(__file__).resolve().parents[2] / "osint" / "facematch" / "calibration" / "children.json").read_text()
    assert "images/" not in text and "encoding" not in text.lower()


def test_age_at_the_reference_photo_picks_the_table_in_a_case(case, faces_dir: Path) -> None:
    """--born and the photo's date decide: under 18 -> children, 18 or over -> adults, unknown -> conservative."""
    from osint.facematch import FaceSettings, add_references, case_matches, reference_faces, scan_case
    from osint.facematch.ages import set_item_date
    from osint.facematch.gallery import calibration_tables
    from osint.ingest import add_paths

    photos = {"CHILD": ("Kit_Harington/fr_train_kit_harington_john1.jpeg", "2012"),
              "ADULT": ("Joseph_Biden/Joseph_Biden_0001.jpg", "1942"),
              "NOBORN": ("Rose_Leslie/fr_train_rose_leslie_img2.jpg", None)}
    settings = FaceSettings()
    for person, (photo, born) in photos.items():
        assert add_references(case, person, [faces_dir / photo], born=born, settings=settings)[0].status == "ok"
        sha = next(r["sha256"] for r in case.records("reference_photo").values() if r["person"] == person)
        set_item_date(case, sha, "2021-05-01")
    refs, owners = reference_faces(case, settings)
    assert calibration_tables(case, refs, owners) == {"CHILD": "children", "ADULT": "adults"}
    # another photo of each, collected: each finds its own person, read with that person's table
    add_paths(case, [faces_dir / f for f in ("Kit_Harington/fr_train_kit_harington_john2.jpeg",
                                             "Joseph_Biden/Joseph_Biden_0002.jpg",
                                             "Rose_Leslie/fr_train_rose_leslie_img1.jpg")], collector="tester")
    scan_case(case, settings)
    found = {c.person: c for c in case_matches(case, settings).candidates if c.rank == 1}
    assert found["CHILD"].table == "children" and found["ADULT"].table == "adults"
    assert found["NOBORN"].table == CONSERVATIVE
