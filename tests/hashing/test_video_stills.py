"""A still cut from a video between keyframes links to the video at its frame; `dupes`, the report and
`evidence export --group` see the same groups; another scene does not link; a video that does not decode is one
error line and the rest goes on. Generated videos only (always run)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from osint.case import Case
from osint.hashing import VideoLocal, video_local
from osint.media.video import frames_between, sample_frames
from tests.conftest import cli_on

FPS, FRAMES, WIDTH, HEIGHT, STEP_PX = 10, 30, 320, 240, 6
STILL = 15      # keyframes at 0, 10 and 20 (one a second): frame 15 lies between two


def _rgb(name: str) -> np.ndarray:
    rgb = getattr(skimage.data, name)()
    return np.stack([rgb] * 3, -1) if rgb.ndim == 2 else rgb[..., :3]


def _moving_video(path: Path, name: str = "astronaut") -> Path:
    """A still camera on a picture while another picture (a patch) slides across it, STEP_PX pixels a frame: every
    frame differs from its neighbours, and no crop of one frame is another frame's content."""
    import cv2

    back = np.asarray(Image.fromarray(_rgb(name)).resize((WIDTH, HEIGHT)))
    patch = np.asarray(Image.fromarray(_rgb("rocket")).resize((80, 60)))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for i in range(FRAMES):
        frame = back.copy()
        x, y = 20 + STEP_PX * i, 60 + i
        frame[y:y + 60, x:x + 80] = patch
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _new_case(folder: Path):  # type: ignore[no-untyped-def]
    """An empty case at `folder` and `osint ARGS -C folder` on it."""
    from typer.testing import CliRunner

    from osint.cli import app

    assert CliRunner().invoke(app, ["init", str(folder)]).exit_code == 0
    return cli_on(folder)


def _still(video: Path, index: int, dest: Path, crop: float = 0.0) -> Path:
    """Frame `index` of the video as decoded, cropped by `crop` of each side's length, saved as a JPEG."""
    frame = next(f for f in frames_between(video, 0.0, 10.0) if f.index == index)
    im = Image.fromarray(frame.image)
    w, h = im.size
    im.crop((int(w * crop / 2), int(h * crop / 3), int(w * (1 - crop / 2)), int(h * (1 - crop * 2 / 3)))).save(
        dest, quality=85)
    return dest


def test_frames_between_gives_the_times_and_indices_sample_frames_gives(tmp_path: Path) -> None:
    video = _moving_video(tmp_path / "moving.mp4")
    keys = {f.index: f.t for f in sample_frames(video, every_s=1.0)}
    assert sorted(keys) == [0, 10, 20]
    between = list(frames_between(video, keys[10], keys[20]))
    assert [f.index for f in between] == list(range(10, 21))
    assert between[0].t == keys[10] and between[-1].t == keys[20]
    assert between[5].t == pytest.approx(1.5, abs=0.01)


def test_keyframe_features_round_trip(tmp_path: Path) -> None:
    got = video_local(_moving_video(tmp_path / "moving.mp4"))
    back = VideoLocal.from_bytes(got.to_bytes())
    assert back.t == got.t and back.index == (0, 10, 20)
    assert all(np.array_equal(a.features.descriptors, b.features.descriptors) and a.jpeg == b.jpeg
               and a.full == b.full == (WIDTH, HEIGHT) for a, b in zip(got.frames, back.frames))


def test_a_still_cut_between_keyframes_links_at_its_frame_in_dupes_similar_report_and_evidence(
        tmp_path: Path) -> None:
    from osint.evidence.select import select_items
    from osint.report.collect import duplicate_groups

    video = _moving_video(tmp_path / "moving.mp4")
    still = _still(video, STILL, tmp_path / "still.jpg", crop=0.25)
    other = tmp_path / "other.jpg"
    Image.fromarray(_rgb("coffee")).resize((WIDTH, HEIGHT)).save(other, quality=85)
    folder = tmp_path / "case"
    osint = _new_case(folder)
    osint("add", str(video), str(still), str(other))
    with Case.open(folder) as case:
        sha = {Path(a.original_path).name: it.sha256 for it in case.items(role=None) for a in case.acquisitions(it.sha256)}

    out = json.loads(osint("dupes", "--json", "-w", "1").stdout)
    assert len(out["groups"]) == 1
    group = out["groups"][0]
    assert {m["sha256"] for m in group["members"]} == {sha["moving.mp4"], sha["still.jpg"]}
    assert not any(p["linked"] for p in group["pairs"])          # no hash links the crop: the local link does
    link = group["local_links"][0]
    assert (link["a"], link["b"]) == (sha["moving.mp4"], sha["still.jpg"])
    assert link["frame_a"] == STILL and link["t_a"] == pytest.approx(1.5, abs=0.01)
    assert link["inliers"] >= 20 and not link["mirror"] and "frame 15 at 1.500 s" in link["why"]
    assert link["box_a"][0] == pytest.approx(0.125, abs=0.02) and link["box_a"][2] == pytest.approx(0.875, abs=0.02)
    table = osint("dupes", "-w", "1").stdout
    assert "frame 15 at 1.500 s" in table

    found = json.loads(osint("similar", str(still), "--json", "-w", "1").stdout)
    at = [m for m in found["local_matches"] if m["a"] == sha["moving.mp4"]]
    assert len(at) == 1 and at[0]["frame_a"] == STILL
    assert "frame 15" in osint("similar", str(still), "-w", "1").stdout

    with Case.open(folder) as case:
        notes: list[str] = []
        groups = duplicate_groups(case, None, notes)
        assert [{m.item for m in g.members} for g in groups] == [{sha["moving.mp4"], sha["still.jpg"]}]
        local = [lk for lk in groups[0].links if lk.algorithm == "local features"]
        assert len(local) == 1 and local[0].t_a == pytest.approx(1.5, abs=0.01) and local[0].unit == "inliers"
        chosen = select_items(case, group=sha["still.jpg"][:12])
        assert {it.sha256 for it in chosen.items} == {sha["moving.mp4"], sha["still.jpg"]}
        assert {it.sha256 for it in select_items(case, group=sha["other.jpg"][:12]).items} == {sha["other.jpg"]}


def test_a_still_of_another_scene_does_not_link(tmp_path: Path) -> None:
    from osint.hashing import local_features, video_links

    video = _moving_video(tmp_path / "moving.mp4")
    own = _still(video, STILL, tmp_path / "own.jpg")
    other = _still(_moving_video(tmp_path / "other.mp4", "chelsea"), STILL, tmp_path / "other.jpg")
    keyframes = {"moving": video_local(video)}
    links = video_links({"own": local_features(own), "other": local_features(other)}, keyframes, lambda _: video)
    assert [(lk.a, lk.b, lk.frame_a) for lk in links] == [("moving", "own", STILL)]


def test_a_video_that_does_not_decode_is_one_error_line_and_the_rest_links(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    from osint import media
    from osint.errors import CorruptMedia

    video = _moving_video(tmp_path / "moving.mp4")
    _still(video, STILL, tmp_path / "still.jpg", crop=0.25)
    zero = cv2.VideoWriter(str(tmp_path / "zero.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    zero.release()                                        # a video with no frame at all
    (tmp_path / "cut.mp4").write_bytes(video.read_bytes()[:2000])        # an MP4's first bytes, nothing decodes
    _moving_video(tmp_path / "damaged.mp4", "chelsea")
    folder = tmp_path / "case"
    osint = _new_case(folder)
    added = osint("add", *(str(tmp_path / n) for n in ("moving.mp4", "still.jpg", "zero.mp4", "cut.mp4",
                                                         "damaged.mp4")), code=1)
    assert [line.count("zero.mp4") + line.count("cut.mp4") for line in added.stderr.splitlines()
            if "mp4" in line] == [1, 1], added.stderr                   # ingest: one line each, the rest added
    with Case.open(folder) as case:
        gone = case.object_path(next(it.sha256 for it in case.items(role=None)
                                     for a in case.acquisitions(it.sha256) if a.original_path.endswith("damaged.mp4")))
    real = media.sample_frames

    def failing(path: Path | str, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        if Path(path) == gone:   # stored, then stops decoding (a disk error): what ingest cannot catch
            raise CorruptMedia("video has no decodable frame")
        return real(path, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(media, "sample_frames", failing)
    result = osint("dupes", "--json", "-w", "1", code=1)
    lines = [line for line in result.stderr.splitlines() if "damaged.mp4" in line]
    assert len(lines) == 1 and "no decodable frame" in lines[0], result.stderr
    groups = json.loads(result.stdout)["groups"]
    assert len(groups) == 1 and groups[0]["local_links"][0]["frame_a"] == STILL
