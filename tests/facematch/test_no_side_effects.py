"""Importing the package loads no model and changes no global library setting (face_recognition's does)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import make_photo

PROBE = """
import sys
import osint, osint.cli, osint.facematch
from osint.facematch import models
loaded = sum(f.cache_info().currsize for f in (models.hog_detector, models.cnn_detector, models.shape_predictor,
                                                models.resnet, models.yunet, models.sface))
heavy = sorted(m for m in ("dlib", "cv2", "face_recognition", "face_recognition_models") if m in sys.modules)
import PIL.ImageFile
print(loaded, heavy, PIL.ImageFile.LOAD_TRUNCATED_IMAGES)
"""


def test_import_loads_no_model_and_leaves_pillow_setting_alone() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "[]", "False"]


def test_analysing_a_photo_leaves_truncated_images_refused(tmp_path) -> None:
    import PIL.ImageFile

    from osint.facematch import analyse_file

    result = analyse_file(make_photo(tmp_path / "a.jpg", seed=3, size=(400, 300)))
    assert result.media_type == "image" and result.faces == []      # generated texture: no face
    assert PIL.ImageFile.LOAD_TRUNCATED_IMAGES is False
