"""Ingest: bring collected files into a case, byte for byte, with where they came from.

Each file is read once (copied into the case's tmp/ while it is hashed), recognised by its bytes, decoded
to prove it is intact, and only then stored and logged. A file that fails any step leaves nothing behind,
gets one error naming it, and the batch goes on.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from osint.case import Case, Item, default_actor
from osint.errors import CaseError, CorruptMedia, UnsupportedMedia
from osint.media import HEAD_BYTES, check_regular, open_regular, probe, sniff


MEDIA_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".tif", ".tiff", ".heic", ".heif", ".avif",
                  ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".3gp"}


@dataclass(frozen=True)
class AddOutcome:
    """What happened to one input path: status is "added", "new-source", "already", "failed" or "skipped"."""

    path: str
    status: str
    sha256: str | None = None
    media_type: str | None = None
    format: str | None = None
    size: int | None = None
    error: str | None = None
    warning: str | None = None


@dataclass
class AddSummary:
    """Counts for a whole `add` run; `failed` > 0 means the run's exit code is non-zero."""

    outcomes: list[AddOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> int:
        return self.count("failed")

    def as_dict(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("added", "new-source", "already", "failed", "skipped")}


def walk(paths: Iterable[Path | str]) -> Iterator[tuple[Path, str | None]]:
    """Yield (file, problem) for every file under `paths`, sorted; directory symlinks are not followed, nor
    file symlinks that lead out of the folder being walked (nothing outside it is opened).

    `problem` is None for a regular file (or a symlink to one inside the folder) and a reason otherwise, so
    a loop, a dangling link, a named pipe, a device or an unreadable folder is reported rather than
    silently skipped (or waited on).
    """
    for top in paths:
        top = Path(top)
        try:
            st = top.stat()
        except OSError as exc:
            yield top, _os_reason(exc)
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield top, _regular(top)
            continue
        root = os.path.realpath(top)
        errors: list[OSError] = []
        for folder, dirs, files in os.walk(top, onerror=errors.append, followlinks=False):
            dirs.sort()
            for d in dirs:
                if os.path.islink(os.path.join(folder, d)):
                    yield Path(folder, d), "symbolic link to a folder: not followed"
            for name in sorted(files):
                path = Path(folder, name)
                if path.is_symlink() and not _inside(os.path.realpath(path), root):
                    yield path, "symbolic link to a file outside the folder: not followed"
                    continue
                yield path, _regular(path)
        for err in errors:
            yield Path(err.filename or top), _os_reason(err)


def original_name(path: Path) -> str:
    """How an input's path is recorded: absolute, with `..` and `.` resolved (so `../in/x` and its absolute
    path are one acquisition), and a file name that is not UTF-8 kept readable with its bytes as \\xNN."""
    return os.fsencode(os.path.abspath(path)).decode("utf-8", "backslashreplace")


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _regular(path: Path) -> str | None:
    """None for a regular file, else why not (checked without opening it)."""
    try:
        check_regular(path)
    except OSError as exc:
        return _os_reason(exc)
    return None


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "no such file (it may have disappeared, or be a dangling link)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def add_file(case: Case, path: Path, *, collector: str, source_url: str = "", note: str = "",
             role: str = "collected", actor: str | None = None, origin: str | None = None,
             origin_mtime: str | None = None) -> AddOutcome:
    """Add one file to the case; never raises for a problem with the file itself.

    The first bytes are sniffed before anything is copied, so a huge file that is not media costs nothing.
    `origin` (with `origin_mtime`) names where the bytes came from when that is not the file's own path
    (a capture's media URL).
    """
    original = origin or original_name(path)
    try:
        mtime = origin_mtime if origin else datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat()
        with open_regular(path) as fh:   # never waits on a named pipe or reads a device
            head = fh.read(HEAD_BYTES)
        if not head:
            return AddOutcome(original, "failed", size=0, error="empty file (0 bytes)")
        sniff(head)
        staged = case.stage_file(path, head_bytes=HEAD_BYTES)
    except OSError as exc:
        return AddOutcome(original, "failed", error=_os_reason(exc))
    except UnsupportedMedia as exc:
        return _not_media(original, path, role, exc)
    try:
        if case.has_acquisition(staged.sha256, original, source_url, collector):
            return AddOutcome(original, "already", staged.sha256, size=staged.size)
        kind = sniff(staged.head)  # the bytes actually copied decide, should the file have changed meanwhile
        existing = _existing(case, staged.sha256)
        width: int | None
        height: int | None
        if existing is None:
            info = probe(staged.tmp, kind)
            meta, meta_error, width, height = info.metadata, info.metadata_error, info.width, info.height
            meta_error = meta_error and meta_error.replace(str(staged.tmp), original)
        else:  # same bytes already stored from elsewhere: only a new acquisition
            meta, meta_error, width, height = {}, None, existing.width, existing.height
        new_item, new_acq = case.add_item(staged, media_type=kind.media_type, format=kind.format, mime=kind.mime,
                                          width=width, height=height, metadata=meta, metadata_error=meta_error,
                                          original_path=original, original_mtime=mtime, collector=collector,
                                          source_url=source_url, note=note, role=role, actor=actor)
        # what this call itself recorded: another `add` running at the same time may have stored it first
        status = "added" if new_item else "new-source" if new_acq else "already"
        return AddOutcome(original, status, staged.sha256, kind.media_type,
                          kind.format, staged.size, warning=meta_error)
    except UnsupportedMedia as exc:
        return _not_media(original, path, role, exc)
    except CorruptMedia as exc:  # a decoder names the file it read: the copy in tmp/, which is the input
        return AddOutcome(original, "failed", staged.sha256, size=staged.size,
                          error=str(exc).replace(str(staged.tmp), original))
    finally:
        case.discard(staged)


def _not_media(original: str, path: Path, role: str, exc: UnsupportedMedia) -> AddOutcome:
    """'Not ours' is skipped, unless the name claims it is media (or it was given as a reference): a failure."""
    claims_media = path.suffix.lower() in MEDIA_SUFFIXES
    status = "failed" if claims_media or role != "collected" else "skipped"
    reason = f"named {path.suffix} but {exc}" if claims_media else str(exc)
    return AddOutcome(original, status, error=reason)


def _existing(case: Case, sha256: str) -> Item | None:
    try:
        return case.item(sha256)
    except CaseError:
        return None


def add_paths(case: Case, paths: Iterable[Path | str], *, collector: str | None = None, source_url: str = "",
              note: str = "", role: str = "collected", actor: str | None = None,
              on_file: Callable[[AddOutcome], None] | None = None) -> AddSummary:
    """Add every file under `paths`; `on_file` is called after each one (for progress and error lines)."""
    return add_walked(case, walk(paths), collector=collector, source_url=source_url, note=note, role=role,
                      actor=actor, on_file=on_file)


def add_walked(case: Case, entries: Iterable[tuple[Path, str | None]], *, collector: str | None = None,
               source_url: str = "", note: str = "", role: str = "collected", actor: str | None = None,
               on_file: Callable[[AddOutcome], None] | None = None) -> AddSummary:
    """Add the (file, problem) entries that `walk` yielded (a caller that counted them first walks once)."""
    collector = collector or default_actor()
    summary = AddSummary()
    for path, problem in entries:
        if problem:
            outcome = AddOutcome(original_name(path), "failed", error=problem)
        else:
            outcome = add_file(case, path, collector=collector, source_url=source_url, note=note, role=role,
                               actor=actor)
        summary.outcomes.append(outcome)
        if on_file:
            on_file(outcome)
    return summary
