"""Perceptual hashes of one photo or of a video's keyframes: pHash, dHash and PDQ with its dihedral variants.

A hash is a short bit string that changes little when a picture is resized, recompressed or lightly
edited; the Hamming distance (number of differing bits) between two hashes measures how different two
pictures look. PDQ is Meta's reference computed on the photo's full decode, so its bits equal any other
PDQ implementation's (a reduced decode changes 17 bits on average: bench/pdq_reference.py); photos over
REFERENCE_MAX_PIXELS are decoded at most REDUCED_SIDE pixels for it (a full 150 Mpx decode and the reference's
float buffers would take several GB per worker), so their PDQ is close to, not equal to, the reference's; pHash, dHash and
the content views look at the photo shrunk to DECODE_SIDE pixels. Video keyframes are decoded at
DECODE_SIDE for every hash (vPDQ is the format for exchanging video hashes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from osint.errors import UnsupportedMedia
from osint.hashing.pdq import pdq

PHASH, DHASH, PDQ = "phash", "dhash", "pdq"
BITS = {PHASH: 64, DHASH: 64, PDQ: 256}
DECODE_SIDE = 256          # longest side, in pixels, a photo or keyframe is decoded to before hashing
KEYFRAME_EVERY_S = 1.0     # a video keyframe at least this often, plus one at every scene change
BACKGROUND_TOLERANCE = 10  # grey levels a pixel may differ from the border colour and still be background
FLAT_EDGE = 0.05           # an edge line with at most this share of non-background pixels is padding
SPARSE = 0.3               # a padding line (caption, status bar) has less than this share of non-background
MIN_TRIM = 0.03            # a content view is kept when it cuts at least this share of the width or height
MIN_CONTENT = 0.25         # ... and keeps at least this share of both
REFERENCE_MAX_PIXELS = 50_000_000   # a larger photo's PDQ comes from a decode reduced to REDUCED_SIDE (memory)
REDUCED_SIDE = 4096
STAGE = "hash"
VERSION = (f"phash64+dhash64@{DECODE_SIDE}px+pdq256ref@full<={REFERENCE_MAX_PIXELS // 1_000_000}Mpx,content-view,"
           f"every{KEYFRAME_EVERY_S:g}s/2")


@dataclass(frozen=True)
class FrameHashes:
    """The hashes of one view of a picture: a photo (`t` None) or a video keyframe `t` seconds from the start.

    `view` is "full", or "content" for the same picture with added borders, padding and letterbox bars cut
    off (`box`: left, top, right, bottom as fractions of the full picture). `pdq_dihedral` holds PDQ of the
    picture mirrored, flipped and rotated (order of `pdq.DIHEDRAL`, the first is `pdq` itself);
    `pdq_quality` 0..100 is low for flat pictures whose hashes are mostly noise.
    """

    t: float | None
    scene_change: bool
    view: str
    box: tuple[float, float, float, float]
    phash: str
    dhash: str
    pdq: str
    pdq_quality: int
    pdq_dihedral: tuple[str, ...]


@dataclass(frozen=True)
class MediaHashes:
    """All hashes of one file: the views of a photo, or of every keyframe of a video, in time order."""

    media_type: str
    frames: tuple[FrameHashes, ...]
    decoder_notes: tuple[str, ...] = ()  # what the decoders complained about (a damaged video's concealed frames)

    @classmethod
    def from_plain(cls, data: dict) -> MediaHashes:
        """Rebuild from the plain dict stored in the case."""
        frames = tuple(FrameHashes(**{**f, "box": tuple(f["box"]), "pdq_dihedral": tuple(f["pdq_dihedral"])})
                       for f in data["frames"])
        return cls(data["media_type"], frames, tuple(data.get("decoder_notes", ())))


def bits_to_hex(bits: np.ndarray) -> str:
    """Pack a bool bit array (first bit most significant) into lower-case hex, 4 bits per digit."""
    return np.packbits(np.asarray(bits, dtype=bool)).tobytes().hex()


def hex_to_bits(text: str) -> np.ndarray:
    """The bool bit array a hex string encodes (inverse of `bits_to_hex`)."""
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8)).astype(bool)


def content_boxes(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of the picture inside added borders, padding or letterbox bars, two ways.

    The background is the median colour of the outermost pixels; only a side whose outermost line is flat
    (at most FLAT_EDGE of it more than BACKGROUND_TOLERANCE levels off the background) is cut, so a natural
    photo keeps its edges. The strict box cuts flat lines only (a plain border, safe next to a white sky);
    the loose box is the longest run of lines with at least SPARSE pixels off the background (padding with
    a caption or a status bar, as in a screenshot). Returns the distinct boxes, strict first.
    """
    frame = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int16)
    far = np.abs(rgb.astype(np.int16) - np.median(frame, axis=0)).max(axis=2) > BACKGROUND_TOLERANCE
    boxes = []
    for busy in (FLAT_EDGE + 1e-9, SPARSE):
        top, bottom = _padding(far.mean(axis=1), busy)
        left, right = _padding(far[top:bottom].mean(axis=0), busy)
        if (left, top, right, bottom) not in boxes:
            boxes.append((left, top, right, bottom))
    return boxes


def _padding(share: np.ndarray, busy: float) -> tuple[int, int]:
    """[start, end) of the longest run of lines with at least `busy` of their pixels off the background,
    cut only at ends whose outermost line is flat (a caption set apart from the picture falls away)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (share >= busy).astype(np.int8), [0]])))
    if len(edges) == 0:
        return 0, len(share)
    k = int(np.argmax(edges[1::2] - edges[::2]))
    start = int(edges[2 * k]) if share[0] <= FLAT_EDGE else 0
    end = int(edges[2 * k + 1]) if share[-1] <= FLAT_EDGE else len(share)
    return start, end


def hash_picture(rgb: np.ndarray, t: float | None = None, scene_change: bool = False,
                 full: np.ndarray | None = None) -> tuple[FrameHashes, ...]:
    """Hash one RGB picture (H x W x 3 uint8; DECODE_SIDE pixels is plenty): its full view, plus a content
    view per distinct `content_boxes` box that cuts at least MIN_TRIM of its height or width.

    `full` is the same picture at full resolution, where the caller has it: PDQ is computed on it (the
    reference's bits for that photo), everything else on `rgb`.
    """
    h, w = rgb.shape[:2]
    views = [("full", (0, 0, w, h), (0.0, 0.0, 1.0, 1.0))]
    for left, top, right, bottom in content_boxes(rgb):
        cw, ch = right - left, bottom - top
        if min(cw / w, ch / h) >= MIN_CONTENT and max(1 - cw / w, 1 - ch / h) >= MIN_TRIM:
            box = (round(left / w, 3), round(top / h, 3), round(right / w, 3), round(bottom / h, 3))
            views.append(("content", (left, top, right, bottom), box))
    source = rgb if full is None else full
    fh, fw = source.shape[:2]
    return tuple(_hash_view(rgb[top:bottom, left:right],
                            source[round(top * fh / h):round(bottom * fh / h), round(left * fw / w):round(right * fw / w)],
                            t, scene_change, view, box)
                 for view, (left, top, right, bottom), box in views)


def _hash_view(rgb: np.ndarray, pdq_rgb: np.ndarray, t: float | None, scene_change: bool, view: str,
               box: tuple[float, float, float, float]) -> FrameHashes:
    import imagehash
    from PIL import Image

    grey = Image.fromarray(np.ascontiguousarray(rgb)).convert("L")
    variants, quality = pdq(pdq_rgb)
    hexes = tuple(bits_to_hex(v) for v in variants)
    return FrameHashes(t=t, scene_change=scene_change, view=view, box=box, phash=str(imagehash.phash(grey)),
                       dhash=str(imagehash.dhash(grey)), pdq=hexes[0], pdq_quality=quality, pdq_dihedral=hexes)


def shrink(rgb: np.ndarray, side: int) -> np.ndarray:
    """The picture with its longer side at most `side` pixels (antialiased bilinear, as `load_image` shrinks)."""
    from PIL import Image

    if max(rgb.shape[:2]) <= side:
        return rgb
    im = Image.fromarray(rgb)
    im.thumbnail((side, side), Image.Resampling.BILINEAR)
    return np.asarray(im)


def _pixels(path: Path | str) -> int:
    """Width x height from the photo's header (0 where Pillow cannot read it lazily: decoded in full)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return int(im.width * im.height)
    except Exception:  # noqa: BLE001 - HEIF and damaged headers: load_image decides and reports
        return 0


def hash_file(path: Path | str) -> MediaHashes:
    """Hash a photo, or every keyframe of a video (scene changes plus one every KEYFRAME_EVERY_S seconds).

    Raises `UnsupportedMedia` for files that are neither, `CorruptMedia` for damaged ones.
    """
    from osint.media import load_image, sample_frames, sniff_file

    kind = sniff_file(path)
    if kind.media_type == "image":
        full = load_image(path, max_side=None if _pixels(path) <= REFERENCE_MAX_PIXELS else REDUCED_SIDE)
        return MediaHashes("image", hash_picture(shrink(full, DECODE_SIDE), full=full))
    if kind.media_type == "video":
        frames = tuple(view for f in sample_frames(path, every_s=KEYFRAME_EVERY_S, max_side=DECODE_SIDE)
                       for view in hash_picture(f.image, f.t, f.scene_change))
        return MediaHashes("video", frames)
    raise UnsupportedMedia(f"not a photo or video ({kind.format})")


