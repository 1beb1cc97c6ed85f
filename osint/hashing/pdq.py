"""PDQ, Facebook's 256-bit perceptual hash, written with numpy (no compiled extension).

Follows the published PDQ design (ThreatExchange `hashing.pdf`): luminance, a tent filter down to
64x64, the 16x16 lowest non-DC 2-D DCT coefficients, one bit per coefficient above their median, and a
quality score from the image's gradients. Its eight dihedral variants (mirror, flip,
rotations by 90 degrees, transposes) come from sign flips and a transpose of the same DCT block, so a
mirrored or rotated repost is matched without decoding it again. The bits are not claimed to be identical
to the reference C++ implementation's; distances are meaningful only between hashes made by this module.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SIZE = 64            # the image is filtered and sampled down to SIZE x SIZE
DCT_SIZE = 16        # 16 x 16 coefficients -> 256 bits
QUALITY_DIVISOR = 90  # reference: quality = min(100, gradient sum / 90)

# The eight images a dihedral transform can make of a picture, in the order variants are returned.
DIHEDRAL = ("identity", "mirror", "flip", "rotate180", "transpose", "rotate90", "rotate270", "transverse")


@lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    """16 x 64 DCT-II rows for frequencies 1..16 (the DC row is skipped: it only measures brightness)."""
    k = np.arange(1, DCT_SIZE + 1)[:, None]
    j = np.arange(SIZE)[None, :]
    return np.sqrt(2.0 / SIZE) * np.cos(np.pi / 2 / SIZE * k * (2 * j + 1))


def downsample(luma: np.ndarray) -> np.ndarray:
    """Tent-filter the luminance down to 64 x 64 (the shape of PDQ's two-pass box filter).

    Pillow's antialiased bilinear resize is centred, so a mirrored or rotated picture samples exactly the
    mirrored points; the reference's left-aligned sampling would cost a mirrored copy dozens of bits.
    """
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(luma, dtype=np.float32), mode="F")
    return np.asarray(im.resize((SIZE, SIZE), Image.Resampling.BILINEAR), dtype=np.float64)


def quality(small: np.ndarray) -> int:
    """PDQ quality 0..100 from the summed absolute gradients of the 64x64 luminance (0..255 scale).

    Flat pictures (a black frame, a fade, a blank page) score low and their hash bits are mostly noise.
    """
    grad = np.abs(np.diff(small, axis=0)).sum() + np.abs(np.diff(small, axis=1)).sum()
    return int(min(100, grad / QUALITY_DIVISOR))


def _bits(block: np.ndarray) -> np.ndarray:
    return (block > np.median(block)).reshape(-1)


def pdq(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """Return (8 x 256 bool array of the dihedral variants' bits, quality) for a 2-D luminance array.

    Row v of the result is the hash the picture would have after transform DIHEDRAL[v]; row 0 is its own.
    """
    small = downsample(luma)
    d = _dct_matrix()
    block = d @ small @ d.T                                  # [vertical freq, horizontal freq]
    sign = np.where(np.arange(1, DCT_SIZE + 1) % 2 == 1, -1.0, 1.0)   # odd frequencies change sign
    flip_h, flip_v = sign[None, :], sign[:, None]            # mirror left-right / flip up-down
    t = block.T
    variants = (block, block * flip_h, block * flip_v, block * flip_h * flip_v,
                t, t * flip_h, t * flip_v, t * flip_h * flip_v)
    return np.stack([_bits(v) for v in variants]), quality(small)
