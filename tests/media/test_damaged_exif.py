"""Damaged EXIF never stops analysis: photos whose metadata is broken are still hashed, face-scanned and
matched (as stored, with a warning), and a toolkit error is never cached as an item's result."""

from __future__ import annotations

import json
import random
import re
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from osint.cli import app
from osint.facematch import scan_case
from osint.hashing import hash_case
from osint.ingest import add_paths
from tests.conftest import cli_on, make_photo
from tests.hostile import broken_tiff_header, exif_span, mutate_exif

runner = CliRunner()
FUZZ_SEED = 16
REAL_SAMPLE = 40        # real camera photos mutated per run (bounded: each is decoded and face-scanned)
GENERATED = 24          # generated JPEGs with a full EXIF block, so the fuzz always runs


def exif_jpeg(path: Path, seed: int, orientation: int = 6) -> Path:
    """A generated photo with a camera-like EXIF block (make, model, orientation, date, GPS)."""
    from PIL import Image

    make_photo(path, seed=seed, size=(320, 240))
    im = Image.open(path)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112], exif[0x0132] = "Canon", "EOS 5D", orientation, "2024:05:14 10:00:00"
    exif.get_ifd(0x8825).update({1: "N", 2: (50.0, 27.0, 0.0), 3: "E", 4: (30.0, 31.0, 0.0)})
    buf = BytesIO()
    im.save(buf, "JPEG", quality=90, exif=exif.tobytes(), dpi=(72, 72))  # a density in JFIF, as cameras write
    path.write_bytes(buf.getvalue())
    return path


def real_jpegs(shared: Path) -> list[Path]:
    """Real camera JPEGs with an EXIF block whose pixels decode (the set's intentionally broken files are out)."""
    from osint.media import load_image

    good = []
    for path in sorted((shared / "exif").rglob("*.jp*g")):
        if exif_span(path.read_bytes()) is None:
            continue
        try:
            load_image(path, max_side=64)
        except Exception:  # noqa: BLE001 - the set holds files broken on purpose; only sound pixels are fuzzed
            continue
        good.append(path)
    return good


def assert_all_analysed(case, paths: list[Path]) -> None:
    """Every file was added, hashed and face-scanned: a result, never an error, for each stage."""
    summary = add_paths(case, paths, collector="tester")
    assert summary.failed == 0, [o for o in summary.outcomes if o.status == "failed"]
    items = case.items()
    assert len(items) == len({p.read_bytes() for p in paths})
    hashed = hash_case(case)
    faces = scan_case(case)
    assert hashed.errors == {} and faces.errors == {}
    for stage in ("hash", "faces"):
        results = {r.sha256: r for r in case.results(stage)}
        assert all(results[it.sha256].error is None and results[it.sha256].data for it in items), stage


def test_fuzzed_exif_of_generated_photos_is_still_hashed_and_face_scanned(case, tmp_path: Path) -> None:
    rng = random.Random(FUZZ_SEED)
    paths = []
    for i in range(GENERATED):
        clean = exif_jpeg(tmp_path / "clean" / f"{i}.jpg", seed=i).read_bytes()
        damaged = broken_tiff_header(clean) if i % 4 == 0 else mutate_exif(clean, rng)
        target = tmp_path / "in" / f"{i}.jpg"
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(damaged)
        paths.append(target)
    assert_all_analysed(case, paths)


def test_fuzzed_exif_of_real_camera_photos_is_still_hashed_and_face_scanned(case, tmp_path: Path,
                                                                           shared_data: Path) -> None:
    rng = random.Random(FUZZ_SEED)
    sources = rng.sample(real_jpegs(shared_data), REAL_SAMPLE)
    paths = []
    for i, source in enumerate(sources):
        target = tmp_path / "in" / f"{i}-{source.name}"
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(mutate_exif(source.read_bytes(), rng))
        paths.append(target)
    assert_all_analysed(case, paths)


def test_broken_tiff_header_is_analysed_as_stored_with_a_warning(tmp_path: Path) -> None:
    from osint.media import load_image, probe

    good = exif_jpeg(tmp_path / "good.jpg", seed=3, orientation=6)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(broken_tiff_header(good.read_bytes()))
    assert load_image(good).shape == (320, 240, 3)       # orientation 6 read and applied: upright
    assert load_image(bad).shape == (240, 320, 3)        # unreadable: as stored
    info = probe(bad)
    assert info.metadata_error and "orientation unreadable" in info.metadata_error
    assert probe(good).metadata_error is None


def test_png_and_webp_without_exif_are_not_called_damaged(tmp_path: Path) -> None:
    from PIL import Image

    from osint.media import probe

    for suffix in ("png", "webp"):
        Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(tmp_path / f"x.{suffix}")
        assert probe(tmp_path / f"x.{suffix}").metadata_error is None


def test_a_toolkit_error_is_reported_but_not_cached(case, tmp_path: Path) -> None:
    from osint.pipeline import run_stage

    add_paths(case, [make_photo(tmp_path / "a.jpg")], collector="tester")
    items = case.items()

    def broken(path: Path) -> dict:
        raise TypeError("required argument is not an integer")

    first = run_stage(case, "probe-stage", "v1", broken, items)
    assert list(first.errors.values()) == ["not stored, retried on the next run: TypeError: required argument "
                                           "is not an integer"]
    assert case.results("probe-stage") == []
    fixed = run_stage(case, "probe-stage", "v1", lambda p: {"ok": True}, items)
    assert fixed.computed == 1 and fixed.errors == {}


def astronaut(size: int) -> "np.ndarray":
    import skimage

    from PIL import Image

    im = Image.open(Path(skimage.__file__).parent / "data" / "astronaut.png").convert("RGB")
    return np.asarray(im.resize((size, size)))


def test_child_reference_and_photo_with_damaged_exif_are_matched_and_reported(tmp_path: Path) -> None:
    """A reference face and a collected photo, both with an unreadable EXIF block: the person is a
    candidate in `match`, and the report holds that candidate (not 'no analysed faces')."""
    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    for name, rgb in (("ref.jpg", astronaut(420)),
                      ("post.jpg", np.concatenate([astronaut(300), np.full((300, 200, 3), 200, np.uint8)], 1))):
        exif = Image.Exif()
        exif[0x0112] = 6
        buf = BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=92, exif=exif.tobytes(), dpi=(72, 72))
        (folder / name).write_bytes(broken_tiff_header(buf.getvalue()))
    root = tmp_path / "case"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0

    osint = cli_on(root)

    added = osint("add", str(folder / "post.jpg"))
    assert "orientation unreadable" in added.output
    osint("hash")
    osint("faces", "scan", "--workers", "1")
    osint("refs", "add", "UA-0001", str(folder / "ref.jpg"), "--name", "Child A", "--born", "2012")
    candidates = json.loads(osint("match", "--json").stdout)["candidates"]
    assert [c["person"] for c in candidates if c["rank"] == 1] == ["UA-0001"]
    out = tmp_path / "r.html"
    osint("report", "--out", str(out), "--no-thumbnails")
    doc = json.loads(re.search(r'id="report-data">(.*?)</script>', out.read_text(), re.S).group(1))
    assert not any("no analysed faces" in n for n in doc["notes"])
    assert json.dumps(doc).count("UA-0001") >= 1


def with_exif_of(face_jpeg: bytes, camera_jpeg: bytes) -> bytes:
    """`face_jpeg` carrying the (already mutated) EXIF segment of a real camera photo, right after SOI."""
    start, end = exif_span(camera_jpeg) or (0, 0)
    segment = camera_jpeg[start - 10:end]                      # marker, length, "Exif\0\0", TIFF block
    return face_jpeg[:2] + segment + face_jpeg[2:]


def test_faces_under_mutated_real_camera_exif_are_matched_and_reported(tmp_path: Path, shared_data: Path) -> None:
    """Six collected photos of one face, each carrying the mutated EXIF of a different real camera photo, and
    a reference with another: every one is a candidate for the person, and the report names no item as unsearched."""
    from PIL import Image

    rng = random.Random(FUZZ_SEED)
    cameras = rng.sample(real_jpegs(shared_data), 7)
    folder = tmp_path / "in"
    folder.mkdir()
    for i, camera in enumerate(cameras):
        rgb = astronaut(420) if i == 0 else np.concatenate([astronaut(300), np.full((300, 40 * i, 3), 30 * i, np.uint8)], 1)
        buf = BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=92, dpi=(72, 72))
        (folder / ("ref.jpg" if i == 0 else f"post{i}.jpg")).write_bytes(
            with_exif_of(buf.getvalue(), mutate_exif(camera.read_bytes(), rng)))
    root = tmp_path / "case"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0

    osint = cli_on(root)

    osint("add", *(str(folder / f"post{i}.jpg") for i in range(1, 7)))
    osint("hash")
    osint("refs", "add", "UA-0001", str(folder / "ref.jpg"), "--name", "Child A", "--born", "2012")
    found = json.loads(osint("match", "--json").stdout)
    assert found["not_analysed"] == []
    assert len({c["item"] for c in found["candidates"] if c["person"] == "UA-0001" and c["rank"] == 1}) == 6
    out = tmp_path / "r.html"
    osint("report", "--out", str(out), "--no-thumbnails")
    doc = json.loads(re.search(r'id="report-data">(.*?)</script>', out.read_text(), re.DOTALL).group(1))
    assert not any("not analysed" in n or "no analysed faces" in n for n in doc["notes"])
    assert len({c["item"] for c in doc["candidates"] if c["person"] == "UA-0001"}) == 6


@pytest.fixture(autouse=True)
def _quiet_numpy() -> None:
    np.seterr(all="ignore")
