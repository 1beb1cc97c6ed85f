"""Detection on real group photos with dlib's hand-drawn boxes: recall, large photos, small faces."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from osint.facematch import FaceSettings, detect, faces_in_frame
from osint.facematch.detect import DETECTORS, working_scale
from osint.media import load_image

PHOTOS = ["images/_multi/dlib_2008_007676.jpg", "images/_multi/dlib_2008_004176.jpg",
          "images/_multi/dlib_2007_007763.jpg"]


@pytest.fixture(scope="module")
def labelled(shared_data: Path) -> dict[str, tuple[np.ndarray, list[tuple[int, int, int, int]]]]:
    boxes = defaultdict(list)
    for r in csv.DictReader(open(shared_data / "faces" / "multi_face_boxes.csv")):
        boxes[r["file"]].append(tuple(int(r[k]) for k in ("left", "top", "width", "height")))
    return {f: (load_image(shared_data / "faces" / f), boxes[f]) for f in PHOTOS}


def hits(truth: list, boxes: list, scale: float = 1.0) -> int:
    """Labelled faces with a detection centred on them and 0.5-2x as wide."""
    n = 0
    for tx, ty, tw, th in (tuple(v * scale for v in t) for t in truth):
        n += any(abs(x + w / 2 - tx - tw / 2) < tw / 2 and abs(y + h / 2 - ty - th / 2) < 0.6 * th
                 and 0.5 < w / tw < 2 for x, y, w, h in boxes)
    return n


@pytest.mark.parametrize("detector", ["yunet", "hog"])
def test_detectors_find_the_hand_labelled_children(labelled, detector: str) -> None:
    total = sum(len(t) for _, t in labelled.values())
    found = sum(hits(t, [d.box for d in detect(img, detector)]) for img, t in labelled.values())
    assert found >= total - 1, f"{detector} found {found} of {total}"


def test_large_photo_is_detected_on_a_reduced_copy_and_boxes_map_back(labelled) -> None:
    import cv2

    img, truth = labelled[PHOTOS[0]]
    big = cv2.resize(img, None, fx=7, fy=7, interpolation=cv2.INTER_CUBIC)       # 3500 x 2338: 8 MP
    assert working_scale(*big.shape[:2], DETECTORS["yunet"]) < 0.8
    boxes = [d.box for d in detect(big)]
    assert hits(truth, boxes, 7.0) == hits(truth, [d.box for d in detect(img)]) == len(truth)


def test_faces_too_small_to_encode_are_reported_not_dropped(labelled) -> None:
    import cv2

    img, truth = labelled[PHOTOS[0]]
    small = cv2.resize(img, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)   # faces ~17-24 px
    found = faces_in_frame(small, FaceSettings(detector="yunet"))
    too_small = [f for f in found if f.status == "too_small"]
    assert len(found) >= len(truth) - 1                      # found by upsampling the small image
    assert too_small and all(f.row is None and f.box[2] < 20 for f in too_small)
    assert all(f.status == "ok" and f.row is not None for f in found if f.box[2] >= 20)


def test_hog_faces_get_sface_landmarks_and_encode_like_yunet_faces(shared_data: Path) -> None:
    from osint.facematch import distances

    rgb = load_image(shared_data / "faces" / "images" / "_multi" / "fr_two_people.jpg")
    enc = {}
    for detector in ("yunet", "hog"):
        rows: dict = {"dlib": [], "sface": []}
        found = faces_in_frame(rgb, FaceSettings(detector=detector), rows=rows)
        assert [f.status for f in found] == ["ok", "ok"]
        enc[detector] = {m: np.asarray(v) for m, v in rows.items()}
    for model in ("dlib", "sface"):
        d = distances(model, enc["yunet"], enc["hog"])
        assert (d.min(1) < 0.15).all() and (d.max(1) > 0.6).all()   # each face finds itself, not the other
