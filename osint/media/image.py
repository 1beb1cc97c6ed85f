"""Decode a photo to an RGB array, only as large as the caller needs."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from osint.errors import CorruptMedia, UnsupportedMedia
from osint.media.sniff import sniff_file

# The largest picture accepted, in pixels: Pillow's own decompression-bomb error bound, twice its
# Image.MAX_IMAGE_PIXELS (89,478,485). Pillow only warns between the two; such photos (a 10000 x 10000 scan,
# a 150 Mpx panorama) are real and are analysed. HEIF, decoded outside Pillow, is held to the same bound.
MAX_PIXELS = 2 * 89_478_485
ORIENTATION_TAG = 0x0112
_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
              7: "TRANSVERSE", 8: "ROTATE_90"}  # EXIF orientation -> the Pillow transpose that makes it upright


def orientation(im: Any) -> tuple[int, str | None]:
    """The EXIF orientation (1-8) of an open Pillow image, and a warning when it could not be read.

    Damaged metadata must never stop a photo from being analysed: an unreadable or impossible value is
    reported and the picture is used as stored (orientation 1)."""
    from PIL import Image

    raw = im.info.get("exif")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(raw, bytes) and raw:  # parsed afresh: Pillow keeps an empty copy if it failed on open
                Image.Exif().load(raw)
            value = im.getexif().get(ORIENTATION_TAG, 1)  # EXIF, else XMP's tiff:Orientation
    except Exception as exc:  # noqa: BLE001 - hostile EXIF may raise anything; the pixels are still good
        return 1, f"EXIF orientation unreadable ({type(exc).__name__}): the picture is analysed as stored"
    if value not in (1, *_TRANSPOSE):
        return 1, f"EXIF orientation {str(value)[:20]!r} is not 1-8: the picture is analysed as stored"
    return int(value), None


def load_image(path: Path | str, max_side: int | None = None) -> np.ndarray:
    """Return the photo at `path` as an HxWx3 uint8 RGB array, upright (EXIF orientation applied when it
    can be read; damaged metadata never stops the decode).

    With `max_side`, JPEGs are decoded at a reduced DCT scale (1/2, 1/4 or 1/8: several times cheaper than
    a full decode) and the result is shrunk so that its longer side is at most `max_side` pixels.
    Raises `UnsupportedMedia` or `CorruptMedia` for pixels that cannot be decoded; truncated files are never
    silently padded. Any other exception is a fault of this toolkit, not of the photo.
    """
    from PIL import Image

    path = Path(path)
    kind = sniff_file(path)
    if kind.media_type != "image":
        raise UnsupportedMedia(f"{kind.format} is a video, not a photo")
    try:
        # Pillow warns about damaged EXIF (read for DPI on open) and big photos: the warnings reach the caller,
        # which keeps them as data (a stage's items run inside `quiet_decoding`)
        im = _decode(path, kind.format, max_side)
    except Image.DecompressionBombError as exc:
        raise CorruptMedia(f"decompression bomb refused: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, RuntimeError) as exc:
        raise CorruptMedia(f"damaged {kind.format}: {exc}") from None
    upright, _ = orientation(im)
    if upright != 1:
        im = im.transpose(getattr(Image.Transpose, _TRANSPOSE[upright]))
    im = im.convert("RGB")
    if max_side and max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return np.array(im)  # a writable array: callers draw on it (a read-only one trips OpenCV)


def _decode(path: Path, format: str, max_side: int | None) -> Any:
    """The decoded Pillow image, reduced by DCT scaling when a JPEG is larger than `max_side` needs."""
    from PIL import Image

    if format == "heif":
        import pillow_heif

        return pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True).to_pillow()
    im = Image.open(path)
    if max_side and format == "jpeg":
        scale = max(im.size) / max_side
        if scale > 1:
            im.draft("RGB", (max(1, int(im.size[0] / scale)), max(1, int(im.size[1] / scale))))
    im.load()
    return im
