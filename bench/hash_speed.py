"""Hashing speed on 8-12 MP camera JPEGs: reduced (DCT-scaled) decode vs naive `imagehash.phash(Image.open(p))`.

Finds the JPEGs of 7.5 megapixels or more in ../shared/data (8 to 12.6 MP there), times the naive pHash
(full decode, then imagehash's resize) against this package's pHash on a 1/8-scale draft decode, and
against its full `hash_file` (pHash + dHash + PDQ with 8 variants + border check), and reports the mean
number of differing bits between the naive and the reduced pHash.

    python bench/hash_speed.py [--repeat 3] [--min-mp 7.5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()


def camera_jpegs(min_mp: float) -> list[Path]:
    """JPEGs in the shared data of at least `min_mp` megapixels that decode fully."""
    from PIL import Image

    found = []
    for p in sorted(DATA.rglob("*")):
        if p.suffix.lower() not in {".jpg", ".jpeg"}:
            continue
        try:
            with Image.open(p) as im:
                if im.width * im.height >= min_mp * 1e6:
                    im.load()
                    found.append(p)
        except Exception:  # noqa: BLE001 - damaged samples in the set are not camera photos to time
            continue
    return found


def best_of(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest counts")
    parser.add_argument("--min-mp", type=float, default=7.5, help="smallest photo size to time, megapixels")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent")
        return 0
    import imagehash
    from PIL import Image, ImageOps

    from osint.hashing import DECODE_SIDE, hash_file
    from osint.media import load_image

    files = camera_jpegs(args.min_mp)
    if not files:
        print(f"skipped: no JPEG of {args.min_mp} MP or more in {DATA}")
        return 0
    print(f"{'file':<48} {'MP':>5} {'naive ms':>9} {'reduced ms':>10} {'speed-up':>8} {'all hashes ms':>13} "
          f"{'bits':>4} {'bits upright':>12}")
    ratios, bits, bits_upright = [], [], []
    for p in files:
        with Image.open(p) as im:
            mp = im.width * im.height / 1e6
        naive_s, naive = best_of(lambda p=p: imagehash.phash(Image.open(p)), args.repeat)
        fast_s, fast = best_of(lambda p=p: imagehash.phash(Image.fromarray(load_image(p, max_side=DECODE_SIDE))),
                               args.repeat)
        all_s, _ = best_of(lambda p=p: hash_file(p), args.repeat)
        upright = imagehash.phash(ImageOps.exif_transpose(Image.open(p)))
        ratios.append(naive_s / fast_s)
        bits.append(naive - fast)
        bits_upright.append(upright - fast)
        print(f"{str(p.relative_to(DATA)):<48} {mp:5.1f} {naive_s * 1e3:9.0f} {fast_s * 1e3:10.0f} "
              f"{naive_s / fast_s:7.1f}x {all_s * 1e3:13.0f} {naive - fast:4d} {upright - fast:12d}")
    print(f"\n{len(files)} photos: mean speed-up {statistics.mean(ratios):.1f}x (min {min(ratios):.1f}x); mean pHash "
          f"bit difference {statistics.mean(bits):.1f} of 64 against the naive hash of the stored pixels, "
          f"{statistics.mean(bits_upright):.1f} against the naive hash of the upright (EXIF-rotated) photo, which "
          f"is what this package hashes. Timings are the fastest of {args.repeat} runs, one process.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
