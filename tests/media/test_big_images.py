"""Real photos up to Pillow's decompression-bomb error bound are accepted and analysed; past it, refused."""

from __future__ import annotations

from pathlib import Path

from osint.hashing import hash_case
from osint.ingest import add_paths
from tests.hostile import png_bomb


def big_jpeg(path: Path, width: int, height: int) -> Path:
    """A width x height JPEG of a smooth gradient (cheap to write, still every pixel decoded)."""
    from PIL import Image

    Image.linear_gradient("L").resize((width, height)).save(path, quality=80)
    return path


def test_limit_is_pillows_error_bound() -> None:
    from PIL import Image

    from osint.media.image import MAX_PIXELS

    assert MAX_PIXELS == 2 * Image.MAX_IMAGE_PIXELS == 178_956_970


def test_a_100_megapixel_jpeg_is_added_and_hashed(case, tmp_path: Path) -> None:
    photo = big_jpeg(tmp_path / "scan.jpg", 10_000, 10_000)
    summary = add_paths(case, [photo, png_bomb(tmp_path / "bomb.png")], collector="tester")
    by_name = {Path(o.path).name: o for o in summary.outcomes}
    assert by_name["scan.jpg"].status == "added" and by_name["scan.jpg"].warning is None
    assert by_name["bomb.png"].status == "failed" and "decompression bomb" in str(by_name["bomb.png"].error)
    item = case.items()[0]
    assert (item.width, item.height) == (10_000, 10_000)
    run = hash_case(case)
    assert run.computed == 1 and run.errors == {}
