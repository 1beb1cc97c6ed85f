"""Check that a photo or video really decodes, and read its technical metadata.

Validation decodes the picture (JPEG at 1/8 scale through libjpeg's DCT scaling, which still reads every
scan, so truncation is caught at a fraction of the full cost). Pillow's global settings are never touched:
truncated files stay errors, and Pillow's own decompression-bomb error bound applies (`MAX_PIXELS`, 179 Mpx).
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osint.errors import CorruptMedia, UnsupportedMedia
from osint.media.exif_check import exif_anomalies
from osint.media.image import MAX_PIXELS, orientation
from osint.media.sniff import MediaKind, sniff_file

MAX_TAGS = 2000          # hostile EXIF can declare millions of entries; we keep at most this many
MAX_TAG_CHARS = 512      # and at most this many characters of each value
VIDEO_CHECK_FRAMES = 30_000  # ingest decodes a video to its end, up to this many frames (20 min at 25 fps)


@dataclass(frozen=True)
class Probe:
    """What ingest learns about one file: its kind, size in pixels, duration, and metadata.

    `metadata_error` is set when the picture decodes but its metadata is damaged or hostile; the file is
    still good evidence and is kept.
    """

    kind: MediaKind
    width: int
    height: int
    metadata: dict[str, Any] = field(default_factory=dict)
    metadata_error: str | None = None


def probe(path: Path, kind: MediaKind | None = None) -> Probe:
    """Validate `path` as a photo or video and extract its metadata.

    Raises `UnsupportedMedia` for files that are not media and `CorruptMedia` for damaged ones.
    """
    if kind is None:
        kind = sniff_file(path)
    if kind.media_type == "image":
        return _probe_image(path, kind)
    return _probe_video(path, kind)


def _probe_image(path: Path, kind: MediaKind) -> Probe:
    width, height, info, raw_exif, decoder_warnings = _decode_check(path, kind)
    exif, error = read_exif(path)
    problems = [error] if error else []
    if raw_exif:
        problems += exif_anomalies(raw_exif)
    problems += decoder_warnings
    meta: dict[str, Any] = {"width": width, "height": height, **info}
    if exif:
        meta["exif"] = exif
    return Probe(kind, width, height, meta, "; ".join(problems)[:1000] if problems else None)


def _decode_check(path: Path, kind: MediaKind) -> tuple[int, int, dict[str, Any], bytes | None, list[str]]:
    """Decode the whole picture once (reduced where the format allows).

    Returns its size, basic facts, the raw EXIF block if any, and the decoder's warnings about metadata.
    """
    from PIL import Image

    if kind.format == "heif":
        return _decode_heif(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # up to MAX_PIXELS is a real photo
            with Image.open(path) as im:
                width, height = im.size
                info: dict[str, Any] = {"mode": im.mode, "frames": getattr(im, "n_frames", 1)}
                raw_exif = im.info.get("exif") if kind.format != "tiff" else None
                if kind.format == "png":
                    im.verify()  # checks every chunk CRC; the image must be reopened afterwards
            with Image.open(path) as im:
                if kind.format == "jpeg":
                    im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                im.load()
                _, orientation_note = orientation(im)
    except Image.DecompressionBombError as exc:
        raise CorruptMedia(f"decompression bomb refused: {exc}") from None
    except Image.UnidentifiedImageError as exc:
        raise CorruptMedia(f"cannot decode {kind.format}: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        raise CorruptMedia(f"damaged {kind.format}: {_short(exc)}") from None
    except MemoryError:
        raise CorruptMedia(f"damaged {kind.format}: decoding needs more memory than is sane") from None
    notes = list(dict.fromkeys(f"decoder: {w.message}"[:160] for w in caught))
    notes += [orientation_note] if orientation_note else []
    return width, height, info, raw_exif if isinstance(raw_exif, bytes) else None, notes


def _decode_heif(path: Path) -> tuple[int, int, dict[str, Any], bytes | None, list[str]]:
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True)
        width, height = heif.size
        if width * height > MAX_PIXELS:
            raise CorruptMedia(f"decompression bomb refused: {width}x{height} pixels")
        _ = heif.data  # forces a full decode
        raw_exif = heif.info.get("exif")
        return width, height, {"mode": heif.mode, "frames": len(heif)}, raw_exif or None, []
    except CorruptMedia:
        raise
    except (RuntimeError, ValueError, OSError, MemoryError) as exc:
        raise CorruptMedia(f"damaged heif: {_short(exc)}") from None


def read_exif(path: Path) -> tuple[dict[str, str], str | None]:
    """EXIF tags as printable strings (bounded in number and length), and an error text if parsing failed.

    exifread is defensive but not infallible on hostile files: any exception is data, not a crash.
    """
    import exifread

    with captured_log("exifread") as warnings_seen:
        try:
            with open(path, "rb") as fh:
                tags = exifread.process_file(fh, details=False, extract_thumbnail=False)
        except Exception as exc:  # noqa: BLE001 - hostile metadata may raise anything; it must not stop ingest
            return {}, f"EXIF unreadable: {type(exc).__name__}: {_short(exc)}"
    out: dict[str, str] = {}
    damage = [w for w in warnings_seen if "does not have exif data" not in w.lower()]  # absent is not damaged
    error = "EXIF damaged: " + "; ".join(dict.fromkeys(damage))[:300] if damage else None
    for i, (name, value) in enumerate(tags.items()):
        if i >= MAX_TAGS:
            error = f"EXIF has more than {MAX_TAGS} tags; the rest were ignored"
            break
        if "Thumbnail" in name and name.startswith("JPEG"):
            continue
        try:
            text = str(value)
        except Exception as exc:  # noqa: BLE001 - same reason as above
            text = f"<unprintable: {type(exc).__name__}>"
        out[name] = text[:MAX_TAG_CHARS]
    return out, error


@contextmanager
def captured_log(name: str) -> Iterator[list[str]]:
    """Collect a library logger's warnings from this thread into a list, instead of letting them print.

    A filter (not a level or `propagate` change) that drops only this thread's records, so concurrent
    callers in other threads neither lose their own messages nor leave the logger altered.
    """
    seen: list[str] = []
    me = threading.get_ident()

    def keep(record: logging.LogRecord) -> bool:
        if record.thread != me:
            return True
        if record.levelno >= logging.WARNING:
            seen.append(record.getMessage()[:120])
        return False

    logger = logging.getLogger(name)
    logger.addFilter(keep)
    try:
        yield seen
    finally:
        logger.removeFilter(keep)


def _probe_video(path: Path, kind: MediaKind) -> Probe:
    """Open the video and decode it to the end (up to VIDEO_CHECK_FRAMES frames): the frames and seconds that
    really decode are recorded beside what the header declares, and a partial or damaged video is flagged
    (the analysis stages cover what decodes)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    with decoder_log() as log:
        try:
            if not cap.isOpened():
                raise CorruptMedia(f"cannot open {kind.format} video")
            ok, frame = cap.read()
            if not ok or frame is None:
                raise CorruptMedia(f"{kind.format} video has no decodable frame")
            fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            fourcc = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
            height, width = frame.shape[:2]
            decoded, last_ms = 1, float(cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0)
            while decoded < VIDEO_CHECK_FRAMES and cap.grab():  # grab decodes without converting colours
                decoded += 1
                last_ms = max(last_ms, float(cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0))
            to_end = decoded < VIDEO_CHECK_FRAMES or not cap.grab()
        finally:
            cap.release()
    codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ") if fourcc else ""
    rate = fps if fps > 0 and math.isfinite(fps) else None
    duration = frames / rate if rate and frames > 0 else None
    decodable = (last_ms / 1000 + 1 / rate if last_ms > 0 else decoded / rate) if rate else None
    meta = {"width": width, "height": height, "fps": round(fps, 3), "frame_count": frames,
            "duration_s": round(duration, 3) if duration else None, "codec": codec,
            "decodable_frames": decoded, "decodable_duration_s": round(decodable, 3) if decodable else None,
            "decoded_to_end": to_end, "decoder_problems": len(log)}
    problems = []
    # short by frames and by time (a header may count packets, not frames: then the times still agree)
    short_time = bool(duration and decodable and decodable < duration * 0.98 - 2 / (rate or 1))
    if to_end and frames > 0 and decoded < frames - max(2, frames // 50) and (short_time or not decodable):
        shown = f" ({decodable:.1f} s of {duration:.1f} s)" if decodable and duration else ""
        problems.append(f"partial video: only {decoded} of {frames} declared frames decode{shown}; the analysis "
                        "covers what decodes")
    if log:
        problems.append(f"damaged video: the decoder reported {len(log)} problem(s), first: {log[0][:120]}")
    if not to_end:
        problems.append(f"checked only the first {VIDEO_CHECK_FRAMES} frames at ingest (a longer video)")
    return Probe(kind, width, height, meta, "; ".join(problems) if problems else None)


@contextmanager
def decoder_log() -> Iterator[list[str]]:
    """Collect the messages FFmpeg's decoders print on this process's stderr while the block runs (OpenCV has
    no other way to tell that frames were damaged and concealed); other lines printed meanwhile are passed on
    to stderr afterwards (a progress bar's redraws are dropped: it redraws itself)."""
    import os
    import re
    import sys
    import tempfile

    found: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield found
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read(1 << 20).decode("utf-8", "replace").splitlines():
                if re.match(r"\[[\w,-]+ @ 0x[0-9a-f]+\] ", line):
                    found.append(line.split("] ", 1)[1].strip())
                elif line.strip() and "\x1b[" not in line:  # a progress bar's redraws are not passed on
                    os.write(2, (line + "\n").encode())


@contextmanager
def quiet_decoding() -> Iterator[list[str]]:
    """Run one item's decoding without anything reaching the terminal: FFmpeg's `[h264 @ 0x...]` lines (through
    `decoder_log`) and Python warnings (Pillow's DecompressionBombWarning and UserWarnings about damaged files)
    are collected as short notes, deduplicated, for the caller to keep beside the result or the error."""
    notes: list[str] = []
    try:
        with decoder_log() as lines, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield notes
    finally:  # both blocks have ended: fd 2 and the warning filters are restored, the lines collected
        said = [f"{w.category.__name__}: {w.message}"[:160] for w in caught]
        notes += list(dict.fromkeys([*(f"decoder: {line}"[:160] for line in lines), *said]))[:20]
        if len(lines) + len(caught) > len(notes):
            notes.append(f"{len(lines) + len(caught)} decoder messages in all")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


__all__ = ["Probe", "captured_log", "probe", "quiet_decoding", "read_exif", "CorruptMedia", "UnsupportedMedia"]
