"""PDQ, Meta's 256-bit perceptual hash, computed by Meta's reference C++ (the `pdqhash` package wraps it).

The bits are the reference's bit for bit (tests/hashing/test_pdq_reference.py checks the photos of
../shared/data/exif against `pdqhash.compute` on the full decode), so hashes exchanged with other teams and
hash lists (osint known) compare directly. The reference also returns its eight dihedral variants (mirror,
flip, rotations, transposes) from one filtered 64x64 block, so a mirrored or rotated repost is matched
without decoding it again. Hex is Meta's: 64 digits, most significant bit first.
"""

from __future__ import annotations

import numpy as np

# The eight images a dihedral transform can make of a picture, in the order variants are returned.
DIHEDRAL = ("identity", "mirror", "flip", "rotate180", "transpose", "rotate90", "rotate270", "transverse")
# Where each DIHEDRAL transform sits in pdqhash.compute_dihedral's output (original, rotate 90 anticlockwise,
# rotate 180, rotate 90 clockwise, flip x, flip y, flip over the main and the other diagonal); tested by
# hashing the transformed picture.
_REFERENCE_ORDER = (0, 5, 4, 2, 6, 3, 1, 7)


def pdq(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """Return (8 x 256 bool array of the dihedral variants' bits, quality 0..100) for an H x W x 3 uint8 picture.

    Row v is the hash the picture would have after transform DIHEDRAL[v]; row 0 is its own, equal to
    Meta's reference PDQ of these pixels. Flat pictures (a black frame, a fade) have low quality and their
    bits are mostly noise.
    """
    import pdqhash

    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    hashes, quality = pdqhash.compute_dihedral(rgb)
    return np.stack([np.asarray(hashes[k], dtype=bool) for k in _REFERENCE_ORDER]), int(quality)
