"""Robustness harness for every hash: small edits stay close, distinct pictures stay far, hex is exact."""

from __future__ import annotations

from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageOps

from osint.errors import CorruptMedia, UnsupportedMedia
from osint.hashing import (ALGORITHMS, BITS, DIHEDRAL, MediaHashes, Thresholds, bits_to_hex, compare, hash_file,
                           hash_picture, hex_to_bits, pdq, to_words)
from osint.hashing.hashes import content_boxes

LIMITS = Thresholds()


def _edit(src: Path, dest: Path, scale: float, quality: int) -> Path:
    im = Image.open(src)
    im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BICUBIC).save(dest, quality=quality)
    return dest


def _distance(a: MediaHashes, b: MediaHashes, algorithm: str) -> int:
    return next(e.distance for e in compare(a, b, LIMITS).evidence if e.algorithm == algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_small_resize_and_recompress_stay_within_threshold(photos: list[Path], tmp_path: Path, algorithm: str) -> None:
    for k, src in enumerate(photos):
        for scale, quality in ((0.8, 70), (0.5, 50), (1.3, 90)):
            copy = _edit(src, tmp_path / f"copy{k}_{scale}_{quality}.jpg", scale, quality)
            assert _distance(hash_file(src), hash_file(copy), algorithm) <= LIMITS.of(algorithm), (src, scale)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_distinct_pictures_stay_beyond_threshold(photos: list[Path], algorithm: str) -> None:
    hashes = [hash_file(p) for p in photos]
    for i in range(len(hashes)):
        for j in range(i + 1, len(hashes)):
            assert _distance(hashes[i], hashes[j], algorithm) > LIMITS.of(algorithm)


def test_real_photos_small_edits_close_distinct_far(shared_data: Path, tmp_path: Path) -> None:
    files = sorted((shared_data / "landmarks" / "images" / "sacre_coeur").glob("*.jpg"))[:5]
    originals = [hash_file(p) for p in files]
    for k, src in enumerate(files):
        copy = hash_file(_edit(src, tmp_path / f"c{k}.jpg", 0.6, 60))
        match = compare(originals[k], copy, LIMITS)
        assert all(e.linked for e in match.evidence), match
        for j, other in enumerate(originals):
            if j != k:
                assert not compare(other, copy, LIMITS).linked


def test_hex_round_trips_exactly(photos: list[Path]) -> None:
    for p in photos:
        frame = hash_file(p).frames[0]
        for algorithm in ALGORITHMS:
            text = getattr(frame, algorithm)
            assert len(text) == BITS[algorithm] // 4
            assert bits_to_hex(hex_to_bits(text)) == text
            assert int(text, 16) == int("".join(f"{w:016x}" for w in to_words([text], BITS[algorithm])[0]), 16)
        assert str(imagehash.hex_to_hash(frame.phash)) == frame.phash
        assert MediaHashes.from_plain({"media_type": "image", "frames": [frame.__dict__]}).frames[0] == frame


def test_pdq_variants_are_the_hashes_of_the_transformed_picture(photos: list[Path]) -> None:
    rgb = np.asarray(Image.open(photos[0]).convert("RGB"))
    variants, quality = pdq(rgb)
    assert quality > 50
    made = {"identity": rgb, "mirror": rgb[:, ::-1], "flip": rgb[::-1], "rotate180": np.rot90(rgb, 2),
            "transpose": rgb.transpose(1, 0, 2), "rotate90": np.rot90(rgb, -1), "rotate270": np.rot90(rgb, 1),
            "transverse": np.rot90(rgb, 2).transpose(1, 0, 2)}
    for name, picture in made.items():
        own = pdq(picture)[0][0]
        # the reference's box filter is not centred, so a variant is close to, not always equal to, the hash
        # of the transformed picture; every other variant is far
        distances = [int((own != v).sum()) for v in variants]
        assert int(np.argmin(distances)) == DIHEDRAL.index(name) and min(distances) <= 16, (name, distances)
        assert int((own != variants[0]).sum()) > 60 or name == "identity"


def test_mirrored_and_rotated_reposts_link_through_pdq_only(photos: list[Path], tmp_path: Path) -> None:
    original = hash_file(photos[1])
    for name, op in (("mirror", ImageOps.mirror), ("rotate90", lambda im: im.rotate(-90, expand=True))):
        path = tmp_path / f"{name}.jpg"
        op(Image.open(photos[1])).save(path, quality=80)
        match = compare(original, hash_file(path), LIMITS)
        linked = {e.algorithm: e for e in match.evidence if e.linked}
        assert set(linked) == {"pdq"} and linked["pdq"].transform == name, match


def test_added_border_is_cut_off_into_a_content_view(photos: list[Path], tmp_path: Path) -> None:
    path = tmp_path / "border.jpg"
    ImageOps.expand(Image.open(photos[2]), border=40, fill=(255, 255, 255)).save(path, quality=85)
    bordered = hash_file(path)
    assert [f.view for f in bordered.frames][:2] == ["full", "content"]
    left, top, right, bottom = bordered.frames[1].box
    assert left == pytest.approx(40 / 560, abs=0.02) and top == pytest.approx(40 / 440, abs=0.02)
    assert compare(hash_file(photos[2]), bordered, LIMITS).linked
    assert len(hash_file(photos[2]).frames) == 1          # a picture without borders has no content view


def test_content_box_keeps_a_photo_whose_edges_are_not_flat(photos: list[Path]) -> None:
    rgb = np.asarray(Image.open(photos[3]).convert("RGB"))
    assert content_boxes(rgb) == [(0, 0, rgb.shape[1], rgb.shape[0])]


def test_flat_picture_has_low_quality() -> None:
    frames = hash_picture(np.full((100, 120, 3), 7, dtype=np.uint8))
    assert frames[0].pdq_quality == 0


def test_damaged_and_unsupported_files_raise_clear_errors(photos: list[Path], tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(photos[0].read_bytes()[:2000])
    with pytest.raises(CorruptMedia):
        hash_file(truncated)
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    with pytest.raises(UnsupportedMedia):
        hash_file(text)
