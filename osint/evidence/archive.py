"""Writing a bag deterministically (folder or zip) and reading one that may be hostile, without extracting.

Writing: entries sorted by path, zip timestamps fixed at 1980-01-01 and permissions fixed, so the same
content gives the same bytes. Reading: a zip is read in place, entry by entry, in memory; before any byte
is read, entries with `..`, absolute or drive paths, backslashes, symbolic links, duplicates, or a declared
size past the bound (or a compression ratio only a zip bomb has) are refused. A folder is walked without
following links. Nothing is ever written while verifying.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Union

from osint.errors import OsintError

CHUNK = 1 << 20
MAX_TOTAL_BYTES = 64 << 30        # 64 GiB decompressed: far beyond any real bundle, far below a zip bomb's
MAX_RATIO = 400                   # real media and JSON never deflate this much; zeros reach ~1030:1
RATIO_MIN_SIZE = 1 << 20          # small entries (repetitive text) may compress well; only large ones count
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

Source = Union[bytes, Path]       # an entry's content: bytes in memory, or a file copied as is


class HostileBundle(OsintError):
    """The archive is refused before reading: a path escapes, a link, or a decompression bomb."""


class DamagedBundle(OsintError):
    """The archive cannot be read: truncated, not a zip, or not a folder."""


def _copy_into(src: Source, fout: IO[bytes]) -> None:
    if isinstance(src, bytes):
        fout.write(src)
        return
    with open(src, "rb") as fin:
        shutil.copyfileobj(fin, fout, CHUNK)


def write_folder(dest: Path, entries: dict[str, Source]) -> None:
    """Write `entries` (relative posix path -> content) as a new folder `dest`, every file flushed to disk.

    `dest` is the partial path the case reserved (`Case.begin_output`); on failure it is removed.
    """
    try:
        for rel in sorted(entries):
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as fout:
                _copy_into(entries[rel], fout)
                fout.flush()
                os.fsync(fout.fileno())
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def write_zip(dest: Path, entries: dict[str, Source], root: str, stored: frozenset[str] = frozenset()) -> None:
    """Write `entries` under folder `root/` in a new zip at `dest`, sorted, with fixed dates (deterministic).

    Paths in `stored` are kept uncompressed (photos and videos do not deflate). `dest` is the partial
    path the case reserved (`Case.begin_output`); on failure it is removed.
    """
    try:
        with open(dest, "xb") as raw:
            with zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
                for rel in sorted(entries):
                    info = zipfile.ZipInfo(f"{root}/{rel}", date_time=ZIP_DATE)
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                    info.create_system = 3
                    info.compress_type = zipfile.ZIP_STORED if rel in stored else zipfile.ZIP_DEFLATED
                    with zf.open(info, "w", force_zip64=True) as fout:
                        _copy_into(entries[rel], fout)
            raw.flush()
            os.fsync(raw.fileno())
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


def _unsafe_name(name: str) -> str | None:
    """Why a zip entry name would escape the bag, or None when it is a plain relative path."""
    if "\\" in name:
        return "backslash in the path"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if any(part == ".." for part in name.split("/")):
        return "'..' in the path"
    if "\x00" in name:
        return "NUL byte in the path"
    return None


@dataclass(frozen=True)
class Entry:
    """One file of a bag being read: its path relative to the bag root and its (declared) size."""

    name: str
    size: int


class BagReader:
    """Read-only access to the files of a bag in a folder or a zip; `entries` lists them, sorted."""

    def __init__(self, path: Path, max_total: int = MAX_TOTAL_BYTES, max_ratio: int = MAX_RATIO):
        self.path = path
        self.max_total = max_total
        self._zip: zipfile.ZipFile | None = None
        self._names: dict[str, str] = {}   # bag-relative name -> zip member name or file path
        if path.is_dir():
            self.entries = self._scan_folder(path)
        elif path.is_file():
            try:
                self.entries = self._scan_zip(path, max_total, max_ratio)
            except BaseException:  # a refused zip is closed at once, not left open to the garbage collector
                self.close()
                raise
        else:
            raise DamagedBundle(f"{path}: no such bundle (expected a folder or a .zip)")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> BagReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _scan_folder(self, root: Path) -> list[Entry]:
        entries, total = [], 0
        for folder, dirs, files in os.walk(root, followlinks=False):
            for name in sorted(dirs + files):
                full = Path(folder, name)
                rel = full.relative_to(root).as_posix()
                st = full.lstat()
                if stat.S_ISLNK(st.st_mode):
                    raise HostileBundle(f"{rel}: symbolic link in the bundle (refused)")
                if stat.S_ISDIR(st.st_mode):
                    continue
                if not stat.S_ISREG(st.st_mode):
                    raise HostileBundle(f"{rel}: not a regular file (refused)")
                total += st.st_size
                self._names[rel] = str(full)
                entries.append(Entry(rel, st.st_size))
        if total > self.max_total:
            raise HostileBundle(f"bundle holds {total} bytes, past the {self.max_total}-byte bound")
        return sorted(entries, key=lambda e: e.name)

    def _scan_zip(self, path: Path, max_total: int, max_ratio: int) -> list[Entry]:
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise DamagedBundle(f"{path.name}: damaged or truncated zip ({exc})") from None
        self._zip = zf
        infos = zf.infolist()
        total = 0
        seen: set[str] = set()
        for info in infos:
            why = _unsafe_name(info.filename)
            if why:
                raise HostileBundle(f"zip entry {info.filename!r}: {why} (refused)")
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):
                raise HostileBundle(f"zip entry {info.filename!r}: symbolic link (refused)")
            if info.flag_bits & 0x1:
                raise HostileBundle(f"zip entry {info.filename!r} is encrypted (refused: a bundle is never encrypted)")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise HostileBundle(f"zip entry {info.filename!r} uses compression method {info.compress_type} "
                                    "(refused: a bundle uses only stored or deflate)")
            if info.filename in seen:
                raise HostileBundle(f"zip entry {info.filename!r} appears twice (refused)")
            seen.add(info.filename)
            total += info.file_size
            if total > max_total:
                raise HostileBundle(f"zip declares more than {max_total} bytes decompressed (refused as a zip bomb)")
            if info.file_size > RATIO_MIN_SIZE and info.file_size > max_ratio * max(info.compress_size, 1):
                raise HostileBundle(f"zip entry {info.filename!r} inflates {info.compress_size} bytes to "
                                    f"{info.file_size} (refused as a zip bomb)")
        files = [i for i in infos if not i.is_dir()]
        prefix = _common_root([i.filename for i in files])
        entries = []
        for info in files:
            rel = info.filename[len(prefix):]
            self._names[rel] = info.filename
            entries.append(Entry(rel, info.file_size))
        return sorted(entries, key=lambda e: e.name)

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def chunks(self, name: str) -> Iterator[bytes]:
        """The content of one file in 1 MiB chunks, never more than its declared size (zip) or the bound."""
        if self._zip is not None:
            info = self._zip.getinfo(self._names[name])
            try:
                with self._zip.open(info) as fh:
                    read = 0
                    while chunk := fh.read(CHUNK):
                        read += len(chunk)
                        if read > info.file_size:
                            raise HostileBundle(f"{name}: inflates past its declared size (refused)")
                        yield chunk
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
                raise DamagedBundle(f"{name}: cannot be read from the zip ({exc})") from None
            return
        with open(self._names[name], "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    def read(self, name: str, limit: int = 256 << 20) -> bytes:
        """A small file whole (tag files, JSON); refuses more than `limit` bytes."""
        parts, size = [], 0
        for chunk in self.chunks(name):
            size += len(chunk)
            if size > limit:
                raise HostileBundle(f"{name}: larger than {limit} bytes (refused)")
            parts.append(chunk)
        return b"".join(parts)

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        for chunk in self.chunks(name):
            digest.update(chunk)
        return digest.hexdigest()


def _common_root(names: list[str]) -> str:
    """'root/' when every entry lies in one top folder that holds bagit.txt (how bag zips are made), else ''."""
    tops = {PurePosixPath(n).parts[0] for n in names if "/" in n}
    if len(tops) == 1 and all("/" in n for n in names):
        top = tops.pop()
        if f"{top}/bagit.txt" in names:
            return f"{top}/"
    return ""
