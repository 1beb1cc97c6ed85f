"""Encodings on real press photos, and the shipped calibration table they are read against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from osint.facematch import analyse_file, calibration, distances, fusion_scales, shipped
from osint.facematch.faceset import from_result

PEOPLE = {"Joseph_Biden": ["Joseph_Biden_0001.jpg", "Joseph_Biden_0002.jpg", "Joseph_Biden_0005.jpg"],
          "Kit_Harington": ["fr_train_kit_harington_john1.jpeg", "fr_train_kit_harington_john2.jpeg"],
          "Rose_Leslie": ["fr_train_rose_leslie_img1.jpg", "fr_train_rose_leslie_img2.jpg"],
          "Angelina_Jolie": ["Angelina_Jolie_0003.jpg", "Angelina_Jolie_0004.jpg"]}


@pytest.fixture(scope="module")
def encoded(faces_dir: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    """The largest face of each photo, both models."""
    owners, rows = [], {"dlib": [], "sface": []}
    for person, files in PEOPLE.items():
        for f in files:
            fs = from_result(f, analyse_file(faces_dir / person / f), ("dlib", "sface"))
            assert len(fs) >= 1, f
            owners.append(person)
            for m in rows:
                rows[m].append(fs.enc[m][0])
    return owners, {m: np.asarray(v) for m, v in rows.items()}


@pytest.mark.parametrize("model", ["dlib", "sface", "fused"])
def test_each_photo_is_closest_to_the_same_person(encoded, model: str) -> None:
    owners, enc = encoded
    d = distances(model, enc, enc)
    np.fill_diagonal(d, np.inf)
    nearest = [owners[j] for j in d.argmin(1)]
    assert nearest == owners
    same = np.asarray(owners)[:, None] == np.asarray(owners)[None, :]
    strict = calibration(model).thresholds["0.001"]
    assert (d[~same] > strict).all()                         # no stranger within the 0.1%-FMR threshold


def test_fused_distance_is_the_sum_of_scaled_distances(encoded) -> None:
    _, enc = encoded
    s = fusion_scales()
    fused = distances("fused", enc, enc)
    assert np.allclose(fused, distances("dlib", enc, enc) / s["dlib"] + distances("sface", enc, enc) / s["sface"])


@pytest.mark.parametrize("model", ["dlib", "sface", "fused"])
def test_shipped_table_is_consistent(model: str) -> None:
    cal = calibration(model)
    assert np.all(np.diff(cal.distance) > 0) and np.all(np.diff(cal.fmr) >= 0) and np.all(np.diff(cal.tar) >= 0)
    for fmr, t in cal.thresholds.items():
        assert float(cal.fmr_at(t)) <= float(fmr) * 1.05 + cal.resolution
        assert abs(float(cal.tar_at(t)) - cal.tar_at_fmr[fmr]) < 0.02
    assert cal.fmr_at(0.0) == cal.resolution                   # never claims a zero false-match rate
    assert cal.n_impostor > 1_000_000 and cal.n_genuine > 1_000
    assert shipped()["default_model"] in ("dlib", "sface", "fused")


def test_dlib_reaches_its_published_accuracy_on_press_photos() -> None:
    # faces/SOURCE.md: face_recognition's dlib reaches TAR 0.97 at FAR 0.006 on these pairs
    assert calibration("dlib").tar_at_fmr["0.01"] >= 0.95


def test_dlib_encoding_equals_face_recognition_where_installed(faces_dir: Path) -> None:
    fr = pytest.importorskip("face_recognition")
    from osint.facematch.detect import detect
    from osint.facematch.encode import encode_dlib
    from osint.media import load_image

    path = faces_dir / "Kit_Harington" / "fr_train_kit_harington_john2.jpeg"
    rgb = load_image(path)
    theirs = fr.face_encodings(fr.load_image_file(path), model="small")[0]
    ours = encode_dlib(rgb, detect(rgb, "hog")[0].box)
    assert np.linalg.norm(theirs - ours) < 0.05


def test_flip_averages_a_face_with_its_mirror_and_is_its_own_cache_key(faces_dir: Path) -> None:
    """With flip, a photo and its mirror image encode (nearly) alike, closer than without; the setting
    is part of the stage version, so flipped and unflipped encodings are never mixed in a cache."""
    from osint.facematch.analyse import FaceSettings, faces_in_frame
    from osint.media import load_image

    rgb = load_image(faces_dir / "Joseph_Biden" / "Joseph_Biden_0001.jpg")
    gap = {}
    for flip in (False, True):
        settings = FaceSettings(flip=flip)
        enc = []
        for img in (rgb, np.ascontiguousarray(rgb[:, ::-1])):
            rows: dict[str, list[np.ndarray]] = {"dlib": [], "sface": []}
            faces = faces_in_frame(img, settings, rows=rows)
            central = min((f for f in faces if f.row is not None), key=lambda f: abs(f.box[0] + f.box[2] / 2 - img.shape[1] / 2))
            enc.append({m: np.asarray(rows[m][central.row])[None] for m in rows})
            assert abs(np.linalg.norm(enc[-1]["sface"]) - 1) < 1e-5
        gap[flip] = {m: float(distances(m, enc[0], enc[1])[0, 0]) for m in ("dlib", "sface")}
    assert all(gap[True][m] < gap[False][m] * 0.85 for m in ("dlib", "sface")), gap   # measured: 0.49, 0.77
    assert FaceSettings(flip=True).version() == FaceSettings().version() + " flip"


def test_dlib68_landmarks_align_sface_like_yunets_and_are_their_own_cache_key(faces_dir: Path) -> None:
    """dlib's 68 landmarks give the same 5 points as YuNet in its order (each within a tenth of the face's
    width), SFace aligned on either encodes the face alike (far within the 0.1%-FMR threshold, but not
    identically), and the setting is part of the stage version with the 68-point model's hash."""
    from osint.facematch import models
    from osint.facematch.analyse import FaceSettings
    from osint.facematch.detect import detect
    from osint.facematch.encode import dlib68_landmarks, dlib_box, encode
    from osint.media import load_image

    rgb = load_image(faces_dir / "Joseph_Biden" / "Joseph_Biden_0001.jpg")
    det = max(detect(rgb), key=lambda d: d.box[2])
    ours = np.asarray(dlib68_landmarks(rgb, dlib_box(det, "yunet")))
    assert det.landmarks is not None
    assert np.abs(ours - np.asarray(det.landmarks)).max() < 0.1 * det.box[2]
    assert ours[0, 0] < ours[1, 0] and ours[3, 0] < ours[4, 0] and ours[1, 1] < ours[2, 1] < ours[3, 1]
    enc = {m: {"sface": encode(rgb, det, "yunet", "sface", marks=m)[0]["sface"][None]} for m in ("yunet", "dlib68")}
    d = float(distances("sface", enc["yunet"], enc["dlib68"])[0, 0])
    assert 1e-4 < d < calibration("sface").thresholds["0.001"] / 2, d
    version = FaceSettings(marks="dlib68").version()
    assert version != FaceSettings().version() and f"sp68={models.model_hash('sp68')}" in version
    with pytest.raises(ValueError, match="landmarks"):
        FaceSettings(marks="nose")
