"""Video: one child, one candidate. Faces linked across sampled frames into tracks, matched and listed once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from osint.cli import app
from osint.facematch import FaceSet, link_tracks, match, match_media

runner = CliRunner()


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def synthetic(times: list[float | None], boxes: list[tuple[int, int, int, int]], people: list[int],
              frames: list[int | None] | None = None) -> tuple[FaceSet, np.ndarray]:
    """A video's faces: person p's encodings are a fixed random vector plus a little noise per frame."""
    rng = np.random.default_rng(7)
    base = {m: rng.normal(size=(5, 128)) for m in ("dlib", "sface")}
    scale = {"dlib": 0.06, "sface": 0.04}
    enc = {m: np.stack([base[m][p] / np.linalg.norm(base[m][p]) * (0.6 if m == "dlib" else 1.0)
                        + rng.normal(scale=scale[m] / np.sqrt(128), size=128) for p in people]).astype(np.float32)
           for m in base}
    enc["sface"] = unit(enc["sface"])
    frames = frames or list(range(len(times)))
    entries = [("vid", "video", {"index": i, "t": t, "frame": f, "box": list(b), "quality": 12.0, "crop": None}, None)
               for i, (t, f, b) in enumerate(zip(times, frames, boxes))]
    return FaceSet(entries, enc), np.asarray(people)


def test_two_people_across_frames_make_two_tracks() -> None:
    times = [0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 5.0]
    boxes = [(10, 10, 50, 50), (200, 10, 50, 50), (14, 12, 50, 50), (205, 10, 50, 50), (300, 100, 60, 60),
             (20, 14, 50, 50), (40, 40, 50, 50)]
    people = [0, 1, 0, 1, 1, 0, 0]           # person 1 jumps across the frame at 2 s; person 0 comes back at 5 s
    faces, truth = synthetic(times, boxes, people)
    tracks, of_row = link_tracks(faces, "fused")
    assert len(tracks) == 2
    for t in range(2):
        rows = [r for r, k in of_row.items() if k == t]
        assert len(set(truth[rows])) == 1                     # never two people in one track
    assert sorted(t.faces for t in tracks) == [3, 4] and {(t.start, t.end) for t in tracks} == {(0.0, 5.0), (0.0, 2.0)}
    assert all(len(t.best) <= 3 for t in tracks)


def test_frames_without_time_still_link_and_say_so() -> None:
    faces, _ = synthetic([None, None, None], [(10, 10, 50, 50)] * 3, [2, 2, 2], frames=[0, 25, 50])
    tracks, _ = link_tracks(faces, "fused")
    assert len(tracks) == 1 and tracks[0].start is None and tracks[0].span() == "frames from 0"
    refs = faces.take([0])
    found = match_media(faces, refs, ["P"], model="fused")
    assert len(found) == 1 and found[0].track is not None and "frames from 0" in found[0].track.describe()


def test_a_track_states_the_fmr_of_its_three_chances_and_is_listed_only_within_it() -> None:
    """A stranger's track gets one chance per matched frame: its FMR is 1 - (1 - p)^3 of the closest frame's p,
    and a frame that passes the per-comparison threshold but not the corrected one is not listed."""
    faces, _ = synthetic([0.0, 1.0, 2.0, 3.0], [(10, 10, 50, 50)] * 4, [3, 3, 3, 3])
    refs, _ = synthetic([None], [(0, 0, 50, 50)], [3])
    frame = min(match(faces, refs, ["P"], model="fused", max_fmr=0.05), key=lambda c: c.fmr)
    [track] = match_media(faces, refs, ["P"], model="fused", max_fmr=0.05)
    assert track.track is not None and len(track.track.best) == 3
    assert track.fmr == pytest.approx(1 - (1 - frame.fmr) ** 3) and track.fmr > frame.fmr
    assert "closest of 3 frames" in track.population
    assert match_media(faces, refs, ["P"], model="fused", max_fmr=(frame.fmr + track.fmr) / 2) == []


@pytest.fixture(scope="module")
def clip_case(tmp_path_factory) -> Path:
    """The demo's clip (2 s of a cat, then 2 s of a post showing the reference person) and her reference."""
    from osint.demo import make_inputs

    tmp = tmp_path_factory.mktemp("tracks")
    made = make_inputs(tmp / "in")
    root = tmp / "case"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    clip = made["collected"] / "channel_d" / "clip.mp4"
    assert runner.invoke(app, ["add", str(clip), "--case", str(root)]).exit_code == 0
    assert runner.invoke(app, ["refs", "add", "EC", str(made["reference"]), "--case", str(root)]).exit_code == 0
    return root


def test_video_with_one_person_gives_one_track_candidate(clip_case: Path) -> None:
    res = runner.invoke(app, ["match", "--json", "--every", "0.5", "--workers", "1", "--case", str(clip_case)])
    assert res.exit_code == 0, res.output
    found = json.loads(res.stdout)["candidates"]
    assert len(found) == 1, found                               # not one line per sampled frame
    track = found[0]["track"]
    assert track["faces"] >= 3 and track["start_s"] == pytest.approx(2.0, abs=0.15)
    assert track["end_s"] >= 3.4 and 1 <= len(track["best_frames"]) <= 3
    assert found[0]["frame_time_s"] in [f["frame_time_s"] for f in track["best_frames"]]


def test_review_and_report_show_the_track(clip_case: Path) -> None:
    assert runner.invoke(app, ["match", "--workers", "1", "--case", str(clip_case)]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["review", "list", "--json", "--case", str(clip_case)]).stdout)
    assert len(listed) == 1 and "followed across" in listed[0]["track"] and listed[0]["best_crops"]
    page = clip_case / "r.html"
    assert runner.invoke(app, ["report", "--out", str(page), "--no-thumbnails", "--case", str(clip_case)]).exit_code == 0
    assert listed[0]["track"] in page.read_text()
