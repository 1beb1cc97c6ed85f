"""PDQ on a reduced decode vs Meta's reference on the full decode: how many photos differ, by how many bits.

For every photo of ../shared/data/exif, hashes the full decode with the reference (`pdqhash.compute`), then
the same photo decoded at reduced size (JPEG DCT scaling, longer side at most 256, 512, 1024 px), and prints
per size how many photos get other bits and the distribution of differing bits; with the time of each
decode + hash. osint hashes the full decode (tests/hashing/test_pdq_reference.py): this shows why.

    python bench/pdq_reference.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data" / "exif").resolve()
SIDES = (256, 512, 1024)


def main() -> int:
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent")
        return 0
    import pdqhash

    from osint.media import load_image

    files = sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix.lower() not in {".md", ".csv", ".json"})
    bits: dict[int, list[int]] = {s: [] for s in SIDES}
    seconds: dict[int | None, float] = {s: 0.0 for s in (None, *SIDES)}
    small = 0
    for p in files:
        t = time.perf_counter()
        full = load_image(p)
        ref, _ = pdqhash.compute(full)
        seconds[None] += time.perf_counter() - t
        small += max(full.shape[:2]) <= SIDES[0]
        for side in SIDES:
            t = time.perf_counter()
            h, _ = pdqhash.compute(load_image(p, max_side=side))
            seconds[side] += time.perf_counter() - t
            bits[side].append(int((h != ref).sum()))
    print(f"{len(files)} photos of {DATA.relative_to(DATA.parents[1])}; {small} are at most {SIDES[0]} px already\n")
    print("| decode | photos with other bits | mean / median / max bits (of 256) | ms per photo (decode + PDQ) |")
    print("|---|---|---|---|")
    print(f"| full (reference) | 0 | 0 / 0 / 0 | {seconds[None] / len(files) * 1e3:.0f} |")
    for side in SIDES:
        d = np.array(bits[side])
        print(f"| <= {side} px | {(d > 0).sum()} | {d.mean():.1f} / {np.median(d):.0f} / {d.max()} | "
              f"{seconds[side] / len(files) * 1e3:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
