"""Generators of damaged and hostile inputs, shared by tests of every stage."""

from __future__ import annotations

import random
import struct
import zlib
from io import BytesIO
from pathlib import Path

import numpy as np


def png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def png_bomb(path: Path, side: int = 50_000) -> Path:
    """A tiny PNG whose header claims side x side pixels (2.5 gigapixels at the default)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
                     + png_chunk(b"IEND", b""))
    return path


def png_bad_crc(path: Path) -> Path:
    """A valid small PNG whose IDAT chunk carries a wrong CRC."""
    w = h = 16
    raw = b"".join(b"\x00" + bytes(range(w * 3)) for _ in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                     + png_chunk(b"IDAT", zlib.compress(raw), crc=0xDEADBEEF) + png_chunk(b"IEND", b""))
    return path


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (256, 192), exif: bytes | None = None) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    im = Image.fromarray(arr).resize(size)
    buf = BytesIO()
    im.save(buf, "JPEG", quality=90, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def hostile_exif() -> bytes:
    """A TIFF/EXIF block built to hurt parsers: absurd counts, unknown types, offsets past the end, an IFD loop."""
    entries = [
        (0x010F, 2, 0xFFFFFFF0, 0x7FFFFFF0),   # Make: ASCII with a 4-billion count at an offset past the end
        (0x0110, 99, 4, 0),                    # Model: type 99 does not exist
        (0x8769, 4, 1, 8),                     # ExifIFD pointer back to IFD0 itself: a loop
        (0x8825, 4, 1, 0xFFFFFF00),            # GPS IFD pointer past the end
        (0x0132, 5, 0x40000000, 0x10),         # DateTime as a huge RATIONAL array
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHII", tag, typ, count, value)
    ifd += struct.pack("<I", 8)                # next-IFD offset points back to this IFD: another loop
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd


def hostile_exif_jpeg(path: Path) -> Path:
    """A JPEG that decodes fine but carries `hostile_exif` in its APP1 segment."""
    clean = jpeg_bytes(7)
    app1 = hostile_exif()
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    path.write_bytes(clean[:2] + segment + clean[2:])
    return path


def exif_span(data: bytes) -> tuple[int, int] | None:
    """[start, end) of the TIFF block inside a JPEG's APP1 Exif segment, or None."""
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker == 0xE1 and data[i + 4:i + 10] == b"Exif\x00\x00":
            return i + 10, i + 2 + length
        if marker == 0xDA:
            return None
        i += 2 + length
    return None


def mutate_exif(data: bytes, rng: random.Random) -> bytes:
    """The same JPEG with 1-20 random bytes of its EXIF block overwritten (the first 2 KiB: header, IFD0,
    the Exif IFD: where orientation and pointers live). Pixels are untouched."""
    span = exif_span(data)
    assert span, "no EXIF block"
    out = bytearray(data)
    start, end = span
    for _ in range(rng.randint(1, 20)):
        out[rng.randrange(start, min(end, start + 2048))] = rng.randrange(256)
    return bytes(out)


def broken_tiff_header(data: bytes) -> bytes:
    """The exact damage seen in the wild: an EXIF block whose TIFF header is not a TIFF header."""
    start, _ = exif_span(data) or (0, 0)
    return data[:start + 2] + b"\x00\xa9" + data[start + 4:]


FRAMES, FPS = 250, 25


def make_video(path: Path, fourcc: str) -> Path:
    """A 10 s, 250-frame video (FRAMES at FPS) whose frames differ (a number and noise on a changing grey)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, (320, 240))
    rng = np.random.default_rng(0)
    for i in range(FRAMES):
        frame = np.full((240, 320, 3), (i * 3) % 255, np.uint8)
        cv2.putText(frame, str(i), (50, 120), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        frame[::7, ::5] = rng.integers(0, 255, frame[::7, ::5].shape, dtype=np.uint8)
        writer.write(frame)
    writer.release()
    return path
