"""Recognise photos and videos by their first bytes, never by their file name."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from osint.errors import UnsupportedMedia

HEAD_BYTES = 64  # enough for every signature below

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V ",
               b"M4A ", b"mmp4", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"f4v ", b"MSNV", b"XAVC", b"FACE"}
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


@dataclass(frozen=True)
class MediaKind:
    """What a file is: `media_type` is "image" or "video"; `format` a short name such as "jpeg"."""

    media_type: str
    format: str
    mime: str


def sniff(head: bytes) -> MediaKind:
    """Classify a file from its first bytes; raise `UnsupportedMedia` with a hint if it is neither."""
    if not head:
        raise UnsupportedMedia("empty file (0 bytes)")
    if head.startswith(b"\xff\xd8\xff"):
        return MediaKind("image", "jpeg", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaKind("image", "png", "image/png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return MediaKind("image", "gif", "image/gif")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaKind("image", "tiff", "image/tiff")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaKind("image", "webp", "image/webp")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return MediaKind("video", "avi", "video/x-msvideo")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        if b"webm" in head:
            return MediaKind("video", "webm", "video/webm")
        return MediaKind("video", "mkv", "video/x-matroska")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return MediaKind("image", "heif", "image/heif" if brand not in (b"avif", b"avis") else "image/avif")
        if brand == b"qt  ":
            return MediaKind("video", "mov", "video/quicktime")
        if brand in _MP4_BRANDS or brand.startswith(b"3g"):
            return MediaKind("video", "mp4", "video/mp4")
        raise UnsupportedMedia(f"ISO media with unknown brand {brand!r}")
    if head[4:8] in _QT_ATOMS:
        return MediaKind("video", "mov", "video/quicktime")
    raise UnsupportedMedia(f"not a photo or video ({_describe(head)})")


_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def _not_regular(mode: int, path: Path | str) -> OSError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a plain file")
    return OSError(errno.EINVAL, f"not a regular file ({kind})", str(path))


def check_regular(path: Path | str) -> None:
    """Raise OSError unless `path` is (or links to) a regular file: checked before anything opens it, since a
    named pipe blocks its reader until someone writes and a device may never end."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(mode, path)


def open_regular(path: Path | str) -> BinaryIO:
    """Open a regular file for reading without ever blocking on a pipe or device (OSError if it is not one)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_regular(mode, path)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def sniff_file(path: Path | str) -> MediaKind:
    """Classify the file at `path` from its first bytes (OSError if it cannot be read or is not a regular file)."""
    with open_regular(path) as fh:
        return sniff(fh.read(HEAD_BYTES))


def _describe(head: bytes) -> str:
    """A short human hint about what an unsupported file looks like."""
    if head.startswith(b"%PDF"):
        return "looks like a PDF"
    if head.startswith(b"PK\x03\x04"):
        return "looks like a zip archive"
    sample = head[:HEAD_BYTES]
    try:
        text = sample.decode("utf-8", errors="strict") if len(sample) < 4 else \
            sample[:-3].decode("utf-8") + sample[-3:].decode("utf-8", errors="ignore")
        if text and all(c.isprintable() or c in "\t\r\n" for c in text):
            return "looks like text"
    except UnicodeDecodeError:
        pass
    return f"unknown signature {sample[:8].hex()}"
