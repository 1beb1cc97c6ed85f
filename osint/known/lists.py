"""Hash lists of known material: read CSV (SHA-256 / MD5 / SHA-1 / PDQ / vPDQ with label and source) and VICS 2.0 JSON.

A list is streamed with a size cap and a line-length cap, never loaded whole unchecked: a list bigger than
the cap is refused before anything is matched. Each row is checked on its own (the right number of hex
digits for its hash, a vPDQ feature by feature: osint.hashing.vpdq's compact text); a bad row is named with
its line and skipped, a duplicate row counted once, and a file without the columns a list needs is refused as
a whole, so nothing is marked from a misread file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from osint.errors import OsintError
from osint.hashing.vpdq import from_text, to_text

KINDS = {"sha256": 64, "md5": 32, "sha1": 40, "pdq": 64}   # hash kind -> hex digits
VPDQ = "vpdq"                        # a video's vPDQ: compact text (osint.hashing.vpdq), checked feature by feature
MAX_LIST_BYTES = 256 * 1024 * 1024   # a list larger than this is refused (about 2.5 million CSV rows)
MAX_LINE_BYTES = 10 * 1024 * 1024    # a CSV line longer than this is refused (a vPDQ of MAX_FRAMES fits)
MAX_PROBLEMS = 1000                  # problems kept per list (the count goes on)
COLUMNS = ("sha256", "md5", "sha1", "pdq", VPDQ, "label", "source")
HEX = re.compile(r"[0-9a-f]+")
_ALIASES = {"sha-256": "sha256", "sha_256": "sha256", "sha-1": "sha1", "sha_1": "sha1", "pdq_hash": "pdq",
            "pdqhash": "pdq", "vpdq_hash": VPDQ}


class ListError(OsintError):
    """A hash list that cannot be used at all (too big, not a list, missing columns): nothing is marked."""


@dataclass(frozen=True)
class Entry:
    """One known hash: `kind` in KINDS (`value` lower-case hex) or VPDQ (`value` compact text), the list's `label`
    and `source` for it."""

    kind: str
    value: str
    label: str
    source: str


@dataclass
class HashList:
    """What was read from one list file: its entries (each once), the rows refused and why, duplicates."""

    format: str
    entries: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rejected: int = 0
    duplicates: int = 0
    rows: int = 0

    def _reject(self, where: str, why: str) -> None:
        self.rejected += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{where}: {why}")


def read_list(path: Path | str, max_bytes: int = MAX_LIST_BYTES) -> HashList:
    """Read a CSV or VICS 2.0 JSON hash list (told apart by the first non-blank byte: `{` is JSON).

    Raises ListError for a file that cannot be a list (too large, no usable columns, not JSON where it
    starts as JSON); rows that are wrong are in `problems`.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = _size(fh)
            if size is not None and size > max_bytes:
                raise ListError(f"{path}: {size:,} bytes, over the {max_bytes:,}-byte limit for a hash list "
                                f"(--max-size raises it)")
            capped = _Capped(fh, max_bytes, path)
            head = capped.peek()
            read = _read_vics if head.startswith(b"{") else _read_csv
            return read(capped)
    except OSError as exc:
        raise ListError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _size(fh: BinaryIO) -> int | None:
    import os
    import stat

    st = os.fstat(fh.fileno())
    return st.st_size if stat.S_ISREG(st.st_mode) else None


class _Capped(io.RawIOBase):
    """A binary stream that raises ListError once more than `limit` bytes have been read (pipes, growing files)."""

    def __init__(self, fh: BinaryIO, limit: int, path: Path):
        self.fh, self.limit, self.path, self.done = fh, limit, path, 0
        self.buffered = b""

    def peek(self) -> bytes:
        while len(self.buffered) < 4096:
            more = self.fh.read(4096)
            if not more:
                break
            self.buffered += more
        return self.buffered.lstrip(b"\xef\xbb\xbf \t\r\n")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.buffered[:len(b)] if self.buffered else self.fh.read(len(b))
        self.buffered = self.buffered[len(data):] if self.buffered else b""
        self.done += len(data)
        if self.done > self.limit:
            raise ListError(f"{self.path}: over the {self.limit:,}-byte limit for a hash list (--max-size raises it)")
        b[:len(data)] = data
        return len(data)


def _lines(stream: _Capped) -> Iterator[tuple[int, str]]:
    text = io.TextIOWrapper(io.BufferedReader(stream), encoding="utf-8-sig", errors="strict", newline="")
    n = 0
    while True:
        try:
            line = text.readline(MAX_LINE_BYTES)
        except UnicodeDecodeError:
            raise ListError(f"{stream.path}: not UTF-8 text near line {n + 1}") from None
        if not line:
            return
        n += 1
        if len(line) >= MAX_LINE_BYTES and not line.endswith("\n"):
            raise ListError(f"{stream.path}: line {n} is longer than {MAX_LINE_BYTES:,} characters: not a hash list")
        yield n, line


def _read_csv(stream: _Capped) -> HashList:
    # a vPDQ cell may fill a whole line; the csv module's own cap (128 KiB, process-wide) would refuse it
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    out = HashList("csv")
    seen: set[Entry] = set()
    header: list[str] | None = None
    for n, line in _lines(stream):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            cells = next(csv.reader([line]))
        except csv.Error as exc:
            out._reject(f"line {n}", f"not CSV ({exc})")
            continue
        if header is None:
            header = [_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in cells]
            kinds = [c for c in header if c in KINDS or c == VPDQ]
            if not kinds or "label" not in header:
                raise ListError(f"{stream.path}: the first line must name the columns: at least one of "
                                f"{', '.join([*KINDS, VPDQ])} and a label (optional: source); found {', '.join(header)[:200]}")
            if len(set(header)) != len(header):
                raise ListError(f"{stream.path}: a column is named twice in the header ({', '.join(header)[:200]})")
            continue
        out.rows += 1
        if len(cells) != len(header):
            out._reject(f"line {n}", f"{len(cells)} cells, the header names {len(header)}")
            continue
        row = dict(zip(header, (c.strip() for c in cells)))
        found = [(k, row[k].lower()) for k in KINDS if k in row and row[k]]
        bad = [f"{k} {v[:80]!r} is not {KINDS[k]} hex digits" for k, v in found if not _is_hex(v, KINDS[k])]
        if row.get(VPDQ):
            video, problem = _vpdq(row[VPDQ])
            found += [(VPDQ, video)] if video else []
            bad += [problem] if problem else []
        if bad or not found:
            out._reject(f"line {n}", "; ".join(bad) or "no hash in the row")
            continue
        for kind, value in found:
            _add(out, seen, Entry(kind, value, row.get("label", ""), row.get("source", "")))
    if header is None:
        raise ListError(f"{stream.path}: empty: no header line and no rows")
    return out


def _read_vics(stream: _Capped) -> HashList:
    """VICS 2.0: value[].Media[] with MD5 / SHA1 (and SHA-256 and PDQ as osint writes them into Comments, vPDQ
    in AlternativeHashes)."""
    out = HashList("vics")
    seen: set[Entry] = set()
    try:
        doc = json.load(io.TextIOWrapper(io.BufferedReader(stream), encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ListError(f"{stream.path}: starts as JSON but is not valid JSON ({str(exc)[:120]})") from None
    cases = doc.get("value") if isinstance(doc, dict) else None
    if not isinstance(cases, list) or not all(isinstance(c, dict) and isinstance(c.get("Media", []), list)
                                              for c in cases):
        raise ListError(f"{stream.path}: JSON but not VICS 2.0 (expected value[].Media[])")
    for c, case in enumerate(cases):
        source = str(case.get("CaseNumber") or case.get("CaseID") or "")
        for m, media in enumerate(case.get("Media", [])):
            out.rows += 1
            where = f"case {c + 1} Media #{m + 1}"
            if not isinstance(media, dict):
                out._reject(where, "not an object")
                continue
            notes = str(media.get("Comments") or "")
            found = [(k, str(media[f]).strip().lower()) for k, f in (("md5", "MD5"), ("sha1", "SHA1"), ("sha256", "SHA256"))
                     if media.get(f)]
            found += [("sha256" if k == "SHA-256" else "pdq", v.lower())
                      for k, v in re.findall(r"\b(SHA-256|PDQ) ([0-9A-Fa-f]{1,200})", notes)]
            bad = [f"{k} {v[:80]!r} is not {KINDS[k]} hex digits" for k, v in found if not _is_hex(v, KINDS[k])]
            videos, problems = _alternative_vpdq(media.get("AlternativeHashes"))
            found += [(VPDQ, v) for v in videos]
            bad += problems
            if bad or not found:
                out._reject(where, "; ".join(bad) or "no MD5, SHA1, SHA-256, PDQ or vPDQ")
                continue
            label = _vics_label(media)
            for kind, value in found:
                _add(out, seen, Entry(kind, value, label, source))
    return out


def _vpdq(text: str) -> tuple[str | None, str | None]:
    """(canonical compact vPDQ, None) for a good cell, (None, why) for a bad one."""
    try:
        return to_text(from_text(text)), None
    except ValueError as exc:
        return None, f"vpdq: {exc}"


def _alternative_vpdq(alternatives: Any) -> tuple[list[str], list[str]]:
    """The vPDQs in a VICS Media entry's AlternativeHashes ([{"HashName": "vPDQ", "HashValue": text}]) and the
    problems with them; other alternative hashes (PhotoDNA) are not ours to read."""
    if alternatives is None:
        return [], []
    if not isinstance(alternatives, list) or not all(isinstance(a, dict) for a in alternatives):
        return [], ["AlternativeHashes is not a list of {HashName, HashValue}"]
    found, bad = [], []
    for a in alternatives:
        if str(a.get("HashName", "")).lower() == VPDQ:
            video, problem = _vpdq(str(a.get("HashValue") or ""))
            found += [video] if video else []
            bad += [problem] if problem else []
    return found, bad


def _vics_label(media: dict[str, Any]) -> str:
    """A VICS entry's label: osint's `label ...` comment, else its tags, else its category number."""
    for part in str(media.get("Comments") or "").split("; "):
        if part.startswith("label "):
            return part[6:]
    tags = [t for t in str(media.get("Tags") or "").split(";") if t and t != "osint"]
    return ";".join(tags) if tags else f"VICS category {media.get('Category', 0)}"


def _is_hex(value: str, digits: int) -> bool:
    return len(value) == digits and HEX.fullmatch(value) is not None


def _add(out: HashList, seen: set[Entry], entry: Entry) -> None:
    if entry in seen:
        out.duplicates += 1
    else:
        seen.add(entry)
        out.entries.append(entry)
