"""The case folder: content-addressed originals, one SQLite database, and the custody log.

Layout of a case folder::

    case.json            id, name, creation time, schema version
    case.db              SQLite (WAL): items, acquisitions, results, records, custody
    objects/ab/abcd...   originals, stored once by SHA-256, read-only, never modified
    derived/ab/abcd...   files made by analysis (face crops, keyframes, maps), also content-addressed
    custody.head         the custody log's newest seq and hash, kept outside the database (the anchor)
    tmp/                 partial copies; anything here after a crash is garbage and is removed on open
    pending/             journals of bundles being written outside the case, settled on open after a crash
    locks/               one lock file per stage version being computed (see `stage_lock`)

Only this module writes the database. Every write is one SQLite transaction that also appends its custody
entry, and an original is renamed into place (after fsync) inside the transaction that refers to it, so a
kill at any instant leaves either the whole action or none of it (at worst an unreferenced original, which
`verify` names and a re-run adopts).

Every row evidence is built from is pinned by the custody log: an `add` entry records the canonical hash of
the item row and of the acquisition row it wrote, an analysis entry the hash of each result, a record entry
the hash of the record. `verify` replays the log and checks every row, and every file under objects/,
against it. The log's head is anchored outside the database in custody.head (and in every export's
bag-info.txt and export entry), so removing the newest entries with SQL is found. What the anchor cannot
do: someone who can write the case folder can rewrite case.db and custody.head together; only a head kept
elsewhere (written down, in a bundle given to someone, or timestamped) proves that the log was not rebuilt.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import shutil
import sqlite3
import sys
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
HEAD_FILE = "custody.head"

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
class Output:
    """A file or folder being written outside the case: its destination, the partial, the journal's token."""

    dest: Path
    part: Path
    token: str


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
        self._appended: tuple[int, str] | None = None   # the entry the open transaction appended

    # ---- opening -------------------------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path | str, name: str | None = None, actor: str | None = None) -> Case:
        """Make a new case folder at `root` (which must not already hold a case) and log its creation."""
        root = Path(root).absolute()
        if (root / "case.json").exists():
            raise CaseError(f"{root} already holds a case")
        root.mkdir(parents=True, exist_ok=True)
        info = {"id": str(uuid.uuid4()), "name": name or root.name, "created_at": utcnow(),
                "schema": SCHEMA_VERSION, "tool": TOOL, "anchor": HEAD_FILE}
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
                if leftover.is_dir() and not leftover.is_symlink():   # a capture's working folder
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)
        db = sqlite3.connect(root / "case.db", isolation_level=None, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:  # not SQLite at all, or damaged: one line, nothing written
            db.close()
            raise CaseError(f"{root / 'case.db'} is not a usable case database ({exc}); restore it from a backup "
                            "(the originals in objects/ are untouched)") from None
        case = cls(root, db, info)
        case._recover_outputs()
        if info.get("anchor") != HEAD_FILE and (root / "case.json").exists():  # a case made before the anchor
            last = db.execute("SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
            if last:
                case._write_head(last[0], last[1])
            info["anchor"] = HEAD_FILE
            tmp = root / f"case.json.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(info, indent=2) + "\n")
            os.replace(tmp, root / "case.json")
        return case

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
        self._appended = None
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        if self._appended:
            self._write_head(*self._appended)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the database (one read transaction), whatever others commit meanwhile."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    def _write_head(self, seq: int, digest: str) -> None:
        """Move the anchor in custody.head forward to entry `seq` (never back: writers may finish out of order)."""
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            fcntl.flock(dir_fd, fcntl.LOCK_EX)
            anchored = self.anchored_head()
            if anchored and anchored[0] >= seq:
                return
            tmp = self.root / f"{HEAD_FILE}.{os.getpid()}.tmp"
            with open(tmp, "w") as fh:
                fh.write(json.dumps({"seq": seq, "hash": digest}) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.root / HEAD_FILE)
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)   # closing releases the lock

    def anchored_head(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest entry custody.head anchors; None if the file is absent or unreadable."""
        try:
            data = json.loads((self.root / HEAD_FILE).read_text())
            return int(data["seq"]), str(data["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

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
        _fsync_dir(dest.parent)

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
        now = utcnow()
        with self.transaction() as db:
            self._place_object(staged)   # under the write lock: `verify` never sees it before its row
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
            if new_acq or role_from:
                rows: dict[str, Any] = {"item": _row_sha256(db, "items", "sha256", staged.sha256)}
                if new_acq:
                    rows |= {"acquisition": cur.lastrowid,
                             "acquisition_sha256": _row_sha256(db, "acquisitions", "id", cur.lastrowid)}
                self._append(db, "add", actor or collector,
                             inputs={"path": original_path, "source_url": source_url},
                             outputs={"sha256": staged.sha256, "size": staged.size, **rows},
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

    @contextmanager
    def stage_lock(self, stage: str, version: str) -> Iterator[None]:
        """Held while one process computes a stage version, so that a second run of it waits and then finds
        the work done instead of computing and logging it again (released by the kernel if killed). A run that
        has to wait says so on stderr, naming the process it waits for, rather than hang silently."""
        folder = self.root / "locks"
        folder.mkdir(exist_ok=True)
        name = hashlib.sha256(f"{stage}\0{version}".encode()).hexdigest()[:24]
        fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                sys.stderr.write(f"waiting: another osint process (pid {holder}) is running stage {stage!r} on "
                                 f"case {self.root}; this run goes on when it ends\n")
                sys.stderr.flush()
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)

    def pending(self, stage: str, version: str, items: Iterable[Item]) -> list[Item]:
        """Those of `items` that have no stored result (nor error) for this stage and version."""
        done = {r[0] for r in self.db.execute("SELECT sha256 FROM results WHERE stage=? AND version=?",
                                              (stage, version))}
        return [it for it in items if it.sha256 not in done]

    def errors(self, stage: str, version: str) -> dict[str, str]:
        """sha256 -> stored error text of the items this stage and version failed on (no result data read)."""
        return dict(self.db.execute("SELECT sha256, error FROM results WHERE stage=? AND version=? AND error IS NOT NULL",
                                    (stage, version)).fetchall())

    def put_results(self, stage: str, version: str, results: Sequence[tuple[str, Any, str | None]],
                    actor: str | None = None, details: dict[str, Any] | None = None) -> CustodyEntry | None:
        """Store (sha256, data, error) results of one stage run and log them as one custody entry; a result
        already stored for the same item, stage and version is kept (each is computed and logged once).

        `data` must be JSON-serialisable (dataclasses go through `dataclasses.asdict` first). The custody
        entry names every input hash and the SHA-256 of each stored result, so a result edited later no
        longer matches its log entry.
        """
        if not results:
            return None
        now = utcnow()
        outputs: dict[str, str] = {}
        with self.transaction() as db:
            stored = {r[0] for r in db.execute("SELECT sha256 FROM results WHERE stage=? AND version=?",
                                               (stage, version))}
            results = [r for r in results if r[0] not in stored]  # a concurrent run stored it first: keep that
            if not results:
                return None
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
                self._append(db, action, actor or default_actor(), inputs={"record": f"{kind}/{key}"},
                             outputs={"deleted": f"{kind}/{key}"})
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
        self._appended = (seq, entry.hash)
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

    # ---- files written outside the case, atomic with their custody entry -----------------------------
    def begin_output(self, dest: Path | str) -> Output:
        """Reserve `dest`, a new file or folder outside the case (a bundle), and say where to write it first.

        A journal in pending/ names the partial and its destination before either exists, so whatever kills
        the run, the next open of the case finishes it (its custody entry was committed: the partial is moved
        into place) or undoes it (no entry: the partial is removed). `publish_output` completes it.
        """
        dest = Path(dest).absolute()
        if dest.exists():
            raise CaseError(f"{dest} already exists; choose a new --out")
        token = f"{os.getpid()}-{uuid.uuid4().hex}"
        output = Output(dest, dest.with_name(f".{dest.name}.{token}.part"), token)
        journal = self.root / "pending" / f"{token}.json"
        journal.parent.mkdir(exist_ok=True)
        tmp = journal.with_suffix(".tmp")
        tmp.write_text(json.dumps({"dest": str(output.dest), "part": str(output.part)}))
        os.replace(tmp, journal)
        dest.parent.mkdir(parents=True, exist_ok=True)
        return output

    def publish_output(self, output: Output, action: str, actor: str, *, inputs: dict[str, Any],
                       outputs: dict[str, Any], details: dict[str, Any]) -> CustodyEntry:
        """Log `action` for a fully written output and move it into place: both happen, or (after the next
        open) neither. The entry names the output's token, which is how a killed run's journal is settled."""
        with self.transaction() as db:
            if output.dest.exists():
                raise CaseError(f"{output.dest} already exists; choose a new --out")
            entry = self._append(db, action, actor, inputs=inputs, outputs={**outputs, "output": output.token},
                                 details=details)
        self._settle(output, committed=True)
        return entry

    def abandon_output(self, output: Output) -> None:
        """Remove a partial output that will not be published (the run failed)."""
        self._settle(output, committed=False)

    def _settle(self, output: Output, committed: bool) -> None:
        if committed and output.part.exists() and not output.dest.exists():
            os.replace(output.part, output.dest)
            _fsync_dir(output.dest.parent)
        elif output.part.is_dir() and not output.part.is_symlink():
            shutil.rmtree(output.part, ignore_errors=True)
        else:
            output.part.unlink(missing_ok=True)
        (self.root / "pending" / f"{output.token}.json").unlink(missing_ok=True)

    def _recover_outputs(self) -> None:
        """Finish or undo the outputs of killed runs (journals whose process is gone)."""
        folder = self.root / "pending"
        if not folder.is_dir():
            return
        for journal in sorted(folder.iterdir()):
            token = journal.name.split(".", 1)[0]
            if _pid_alive(token.split("-", 1)[0]):
                continue
            if journal.suffix != ".json":   # a journal cut short: its partial was never begun
                journal.unlink(missing_ok=True)
                continue
            try:
                data = json.loads(journal.read_text())
                output = Output(Path(data["dest"]), Path(data["part"]), token)
            except (OSError, ValueError, KeyError, TypeError):
                journal.unlink(missing_ok=True)
                continue
            if output.part.name != f".{output.dest.name}.{token}.part":
                journal.unlink(missing_ok=True)   # not one of ours: never delete what it names
                continue
            logged = self.db.execute("SELECT 1 FROM custody WHERE entry LIKE ? LIMIT 1",
                                     (f'%"output":"{token}"%',)).fetchone()
            self._settle(output, committed=logged is not None)

    # ---- verification --------------------------------------------------------------------------------
    def verify(self, progress: Callable[[int, int], None] | None = None,
               originals: Iterable[str] | None = None) -> VerifyReport:
        """Check the whole case against its custody log, reading the database as one snapshot.

        Checks the chain's links and its anchored head; every item, acquisition, result and record row
        against the hash the log recorded for it (an edited, inserted or deleted row is named); every
        original re-hashed (only those in `originals` when given, e.g. the ones being exported; the others
        must exist) and every file under objects/ accounted for by an item.
        """
        anchored = self.anchored_head()  # read first: it never runs ahead of what is committed
        with self.snapshot():
            rows = self.custody_rows()
            items = self._rows("SELECT * FROM items ORDER BY added_at, sha256")
            acquisitions = self._rows("SELECT * FROM acquisitions ORDER BY id")
            results = list(self.db.execute("SELECT sha256, stage, version, data, error FROM results "
                                           "ORDER BY sha256, stage, version"))
            records = list(self.db.execute("SELECT kind, key, data FROM records ORDER BY kind, key"))
        problems = [Problem("custody", f"entry {p.seq}", p.reason) for p in check_chain(rows)]
        problems += _check_anchor(rows, anchored)
        logged = _Logged(rows)
        problems += logged.check_items(items) + logged.check_acquisitions(acquisitions)
        problems += logged.check_results(results) + logged.check_records(records)
        problems += self._check_objects([it["sha256"] for it in items], originals, progress)
        return VerifyReport(entries=len(rows), objects=len(items), head=rows[-1][2] if rows else GENESIS,
                            problems=problems)

    def _check_objects(self, shas: list[str], originals: Iterable[str] | None,
                       progress: Callable[[int, int], None] | None) -> list[Problem]:
        """Originals missing or changed, and files under objects/ that no item accounts for."""
        problems = []
        known = set(shas)
        rehash = shas if originals is None else sorted(known & set(originals))
        objects = str(self.root / "objects")
        for i, sha in enumerate(rehash):
            path = os.path.join(objects, sha[:2], sha)   # plain strings: 10,000s of originals
            try:
                actual = file_sha256(path)
            except FileNotFoundError:
                problems.append(Problem("object", sha, "original is missing from the store"))
            else:
                if actual != sha:
                    problems.append(Problem("object", sha, f"original was changed: it now hashes to {actual}"))
            if progress:
                progress(i + 1, len(rehash))
        for sha in known.difference(rehash):
            if not self.object_path(sha).exists():
                problems.append(Problem("object", sha, "original is missing from the store"))
        stray = {}
        for sub in os.scandir(objects):
            for entry in os.scandir(sub.path) if sub.is_dir(follow_symlinks=False) else [sub]:
                if entry.name not in known or entry.path != os.path.join(objects, entry.name[:2], entry.name):
                    stray[entry.name] = entry.path
        for name in sorted(set(stray) - self._committed_items(stray)):
            problems.append(Problem("object", Path(stray[name]).relative_to(self.root).as_posix(),
                                    "a file in the store that no item of the case accounts for (planted, or "
                                    "left by an interrupted add: add that file again, or remove it)"))
        return problems

    def _committed_items(self, shas: Iterable[str]) -> set[str]:
        """Which of `shas` are items once any write in progress has committed (it may be placing them)."""
        db = sqlite3.connect(self.root / "case.db", isolation_level=None, timeout=60)
        try:
            try:
                db.execute("BEGIN IMMEDIATE")  # waits for a writer that placed an original but has not committed
            except sqlite3.OperationalError:
                pass  # a read-only copy of the case: nobody is writing it
            return {s for s in shas if db.execute("SELECT 1 FROM items WHERE sha256=?", (s,)).fetchone()}
        finally:
            db.close()  # rolls back


class _Logged:
    """What the custody log says the database holds, replayed entry by entry; checks rows against it."""

    def __init__(self, rows: Sequence[tuple[int, str, str]]):
        self.items: dict[str, CustodyEntry] = {}            # sha -> its newest add entry
        self.item_fields: dict[str, dict[str, Any]] = {}     # sha -> the columns the add entries name
        self.acquisitions: dict[int, CustodyEntry] = {}      # acquisition id -> the add entry recording it
        self.legacy: dict[tuple[str, str, str, str], CustodyEntry] = {}   # entries older than row hashes
        self.results: dict[tuple[str, str, str], tuple[int, str]] = {}    # (sha, stage, version) -> (seq, hash)
        self.records: dict[str, tuple[int, str]] = {}       # "kind/key" -> (seq, hash)
        for _, raw, _ in rows:
            try:  # a tampered row may be anything; check_chain has already reported it
                entry = CustodyEntry.decode(raw)
                self._replay(entry)
            except (ValueError, TypeError, AttributeError, KeyError):
                continue

    def _replay(self, e: CustodyEntry) -> None:
        out, details = e.outputs, e.details
        if e.action == "add":
            sha = str(out["sha256"])
            self.items[sha] = e
            fields = self.item_fields.setdefault(sha, {})
            if details.get("new_item", True) and not fields:
                fields |= {"size": out.get("size"), "media_type": details.get("media_type"),
                           "format": details.get("format"), "role": details.get("role"),
                           "metadata_error": details.get("metadata_error")}
            if "role_from" in details:
                fields["role"] = details.get("role")
            if "acquisition" in out:
                self.acquisitions[int(out["acquisition"])] = e
            elif "item" not in out:
                self.legacy[(sha, str(e.inputs.get("path")), str(e.inputs.get("source_url")),
                             str(details.get("collector")))] = e
        if isinstance(out.get("result_sha256"), dict):
            for sha, digest in out["result_sha256"].items():
                self.results[(sha, str(details["stage"]), str(details["version"]))] = (e.seq, str(digest))
        if "record" in out:
            self.records[str(out["record"])] = (e.seq, str(out.get("sha256")))
        elif "deleted" in out or (not out and isinstance(e.inputs.get("record"), str)):
            self.records.pop(str(out.get("deleted", e.inputs.get("record"))), None)

    def check_items(self, rows: list[dict[str, Any]]) -> list[Problem]:
        problems = []
        for row in rows:
            sha = row["sha256"]
            entry = self.items.get(sha)
            if entry is None:
                problems.append(Problem("item", sha, "item has no custody entry recording its addition"))
                continue
            differs = [f"{k} is {row[k]!r}, the log recorded {v!r}" for k, v in self.item_fields[sha].items()
                       if row.get(k) != v]
            logged = entry.outputs.get("item")
            if differs or (logged is not None and row_sha256(row) != logged):
                problems.append(Problem("item", sha, f"item row was changed after custody entry {entry.seq} "
                                                     "recorded it" + (": " + "; ".join(differs) if differs else "")))
        for sha in sorted(set(self.items) - {row["sha256"] for row in rows}):
            problems.append(Problem("item", sha, f"custody entry {self.items[sha].seq} records its addition, but "
                                                 "the database no longer holds it (deleted)"))
        return problems

    def check_acquisitions(self, rows: list[dict[str, Any]]) -> list[Problem]:
        problems = []
        seen: set[int] = set()
        legacy_seen: set[tuple[str, str, str, str]] = set()
        for row in rows:
            where = f"acquisition {row['id']} of {row['sha256']}"
            entry = self.acquisitions.get(row["id"])
            if entry is None:
                key = (row["sha256"], row["original_path"], row["source_url"], row["collector"])
                if key in self.legacy:
                    legacy_seen.add(key)
                else:
                    problems.append(Problem("acquisition", where, "no custody entry recorded it (inserted, or "
                                                                  "its source, path or collector edited)"))
                continue
            seen.add(row["id"])
            if row_sha256(row) != entry.outputs.get("acquisition_sha256"):
                logged = {"sha256": entry.outputs.get("sha256"), "original_path": entry.inputs.get("path"),
                          "source_url": entry.inputs.get("source_url"), "collector": entry.details.get("collector"),
                          "note": entry.details.get("note")}
                differs = [f"{k} is {row[k]!r}, the log recorded {v!r}" for k, v in logged.items() if row[k] != v]
                problems.append(Problem("acquisition", where, f"changed after custody entry {entry.seq} recorded "
                                                              "it" + (": " + "; ".join(differs) if differs else "")))
        for acq_id in sorted(set(self.acquisitions) - seen):
            entry = self.acquisitions[acq_id]
            problems.append(Problem("acquisition", f"acquisition {acq_id} of {entry.outputs.get('sha256')}",
                                    f"custody entry {entry.seq} recorded it, but the database no longer holds it "
                                    "(deleted)"))
        for key in sorted(set(self.legacy) - legacy_seen):
            problems.append(Problem("acquisition", f"acquisition of {key[0]} from {key[1]}",
                                    f"custody entry {self.legacy[key].seq} recorded it, but the database no longer "
                                    "holds it (deleted or edited)"))
        return problems

    def check_results(self, rows: list[tuple[str, str, str, str | None, str | None]]) -> list[Problem]:
        problems = []
        for sha, stage, version, data, error in rows:
            where = f"result {stage}/{version} of {sha}"
            logged = self.results.get((sha, stage, version))
            try:
                digest = result_sha256(None if data is None else json.loads(data), error)
            except ValueError:
                digest = "not JSON"
            if logged is None:
                problems.append(Problem("result", where, "no custody entry logged this result (inserted)"))
            elif digest != logged[1]:
                problems.append(Problem("result", where, f"changed after custody entry {logged[0]} logged it"))
        for sha, stage, version in sorted(set(self.results) - {r[:3] for r in rows}):
            problems.append(Problem("result", f"result {stage}/{version} of {sha}",
                                    f"custody entry {self.results[(sha, stage, version)][0]} logged it, but the "
                                    "database no longer holds it (deleted)"))
        return problems

    def check_records(self, rows: list[tuple[str, str, str]]) -> list[Problem]:
        problems = []
        for kind, key, data in rows:
            logged = self.records.get(f"{kind}/{key}")
            try:
                digest = canonical_sha256(json.loads(data))
            except ValueError:
                digest = "not JSON"
            if logged is None:
                problems.append(Problem("record", f"record {kind}/{key}", "no custody entry logged this record "
                                                                          "(inserted)"))
            elif digest != logged[1]:
                problems.append(Problem("record", f"record {kind}/{key}",
                                        f"changed after custody entry {logged[0]} logged it"))
        for name in sorted(set(self.records) - {f"{k}/{key}" for k, key, _ in rows}):
            problems.append(Problem("record", f"record {name}", f"custody entry {self.records[name][0]} logged it, "
                                                                "but the database no longer holds it (deleted)"))
        return problems


def _check_anchor(rows: Sequence[tuple[int, str, str]], anchored: tuple[int, str] | None) -> list[Problem]:
    """The log must still hold the entry custody.head anchors, unchanged (entries after it may be newer)."""
    if anchored is None:
        return [Problem("custody", "head", f"{HEAD_FILE} is missing or unreadable: whether the newest entries "
                                           "were removed cannot be checked")]
    seq, digest = anchored
    stored = next((h for s, _, h in reversed(rows) if s == seq), None)
    last = rows[-1][0] if rows else 0
    if stored is None:
        return [Problem("custody", "head", f"{HEAD_FILE} anchors entry {seq}, but the log ends at entry {last}: "
                                           "its newest entries were removed")]
    if stored != digest:
        return [Problem("custody", "head", f"entry {seq} is not the one {HEAD_FILE} anchors ({digest}): the log "
                                           "was rewritten from there on")]
    return []


def _pid_alive(pid: str) -> bool:
    """Whether the process that wrote a tmp/ file may still be writing it."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def row_sha256(row: dict[str, Any]) -> str:
    """The hash the custody log records for an item or acquisition row: its columns as canonical JSON."""
    return canonical_sha256(row)


def _row_sha256(db: sqlite3.Connection, table: str, column: str, value: Any) -> str:
    cur = db.execute(f"SELECT * FROM {table} WHERE {column}=?", (value,))
    names = [d[0] for d in cur.description]
    return row_sha256(dict(zip(names, cur.fetchone())))


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
