"""Decode a photo to an RGB array, only as large as the caller needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from osint.errors import CorruptMedia, UnsupportedMedia
from osint.media.sniff import sniff_file


def load_image(path: Path | str, max_side: int | None = None) -> np.ndarray:
    """Return the photo at `path` as an HxWx3 uint8 RGB array, upright (EXIF orientation applied).

    With `max_side`, JPEGs are decoded at a reduced DCT scale (1/2, 1/4 or 1/8: several times cheaper than
    a full decode) and the result is shrunk so that its longer side is at most `max_side` pixels.
    Raises `UnsupportedMedia` or `CorruptMedia`; truncated files are never silently padded.
    """
    from PIL import Image, ImageOps

    path = Path(path)
    kind = sniff_file(path)
    if kind.media_type != "image":
        raise UnsupportedMedia(f"{kind.format} is a video, not a photo")
    try:
        if kind.format == "heif":
            import pillow_heif

            im = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True).to_pillow()
        else:
            im = Image.open(path)
            if max_side and kind.format == "jpeg":
                scale = max(im.size) / max_side
                if scale > 1:
                    im.draft("RGB", (max(1, int(im.size[0] / scale)), max(1, int(im.size[1] / scale))))
            im.load()
        im = ImageOps.exif_transpose(im) or im
        im = im.convert("RGB")
        if max_side and max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        return np.array(im)  # a writable array: callers draw on it (a read-only one trips OpenCV)
    except (UnsupportedMedia, CorruptMedia):
        raise
    except Image.DecompressionBombError as exc:
        raise CorruptMedia(f"decompression bomb refused: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, RuntimeError) as exc:
        raise CorruptMedia(f"damaged {kind.format}: {exc}") from None
