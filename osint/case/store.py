"""The case folder: content-addressed originals, one SQLite database, and the custody log.

Layout of a case folder::

    case.json            id, name, creation time, schema version
    case.db              SQLite (WAL): items, acquisitions, results, records, custody
    objects/ab/abcd...   originals, stored once by SHA-256, read-only, never modified
    derived/ab/abcd...   files made by analysis (face crops, keyframes, maps), also content-addressed
    tmp/                 partial copies; anything here after a crash is garbage and is removed on open

Only this module writes the database. Every write is one SQLite transaction that also appends its custody
entry, and an original is renamed into place (after fsync) before the transaction that refers to it, so a
kill at any instant leaves either the whole action or none of it.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from osint import TOOL
from osint.case.custody import GENESIS, CustodyEntry, canonical_sha256, check_chain, result_sha256
from osint.errors import CaseError

SCHEMA_VERSION = 1
CHUNK = 1 << 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    format TEXT NOT NULL,
    mime TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    role TEXT NOT NULL DEFAULT 'collected',
    added_at TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    metadata_error TEXT
);
CREATE TABLE IF NOT EXISTS acquisitions (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES items(sha256),
    original_path TEXT NOT NULL,
    original_mtime TEXT,
    acquired_at TEXT NOT NULL,
    collector TEXT NOT NULL,
    source_url TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    tool TEXT NOT NULL,
    UNIQUE (sha256, original_path, source_url, collector)
);
CREATE TABLE IF NOT EXISTS results (
    sha256 TEXT NOT NULL,
    stage TEXT NOT NULL,
    version TEXT NOT NULL,
    data TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (sha256, stage, version)
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS custody (
    seq INTEGER PRIMARY KEY,
    entry TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS acq_sha ON acquisitions(sha256);
CREATE INDEX IF NOT EXISTS results_stage ON results(stage, version);
"""


def utcnow() -> str:
    """Current UTC time as ISO 8601 with microseconds and a Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_actor() -> str:
    """Who is acting: $OSINT_ACTOR if set, else the operating-system user name."""
    return os.environ.get("OSINT_ACTOR") or getpass.getuser()


@dataclass(frozen=True)
class Item:
    """One distinct original (unique bytes) in the case. `role` is "collected", "reference" or "landmark"."""

    sha256: str
    size: int
    media_type: str
    format: str
    mime: str
    width: int | None
    height: int | None
    role: str
    added_at: str
    metadata: dict[str, Any] = field(default_factory=dict)
    metadata_error: str | None = None


@dataclass(frozen=True)
class Acquisition:
    """One time an original was collected: from where, by whom, when."""

    id: int
    sha256: str
    original_path: str
    original_mtime: str | None
    acquired_at: str
    collector: str
    source_url: str
    note: str
    tool: str


@dataclass(frozen=True)
class StageResult:
    """A stage's stored output for one content hash and stage version; exactly one of data/error is set."""

    sha256: str
    stage: str
    version: str
    data: Any
    error: str | None
    created_at: str


@dataclass(frozen=True)
class Staged:
    """A file copied into the case's tmp/ and hashed, not yet part of the case."""

    sha256: str
    size: int
    tmp: Path
    head: bytes


@dataclass(frozen=True)
class Problem:
    """One integrity failure: `kind` is "custody", "object" or "item"; `where` names the entry or hash."""

    kind: str
    where: str
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of `Case.verify`: intact when `problems` is empty."""

    entries: int
    objects: int
    head: str
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


class Case:
    """An open case folder. Create with `Case.create`, open with `Case.open` or `Case.find`."""

    def __init__(self, root: Path, db: sqlite3.Connection, info: dict[str, Any]):
        self.root = root
        self.db = db
        self.info = info

    # ---- opening -------------------------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path | str, name: str | None = None, actor: str | None = None) -> Case:
        """Make a new case folder at `root` (which must not already hold a case) and log its creation."""
        root = Path(root).absolute()
        if (root / "case.json").exists():
            raise CaseError(f"{root} already holds a case")
        root.mkdir(parents=True, exist_ok=True)
        info = {"id": str(uuid.uuid4()), "name": name or root.name, "created_at": utcnow(),
                "schema": SCHEMA_VERSION, "tool": TOOL}
        case = cls._connect(root, info)
        case.append_custody("init", actor or default_actor(), outputs={"case_id": info["id"]},
                            details={"name": info["name"]})
        tmp = root / "case.json.tmp"
        tmp.write_text(json.dumps(info, indent=2) + "\n")
        os.replace(tmp, root / "case.json")
        return case

    @classmethod
    def open(cls, root: Path | str) -> Case:
        root = Path(root).absolute()
        try:
            info = json.loads((root / "case.json").read_text())
        except FileNotFoundError:
            raise CaseError(f"no case at {root} (run `osint init` first)") from None
        except ValueError as exc:
            raise CaseError(f"{root / 'case.json'} is damaged: {exc}") from None
        if info.get("schema") != SCHEMA_VERSION:
            raise CaseError(f"case schema {info.get('schema')} is not supported by {TOOL}")
        return cls._connect(root, info)

    @classmethod
    def find(cls, start: Path | str | None = None) -> Case:
        """Open the case at `start` or the nearest folder above it that holds one (like git)."""
        here = Path(start or Path.cwd()).absolute()
        for folder in (here, *here.parents):
            if (folder / "case.json").exists():
                return cls.open(folder)
        raise CaseError(f"no case in {here} or above it (run `osint init DIR`, or pass --case DIR)")

    @classmethod
    def _connect(cls, root: Path, info: dict[str, Any]) -> Case:
        for sub in ("objects", "derived", "tmp"):
            (root / sub).mkdir(exist_ok=True)
        for leftover in (root / "tmp").iterdir():  # partial copies of a killed run (not of a live one)
            if not _pid_alive(leftover.name.split("-", 1)[0]):
                leftover.unlink(missing_ok=True)
        db = sqlite3.connect(root / "case.db", isolation_level=None, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(_SCHEMA)
        return cls(root, db, info)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def id(self) -> str:
        return str(self.info["id"])

    @property
    def name(self) -> str:
        return str(self.info["name"])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception.

        A transaction opened inside another joins it, so several writes (a capture's items, acquisitions
        and record) commit or vanish together.
        """
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ---- originals -----------------------------------------------------------------------------------
    def object_path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256

    def stage_file(self, src: Path, head_bytes: int = 64) -> Staged:
        """Copy `src` into tmp/ while hashing it, reading it exactly once. Raises OSError if unreadable."""
        tmp = self._tmp_name()
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                while chunk := fin.read(CHUNK):
                    if not head:
                        head = chunk[:head_bytes]
                    digest.update(chunk)
                    fout.write(chunk)
                    size += len(chunk)
                fout.flush()
                os.fsync(fout.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return Staged(digest.hexdigest(), size, tmp, head)

    def _tmp_name(self) -> Path:
        """A fresh partial-file name in tmp/, prefixed by our PID so other processes leave it alone."""
        return self.root / "tmp" / f"{os.getpid()}-{uuid.uuid4().hex}.part"

    def discard(self, staged: Staged) -> None:
        staged.tmp.unlink(missing_ok=True)

    def _place_object(self, staged: Staged) -> None:
        """Move a staged copy to objects/ (read-only) unless those bytes are already stored."""
        dest = self.object_path(staged.sha256)
        if dest.exists():
            staged.tmp.unlink(missing_ok=True)
            return
        dest.parent.mkdir(exist_ok=True)
        os.chmod(staged.tmp, 0o444)
        os.replace(staged.tmp, dest)
        dir_fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def has_acquisition(self, sha256: str, original_path: str, source_url: str, collector: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM acquisitions WHERE sha256=? AND original_path=? AND source_url=? AND collector=?",
            (sha256, original_path, source_url, collector)).fetchone()
        return row is not None

    def add_item(self, staged: Staged, *, media_type: str, format: str, mime: str, width: int | None,
                 height: int | None, metadata: dict[str, Any], metadata_error: str | None,
                 original_path: str, original_mtime: str | None, collector: str, source_url: str = "",
                 note: str = "", role: str = "collected", actor: str | None = None) -> tuple[bool, bool]:
        """Store a staged original with one acquisition record and its custody entry, atomically.

        Returns (new_item, new_acquisition). The same bytes from another place become a second acquisition
        of the same item; the same acquisition twice is recorded once.
        """
        self._place_object(staged)
        now = utcnow()
        with self.transaction() as db:
            known = db.execute("SELECT role FROM items WHERE sha256=?", (staged.sha256,)).fetchone()
            new_item = known is None
            role_from = known[0] if known and role == "collected" and known[0] != role else None
            if role_from:  # bytes first added as a reference or landmark were now collected as evidence
                db.execute("UPDATE items SET role=? WHERE sha256=?", (role, staged.sha256))
            if new_item:
                db.execute(
                    "INSERT INTO items (sha256,size,media_type,format,mime,width,height,role,added_at,metadata,"
                    "metadata_error) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (staged.sha256, staged.size, media_type, format, mime, width, height, role, now,
                     json.dumps(metadata, ensure_ascii=False), metadata_error))
            cur = db.execute(
                "INSERT OR IGNORE INTO acquisitions (sha256,original_path,original_mtime,acquired_at,collector,"
                "source_url,note,tool) VALUES (?,?,?,?,?,?,?,?)",
                (staged.sha256, original_path, original_mtime, now, collector, source_url, note, TOOL))
            new_acq = cur.rowcount == 1
            if new_acq:
                self._append(db, "add", actor or collector,
                             inputs={"path": original_path, "source_url": source_url},
                             outputs={"sha256": staged.sha256, "size": staged.size},
                             details={"collector": collector, "note": note, "role": role,
                                      "media_type": media_type, "format": format, "new_item": new_item,
                                      "metadata_error": metadata_error,
                                      **({"role_from": role_from} if role_from else {})})
        return new_item, new_acq

    # ---- reading items -------------------------------------------------------------------------------
    def items(self, media_type: str | None = None, role: str | None = "collected") -> list[Item]:
        """Items in the order they were added, optionally only photos/videos or one role (None: all)."""
        sql, args = "SELECT * FROM items WHERE 1=1", []
        if media_type:
            sql += " AND media_type=?"
            args.append(media_type)
        if role:
            sql += " AND role=?"
            args.append(role)
        return [_item(row) for row in self._rows(sql + " ORDER BY added_at, sha256", args)]

    def item(self, sha_or_prefix: str) -> Item:
        """The item whose SHA-256 is or starts with the given hex (at least 4 characters, unique)."""
        prefix = sha_or_prefix.strip().lower()
        if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
            raise CaseError(f"{sha_or_prefix!r} is not a SHA-256 prefix of at least 4 hex digits")
        rows = self._rows("SELECT * FROM items WHERE sha256 >= ? AND sha256 < ? LIMIT 2",
                          [prefix, prefix + "g"])
        if not rows:
            raise CaseError(f"no item starts with {prefix}")
        if len(rows) > 1:
            raise CaseError(f"{prefix} matches several items; give more digits")
        return _item(rows[0])

    def acquisitions(self, sha256: str | None = None) -> list[Acquisition]:
        sql = "SELECT * FROM acquisitions" + (" WHERE sha256=?" if sha256 else "") + " ORDER BY id"
        return [Acquisition(**dict(r)) for r in self._rows(sql, [sha256] if sha256 else [])]

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.db.execute(sql, tuple(args))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    # ---- derived files -------------------------------------------------------------------------------
    def put_derived(self, data: bytes, suffix: str = "") -> str:
        """Store bytes made by analysis (a crop, a keyframe) by content; return their SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        dest = self.derived_path(sha, suffix)
        if not dest.exists():
            dest.parent.mkdir(exist_ok=True)
            tmp = self._tmp_name()
            with open(tmp, "wb") as fh:  # fsynced like originals: `exists()` above trusts what is there
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        return sha

    def put_derived_file(self, src: Path, suffix: str = "") -> str:
        """Store a file made by analysis or capture (a web archive) by content, streamed; return its SHA-256."""
        staged = self.stage_file(src)
        dest = self.derived_path(staged.sha256, suffix)
        if dest.exists():
            self.discard(staged)
        else:
            dest.parent.mkdir(exist_ok=True)
            os.replace(staged.tmp, dest)
        return staged.sha256

    def derived_path(self, sha256: str, suffix: str = "") -> Path:
        return self.root / "derived" / sha256[:2] / f"{sha256}{suffix}"

    # ---- stage results -------------------------------------------------------------------------------
    def result(self, sha256: str, stage: str, version: str) -> StageResult | None:
        rows = self._rows("SELECT * FROM results WHERE sha256=? AND stage=? AND version=?",
                          [sha256, stage, version])
        return _result(rows[0]) if rows else None

    def results(self, stage: str, version: str | None = None) -> list[StageResult]:
        sql, args = "SELECT * FROM results WHERE stage=?", [stage]
        if version is not None:
            sql += " AND version=?"
            args.append(version)
        return [_result(r) for r in self._rows(sql + " ORDER BY created_at, sha256", args)]

    def item_results(self, sha256s: Iterable[str]) -> list[StageResult]:
        """Every stored result of every stage and version for these items, ordered by item, stage, version."""
        shas = sorted(set(sha256s))
        found: list[StageResult] = []
        for i in range(0, len(shas), 500):  # SQLite caps the number of bound parameters
            part = shas[i:i + 500]
            found += [_result(r) for r in self._rows(
                f"SELECT * FROM results WHERE sha256 IN ({','.join('?' * len(part))})", part)]
        return sorted(found, key=lambda r: (r.sha256, r.stage, r.version))

    def search_results(self, text: str) -> list[StageResult]:
        """Results whose stored JSON contains `text` verbatim: a cheap pre-filter, callers check the data."""
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [_result(r) for r in self._rows("SELECT * FROM results WHERE data LIKE ? ESCAPE '\\' "
                                               "ORDER BY sha256, stage, version", [f"%{escaped}%"])]

    def pending(self, stage: str, version: str, items: Iterable[Item]) -> list[Item]:
        """Those of `items` that have no stored result (nor error) for this stage and version."""
        done = {r[0] for r in self.db.execute("SELECT sha256 FROM results WHERE stage=? AND version=?",
                                              (stage, version))}
        return [it for it in items if it.sha256 not in done]

    def put_results(self, stage: str, version: str, results: Sequence[tuple[str, Any, str | None]],
                    actor: str | None = None, details: dict[str, Any] | None = None) -> CustodyEntry | None:
        """Store (sha256, data, error) results of one stage run and log them as one custody entry.

        `data` must be JSON-serialisable (dataclasses go through `dataclasses.asdict` first). The custody
        entry names every input hash and the SHA-256 of each stored result, so a result edited later no
        longer matches its log entry.
        """
        if not results:
            return None
        now = utcnow()
        outputs: dict[str, str] = {}
        with self.transaction() as db:
            for sha, data, error in results:
                text = None if data is None else json.dumps(data, ensure_ascii=False, sort_keys=True)
                db.execute("INSERT OR REPLACE INTO results (sha256,stage,version,data,error,created_at) "
                           "VALUES (?,?,?,?,?,?)", (sha, stage, version, text, error, now))
                outputs[sha] = result_sha256(data, error)
            errors = sum(1 for _, _, e in results if e)
            return self._append(db, f"analyse:{stage}", actor or default_actor(),
                                inputs={"items": [s for s, _, _ in results]},
                                outputs={"result_sha256": outputs},
                                details={"stage": stage, "version": version, "errors": errors,
                                         **(details or {})})

    # ---- records (stage-owned named data: reference persons, landmarks, decisions) --------------------
    def put_record(self, kind: str, key: str, data: Any, *, action: str, actor: str | None = None,
                   inputs: dict[str, Any] | None = None, details: dict[str, Any] | None = None) -> None:
        """Create or replace the record (kind, key) and log `action` for it, atomically."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO records (kind,key,data,updated_at) VALUES (?,?,?,?)",
                       (kind, key, json.dumps(data, ensure_ascii=False, sort_keys=True), utcnow()))
            self._append(db, action, actor or default_actor(), inputs=inputs or {},
                         outputs={"record": f"{kind}/{key}",
                                  "sha256": canonical_sha256(data)},
                         details=details or {})

    def delete_record(self, kind: str, key: str, *, action: str, actor: str | None = None) -> bool:
        with self.transaction() as db:
            gone = db.execute("DELETE FROM records WHERE kind=? AND key=?", (kind, key)).rowcount == 1
            if gone:
                self._append(db, action, actor or default_actor(), inputs={"record": f"{kind}/{key}"})
        return gone

    def record(self, kind: str, key: str) -> Any | None:
        row = self.db.execute("SELECT data FROM records WHERE kind=? AND key=?", (kind, key)).fetchone()
        return None if row is None else json.loads(row[0])

    def all_records(self) -> list[tuple[str, str, Any]]:
        """Every (kind, key, data) record of every kind, sorted: for readers that take whatever stages stored."""
        return [(k, key, json.loads(d)) for k, key, d in
                self.db.execute("SELECT kind, key, data FROM records ORDER BY kind, key")]

    def records(self, kind: str) -> dict[str, Any]:
        return {k: json.loads(d) for k, d in
                self.db.execute("SELECT key, data FROM records WHERE kind=? ORDER BY key", (kind,))}

    # ---- custody -------------------------------------------------------------------------------------
    def append_custody(self, action: str, actor: str, *, inputs: dict[str, Any] | None = None,
                       outputs: dict[str, Any] | None = None,
                       details: dict[str, Any] | None = None) -> CustodyEntry:
        """Log an action that changes nothing else in the database (an export, a verification)."""
        with self.transaction() as db:
            return self._append(db, action, actor, inputs=inputs or {}, outputs=outputs or {},
                                details=details or {})

    def _append(self, db: sqlite3.Connection, action: str, actor: str, *, inputs: dict[str, Any] | None = None,
                outputs: dict[str, Any] | None = None, details: dict[str, Any] | None = None) -> CustodyEntry:
        last = db.execute("SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        entry = CustodyEntry(seq=seq, time=utcnow(), actor=actor, action=action, tool=TOOL,
                             inputs=inputs or {}, outputs=outputs or {}, details=details or {}, prev=prev)
        db.execute("INSERT INTO custody (seq, entry, hash) VALUES (?,?,?)",
                   (seq, entry.encode().decode("utf-8"), entry.hash))
        return entry

    def custody(self, since: int = 1) -> list[CustodyEntry]:
        """The custody entries from `since` on; CaseError naming the first unreadable (tampered) one."""
        entries = []
        for seq, raw in self.db.execute("SELECT seq, entry FROM custody WHERE seq>=? ORDER BY seq", (since,)):
            try:
                entries.append(CustodyEntry.decode(raw))
            except (ValueError, TypeError):
                raise CaseError(f"custody entry {seq} is unreadable: the log was tampered with or damaged "
                                "(`osint log verify` lists every problem)") from None
        return entries

    def custody_rows(self) -> list[tuple[int, str, str]]:
        """Raw (seq, canonical entry JSON, stored hash) rows, in order: what a verifier re-checks."""
        return list(self.db.execute("SELECT seq, entry, hash FROM custody ORDER BY seq"))

    def head(self) -> str:
        row = self.db.execute("SELECT hash FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0] if row else GENESIS

    # ---- verification --------------------------------------------------------------------------------
    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Re-check the custody chain and re-hash every stored original; report every problem found."""
        rows = self.custody_rows()
        problems = [Problem("custody", f"entry {p.seq}", p.reason) for p in check_chain(rows)]
        logged: set[str] = set()
        for _, raw, _ in rows:
            try:  # a tampered row may be anything; check_chain has already reported it
                entry = CustodyEntry.decode(raw)
            except (ValueError, TypeError):
                continue
            if entry.action == "add" and isinstance(entry.outputs, dict):
                logged.add(str(entry.outputs.get("sha256")))
        items = self.items(role=None)
        for i, item in enumerate(items):
            path = self.object_path(item.sha256)
            if not path.exists():
                problems.append(Problem("object", item.sha256, "original is missing from the store"))
            else:
                actual = file_sha256(path)
                if actual != item.sha256:
                    problems.append(Problem("object", item.sha256, f"original was changed: it now hashes to {actual}"))
            if item.sha256 not in logged:
                problems.append(Problem("item", item.sha256, "item has no custody entry recording its addition"))
            if progress:
                progress(i + 1, len(items))
        return VerifyReport(entries=len(rows), objects=len(items), head=self.head(), problems=problems)


def _pid_alive(pid: str) -> bool:
    """Whether the process that wrote a tmp/ file may still be writing it."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _item(row: dict[str, Any]) -> Item:
    row = dict(row)
    row["metadata"] = json.loads(row["metadata"] or "{}")
    return Item(**row)


def _result(row: dict[str, Any]) -> StageResult:
    row = dict(row)
    row["data"] = None if row["data"] is None else json.loads(row["data"])
    return StageResult(**row)
