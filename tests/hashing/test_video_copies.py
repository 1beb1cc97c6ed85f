"""A re-encoded, trimmed and half-size copy of each real clip links to its source through keyframe hashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from osint.hashing import Thresholds, compare, hash_file

CLIPS = ("hamilton/short_hamilton_clip.mp4", "facenet_pytorch/video.mp4",
         "no_known_faces/MOT20-05-raw_even_shorter.mp4", "no_known_faces/vtest.avi")


def reencode(src: Path, dest: Path, start_s: float, end_cut_s: float, scale: float) -> Path:
    """Another encoding (OpenCV mp4v) of `src` without its first `start_s` and last `end_cut_s` seconds,
    at `scale` of its size."""
    import cv2

    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) * scale) // 2 * 2, int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) * scale) // 2 * 2
    writer = cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    k = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if start_s * fps <= k < total - end_cut_s * fps:
            writer.write(cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA))
        k += 1
    writer.release()
    cap.release()
    return dest


@pytest.mark.slow
@pytest.mark.parametrize("clip", CLIPS)
def test_reencoded_trimmed_rescaled_copy_links_to_its_source(shared_data: Path, tmp_path: Path, clip: str) -> None:
    source = shared_data / "video" / clip
    copy = reencode(source, tmp_path / "copy.mp4", start_s=1.3, end_cut_s=0.7, scale=0.5)
    match = compare(hash_file(source), hash_file(copy), Thresholds())
    assert match.linked, match
    best = match.best()     # keyframes come every second, so a pair may be 0.5 s apart; static shots repeat
    assert best.linked and best.t_a is not None and best.t_b is not None


@pytest.mark.slow
@pytest.mark.parametrize("clip", CLIPS)
def test_vpdq_of_a_reencoded_trimmed_rescaled_copy_matches_its_source(shared_data: Path, tmp_path: Path,
                                                                     clip: str) -> None:
    pytest.importorskip("vpdq")
    from osint.hashing.vpdq import vpdq_hash, vpdq_match

    source = vpdq_hash(shared_data / "video" / clip)
    copy = vpdq_hash(reencode(shared_data / "video" / clip, tmp_path / "copy.mp4", start_s=1.3, end_cut_s=0.7,
                              scale=0.5))
    assert all(len(f.pdq) == 64 for f in source) and len(copy) < len(source)
    match = vpdq_match(source, copy)
    assert match.linked and match.b_percent >= 95, match      # nearly every frame of the copy is in its source
    others = [c for c in CLIPS if c != clip]
    assert not vpdq_match(vpdq_hash(shared_data / "video" / others[0]), copy).linked
