"""Landmark matching: features, the word index, RANSAC verification, ranking by place."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from osint.errors import OsintError
from osint.geolocate import (MIN_INLIERS, Features, GalleryEntry, LandmarkIndex, extract_features, gallery_hash,
                             verify)


def scene(seed: int, size: tuple[int, int] = (480, 360)) -> np.ndarray:
    """A synthetic 'building': random rectangles and circles on a blocky textured background."""
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    img = (rng.integers(90, 160, (h // 8, w // 8, 3)).astype(np.uint8))
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_NEAREST)
    for _ in range(40):
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x, y), (x + int(rng.integers(8, 60)), y + int(rng.integers(8, 60))), c, -1)
        else:
            cv2.circle(img, (x, y), int(rng.integers(4, 25)), c, -1)
    return img


def other_view(img: np.ndarray) -> np.ndarray:
    """The same scene from another viewpoint: a perspective warp, smaller, slightly darker."""
    import cv2

    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[w * 0.08, h * 0.05], [w * 0.95, 0], [w * 0.9, h * 0.97], [w * 0.02, h * 0.9]])
    out = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h))
    return cv2.resize((out * 0.85).astype(np.uint8), (int(w * 0.8), int(h * 0.8)))


def test_same_scene_verifies_and_other_scene_does_not():
    a, b, c = (extract_features(x) for x in (scene(1), other_view(scene(1)), scene(2)))
    assert len(a.descriptors) > 200 and a.descriptors.dtype == np.uint8
    _, same = verify(b, a)
    _, diff = verify(b, c)
    assert same >= 3 * MIN_INLIERS and diff < MIN_INLIERS
    again = Features.from_bytes(a.to_bytes())
    assert np.array_equal(again.descriptors, a.descriptors)


def test_index_ranks_the_right_place_first_and_survives_save_load():
    scenes = {f"place{i}": scene(10 + i) for i in range(8)}
    entries = [GalleryEntry(k, 40.0 + i, 30.0 + i, k) for i, k in enumerate(scenes)]
    feats = {k: extract_features(v) for k, v in scenes.items()}
    index = LandmarkIndex.load(LandmarkIndex.build(entries, [feats[e.key] for e in entries]).save())
    query = extract_features(other_view(scenes["place5"]))
    cands = index.match(query, feats.__getitem__)
    top = cands[0]
    assert (top.label, top.lat, top.lon, top.verified) == ("place5", 45.0, 35.0, True)
    assert top.confidence > 0.5 and all(not c.verified for c in cands[1:])
    assert gallery_hash(entries) != gallery_hash(entries[:-1])


def test_real_landmarks_small_gallery(shared_data):
    root = shared_data / "landmarks"
    places = {r["place"]: r for r in csv.DictReader(open(root / "places.csv"))}
    split = list(csv.DictReader(open(root / "split.csv")))
    pick = {"sacre_coeur": 3, "us_capitol": 1, "lund_street": 2, "tower_bridge": 2}
    gal = []
    for r in split:
        if r["role"] == "gallery" and pick.get(r["place"], 0) > 0:
            pick[r["place"]] -= 1
            gal.append(r)
    feats = {r["file"]: extract_features(root / r["file"]) for r in gal}
    entries = [GalleryEntry(r["file"], float(places[r["place"]]["lat"]), float(places[r["place"]]["lon"]),
                            r["place"]) for r in gal]
    index = LandmarkIndex.build(entries, [feats[e.key] for e in entries])
    for query, place in (("images/sacre_coeur/hloc_17295357_9106075285.jpg", "sacre_coeur"),
                         ("images/us_capitol/united_states_capitol_26757027_6717084061.jpg", "us_capitol")):
        shortlisted = [entries[i].label for i, _ in index.shortlist(extract_features(root / query), 3)]
        assert place in shortlisted
        cands = index.match(extract_features(root / query), feats.__getitem__, shortlist=len(entries))
        assert cands[0].label == place and cands[0].verified, [(c.label, c.inliers) for c in cands]
    distractor = extract_features(root / "images/distractors/roma_toronto_A.jpg")
    assert not any(c.verified for c in index.match(distractor, feats.__getitem__, shortlist=len(entries)))


def test_empty_gallery_is_an_error():
    with pytest.raises(OsintError, match="no usable features"):
        LandmarkIndex.build([], [])


def test_relabelling_a_landmark_reuses_its_cached_features(case, tmp_path, monkeypatch):
    import sys

    from osint.geolocate import add_landmarks, gallery

    from tests.conftest import make_photo

    photo = make_photo(tmp_path / "site.jpg", seed=3, size=(640, 480))
    first = add_landmarks(case, [(photo, 50.0, 36.0, "school")])[0]
    assert first.status == "added"
    monkeypatch.setattr(sys.modules["osint.geolocate.gallery"], "extract_features",
                        lambda path: pytest.fail("features must come from the cache"))
    again = add_landmarks(case, [(photo, 50.0, 36.0, "boarding school no. 2")])[0]
    assert (again.status, again.features) == ("updated", first.features) and first.features > 0
    assert [e.label for e, _ in gallery(case)] == ["boarding school no. 2"]


def test_index_answers_do_not_depend_on_what_ran_before_in_the_process() -> None:
    """A landmark result is the same from a freshly built index and from the cached one loaded in another run,
    whatever else drew from OpenCV's random generator before (RANSAC does): the word trees are seeded."""
    import cv2

    photos = [scene(s) for s in range(6)]
    feats = [extract_features(p) for p in photos]
    entries = [GalleryEntry(f"k{i}", 50.0 + i, 30.0, f"place {i}") for i in range(len(feats))]
    query = extract_features(other_view(photos[2]))
    cv2.setRNGSeed(11)
    built = LandmarkIndex.build(entries, feats)
    first = built.shortlist(query, 6)
    for history in (12, 13):
        cv2.setRNGSeed(history)
        cv2.randu(np.zeros((100, 100), np.float32), 0, 1)
        cached = LandmarkIndex.load(built.save())
        assert cached.shortlist(query, 6) == first
        cv2.setRNGSeed(history)
        rebuilt = LandmarkIndex.build(entries, feats)
        assert rebuilt.shortlist(query, 6) == first
        assert np.array_equal(rebuilt.matrix.toarray(), built.matrix.toarray())
