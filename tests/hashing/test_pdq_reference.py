"""PDQ bits equal Meta's reference implementation's (pdqhash.compute on the full decode) on real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pdqhash
import pytest

from osint.hashing import bits_to_hex, hash_file
from osint.media import load_image

SKIP = {".md", ".csv", ".json"}


def _reference(path: Path) -> str:
    bits, _ = pdqhash.compute(load_image(path))
    return bits_to_hex(bits)


@pytest.mark.slow
def test_pdq_equals_the_reference_on_every_exif_photo(shared_data: Path) -> None:
    files = sorted(p for p in (shared_data / "exif").rglob("*") if p.is_file() and p.suffix.lower() not in SKIP)
    assert len(files) >= 100
    differ = [p.name for p in files if hash_file(p).frames[0].pdq != _reference(p)]
    assert differ == []


def test_pdq_equals_the_reference_on_generated_pictures(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:900, 0:1400]
    for k in range(3):
        rgb = (np.stack([np.sin(x / (20 + 9 * k)) + np.cos(y / (13 + 5 * k))] * 3, axis=2) * 60 + 128
               + rng.normal(0, 8, (900, 1400, 3))).clip(0, 255).astype(np.uint8)
        path = tmp_path / f"p{k}.png"
        from PIL import Image

        Image.fromarray(rgb).save(path)
        assert hash_file(path).frames[0].pdq == bits_to_hex(pdqhash.compute(rgb)[0])


def test_a_photo_over_the_pixel_cap_is_hashed_from_a_reduced_decode(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from osint.hashing import hashes

    y, x = np.mgrid[0:1200, 0:1600]
    rgb = (np.stack([np.sin(x / 37.0) * np.cos(y / 23.0)] * 3, axis=2) * 100 + 128).astype(np.uint8)
    path = tmp_path / "big.jpg"
    Image.fromarray(rgb).save(path, quality=92)
    full = hash_file(path).frames[0]
    assert full.pdq == _reference(path)
    import osint.media

    sides: list[int | None] = []
    real = osint.media.load_image

    def spy(p: Path, max_side: int | None = None):  # type: ignore[no-untyped-def]
        sides.append(max_side)
        return real(p, max_side=max_side)

    monkeypatch.setattr(osint.media, "load_image", spy)
    monkeypatch.setattr(hashes, "REFERENCE_MAX_PIXELS", 1_000_000)
    monkeypatch.setattr(hashes, "REDUCED_SIDE", 400)
    capped = hash_file(path).frames[0]
    assert sides == [400]                # 1.9 Mpx is over this cap: decoded at 400 px, not in full
    distance = bin(int(capped.pdq, 16) ^ int(full.pdq, 16)).count("1")
    assert distance <= 31                # close to the reference's bits (equal only by luck)
