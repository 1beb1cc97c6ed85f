"""Ingest: originals kept byte for byte, deduplicated by content, and every bad input reported per file."""

from __future__ import annotations

import builtins
import os
import shutil
import time
from pathlib import Path

import pytest

from osint.case import Case, file_sha256
from osint.ingest import add_paths
from tests.conftest import make_photo
from tests.hostile import hostile_exif_jpeg, jpeg_bytes, png_bad_crc, png_bomb


def _outcome(summary, name: str):
    return next(o for o in summary.outcomes if Path(o.path).name == name)


def test_originals_are_stored_unchanged_and_read_only(case: Case, tmp_path: Path) -> None:
    src = make_photo(tmp_path / "in" / "a.jpg", seed=1)
    summary = add_paths(case, [src], collector="volunteer-17", source_url="https://t.me/x", note="n")
    item = case.items()[0]
    stored = case.object_path(item.sha256)
    assert summary.as_dict()["added"] == 1
    assert stored.read_bytes() == src.read_bytes()
    assert item.sha256 == file_sha256(src)
    assert not os.stat(stored).st_mode & 0o222
    acq = case.acquisitions(item.sha256)[0]
    assert (acq.collector, acq.source_url, acq.note) == ("volunteer-17", "https://t.me/x", "n")
    assert acq.original_path == str(src.absolute())
    assert item.metadata["width"] == 320 and item.media_type == "image" and item.format == "jpeg"


def test_same_bytes_twice_is_one_item_with_two_acquisitions(case: Case, tmp_path: Path) -> None:
    a = make_photo(tmp_path / "one" / "a.jpg", seed=3)
    b = tmp_path / "two" / "renamed.png"  # the extension lies; content decides
    b.parent.mkdir()
    shutil.copy(a, b)
    first = add_paths(case, [tmp_path / "one", tmp_path / "two"], collector="v")
    again = add_paths(case, [tmp_path / "one", tmp_path / "two"], collector="v")
    assert first.as_dict()["added"] == 1 and first.as_dict()["new-source"] == 1
    assert again.as_dict()["already"] == 2
    assert len(case.items()) == 1 and len(case.acquisitions()) == 2
    assert [e.action for e in case.custody()] == ["init", "add", "add"]


def test_media_recognised_by_content_not_name(case: Case, tmp_path: Path) -> None:
    src = tmp_path / "photo.dat"
    src.write_bytes(jpeg_bytes(5))
    notes = tmp_path / "notes.txt"
    notes.write_text("collected from channel x\n")
    summary = add_paths(case, [src, notes], collector="v")
    assert _outcome(summary, "photo.dat").status == "added"
    assert _outcome(summary, "notes.txt").status == "skipped"
    assert "text" in _outcome(summary, "notes.txt").error
    assert summary.failed == 0


def test_every_bad_input_is_one_error_and_the_batch_goes_on(case: Case, tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "empty.jpg").write_bytes(b"")
    good = jpeg_bytes(1)
    (d / "truncated.jpg").write_bytes(good[: len(good) // 2])
    png_bad_crc(d / "badcrc.png")
    png_bomb(d / "bomb.png")
    (d / "text.jpg").write_text("this is not a photo\n" * 10)
    os.symlink(d / "loop_b", d / "loop_a")
    os.symlink(d / "loop_a", d / "loop_b")
    make_photo(d / "zz_good.jpg", seed=9)

    summary = add_paths(case, [d], collector="v")
    reasons = {Path(o.path).name: (o.status, o.error or "") for o in summary.outcomes}
    assert reasons["empty.jpg"][0] == "failed" and "empty" in reasons["empty.jpg"][1]
    assert reasons["truncated.jpg"][0] == "failed" and "truncated" in reasons["truncated.jpg"][1]
    assert reasons["badcrc.png"][0] == "failed" and "checksum" in reasons["badcrc.png"][1]
    assert reasons["bomb.png"][0] == "failed" and "bomb" in reasons["bomb.png"][1]
    assert reasons["text.jpg"][0] == "failed" and "named .jpg" in reasons["text.jpg"][1]
    assert reasons["loop_a"] == reasons["loop_b"] == ("failed", "symbolic link loop")
    assert reasons["zz_good.jpg"][0] == "added"
    assert summary.failed == 7
    assert len(case.items()) == 1  # nothing half-stored
    assert list((case.root / "tmp").iterdir()) == []
    assert len(list((case.root / "objects").rglob("*"))) == 2  # one folder, one file


def test_hostile_exif_is_recorded_and_the_picture_still_stored(case: Case, tmp_path: Path) -> None:
    path = hostile_exif_jpeg(tmp_path / "hostile.jpg")
    started = time.monotonic()
    summary = add_paths(case, [path], collector="v")
    assert time.monotonic() - started < 10
    outcome = summary.outcomes[0]
    assert outcome.status == "added"
    item = case.items()[0]
    assert item.metadata_error, "the damaged EXIF must be reported, not silently dropped"
    for symptom in ("loop", "unknown type 99", "past the end"):
        assert symptom in item.metadata_error
    assert outcome.warning == item.metadata_error
    assert all(len(v) <= 512 for v in item.metadata.get("exif", {}).values())


def test_unreadable_file(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = make_photo(tmp_path / "locked.jpg", seed=2)
    if os.geteuid() == 0:  # root reads anything: simulate the refusal the OS gives everyone else
        real_open = builtins.open

        def refusing_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
            if Path(file) == locked:
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", refusing_open)
    else:
        locked.chmod(0)
    summary = add_paths(case, [locked], collector="v")
    assert summary.outcomes[0].status == "failed"
    assert summary.outcomes[0].error == "permission denied"


def test_file_that_disappears_mid_run(case: Case, tmp_path: Path) -> None:
    d = tmp_path / "in"
    for i in range(3):
        make_photo(d / f"{i}.jpg", seed=i)

    def vanish(outcome) -> None:  # type: ignore[no-untyped-def]
        if Path(outcome.path).name == "0.jpg":
            (d / "1.jpg").unlink()

    summary = add_paths(case, [d], collector="v", on_file=vanish)
    assert [o.status for o in summary.outcomes] == ["added", "failed", "added"]
    assert "disappeared" in summary.outcomes[1].error


def test_real_camera_photos(case: Case, shared_data: Path) -> None:
    """Every photo of the shared EXIF set that decodes is stored; the known-broken ones are reported."""
    summary = add_paths(case, [shared_data / "exif"], collector="v")
    counts = summary.as_dict()
    assert counts["added"] + counts["failed"] == 104
    assert counts["skipped"] == 3  # SOURCE.md, exiftool.json, gps.csv
    for o in summary.outcomes:
        if o.status == "added":
            assert case.object_path(o.sha256).read_bytes() == Path(o.path).read_bytes()
    heic = [i for i in case.items() if i.format == "heif"]
    assert len(heic) >= 5 and all(i.width and i.height for i in heic)
    assert case.verify().ok


def test_videos_are_probed(case: Case, shared_data: Path) -> None:
    clip = shared_data / "video" / "hamilton" / "short_hamilton_clip.mp4"
    add_paths(case, [clip], collector="v")
    item = case.items(media_type="video")[0]
    assert item.format == "mp4" and (item.width, item.height) == (640, 360)
    assert item.metadata["frame_count"] == 275  # ffprobe: 275 frames at 29.97 fps (the audio runs to 10.01 s)
    assert item.metadata["duration_s"] == pytest.approx(275 / 29.97, abs=0.01)
    assert item.metadata["fps"] == pytest.approx(29.97, abs=0.01)
    assert item.metadata["codec"] == "h264"


def test_a_damaged_png_is_named_by_its_input_path_not_the_cases_partial_copy(case, tmp_path: Path) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, "PNG")
    data = buf.getvalue()
    bad = tmp_path / "bad.png"
    bad.write_bytes(data[:40] + b"\0" * 20 + data[60:])
    outcome = add_paths(case, [bad], collector="t").outcomes[0]
    assert outcome.status == "failed" and ".part" not in str(outcome.error)
    assert str(case.root / "tmp") not in str(outcome.error)
    assert str(bad) in str(outcome.error)
