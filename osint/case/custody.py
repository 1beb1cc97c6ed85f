"""The hash-chained custody log: every action on a case is one entry that commits to the one before it.

An entry is canonical JSON (sorted keys, no spaces, UTF-8); its hash is SHA-256 of those bytes, and each
entry names the previous entry's hash, so editing, removing, inserting or reordering any entry breaks the
chain at that point. The newest hash (the head) is the anchor to write down or sign.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    """Canonical JSON bytes: the form that is hashed and signed everywhere in osint."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_sha256(obj: Any) -> str:
    """SHA-256 of the canonical JSON of `obj`: how the custody log names a record's content."""
    return hashlib.sha256(canonical(obj)).hexdigest()


def result_sha256(data: Any, error: str | None) -> str:
    """The hash the custody log records for one stored stage result (exporters and verifiers recompute it)."""
    return canonical_sha256({"data": data, "error": error})


@dataclass(frozen=True)
class CustodyEntry:
    """One action: who did what, when, with which tool, on which inputs, producing which outputs.

    `inputs` and `outputs` name content by SHA-256 (or give small literal values such as a source path).
    """

    seq: int
    time: str
    actor: str
    action: str
    tool: str
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    prev: str = GENESIS

    def body(self) -> dict[str, Any]:
        """The fields that are hashed, as a plain dict."""
        return {"seq": self.seq, "time": self.time, "actor": self.actor, "action": self.action,
                "tool": self.tool, "inputs": self.inputs, "outputs": self.outputs,
                "details": self.details, "prev": self.prev}

    def encode(self) -> bytes:
        return canonical(self.body())

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.encode()).hexdigest()

    @classmethod
    def decode(cls, raw: bytes | str) -> CustodyEntry:
        data = json.loads(raw)
        return cls(**data)


@dataclass(frozen=True)
class ChainProblem:
    """Where and why a custody chain stops being trustworthy."""

    seq: int
    reason: str


def check_chain(rows: Sequence[tuple[int, str | bytes | None, str]], start_prev: str = GENESIS,
                start_seq: int = 1) -> list[ChainProblem]:
    """Check (seq, entry JSON, stored hash) rows in order; return every problem found (empty: intact).

    Detects an edited entry (its hash no longer matches, or the next entry's link breaks), a removed,
    inserted or reordered entry (the sequence numbers or the `prev` links no longer follow). A row whose
    entry JSON is None is a withheld anchor (an evidence bundle keeps only its hash): its place in the
    sequence is checked, and the next entry's link pins its hash. `start_prev`/`start_seq` let a reader
    check a slice of a longer chain from a known anchor.
    """
    problems: list[ChainProblem] = []
    prev: str | None = start_prev   # None: unknown, after an entry that could not be read
    expected = start_seq
    for seq, raw, stored in rows:
        if seq != expected:
            problems.append(ChainProblem(seq, f"found where entry {expected} should be: an entry was removed, "
                                              "inserted or reordered"))
        if raw is not None:
            data = raw.encode("utf-8") if isinstance(raw, str) else raw
            try:
                entry = CustodyEntry.decode(data)
            except (ValueError, TypeError) as exc:
                problems.append(ChainProblem(seq, f"not a custody entry ({exc})"))
                prev, expected = None, seq + 1
                continue
            if hashlib.sha256(data).hexdigest() != stored:
                problems.append(ChainProblem(seq, "entry was edited: its content no longer matches its hash"))
            elif entry.encode() != data:
                problems.append(ChainProblem(seq, "not in the canonical form it was hashed in (edited)"))
            if entry.seq != seq:
                problems.append(ChainProblem(seq, f"entry says seq {entry.seq} but is stored at {seq}"))
            if prev is not None and entry.prev != prev:
                problems.append(ChainProblem(seq, "does not link to the entry before it: that entry was edited, "
                                                  "removed or reordered"))
        prev, expected = stored, seq + 1
    return problems
