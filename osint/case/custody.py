"""The hash-chained custody log: every action on a case is one entry that commits to the one before it.

An entry is canonical JSON (sorted keys, no spaces, UTF-8); its hash is SHA-256 of those bytes, and each
entry names the previous entry's hash, so editing, removing, inserting or reordering any entry breaks the
chain at that point. The newest hash (the head) is the anchor to write down or sign.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    """Canonical JSON bytes: the form that is hashed and signed everywhere in osint."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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


def check_chain(rows: list[tuple[int, str, str]], start_prev: str = GENESIS,
                start_seq: int = 1) -> list[ChainProblem]:
    """Check (seq, entry_json, stored_hash) rows in order; return every problem found (empty: intact).

    Detects an edited entry (its hash no longer matches), a removed, inserted or reordered entry (the
    sequence numbers or the `prev` links no longer follow). `start_prev`/`start_seq` let a reader check a
    slice of a longer chain from a known anchor.
    """
    problems: list[ChainProblem] = []
    prev, expected = start_prev, start_seq
    for seq, raw, stored in rows:
        try:
            entry = CustodyEntry.decode(raw)
        except (ValueError, TypeError) as exc:
            problems.append(ChainProblem(seq, f"entry is not valid custody JSON: {exc}"))
            prev, expected = stored, seq + 1
            continue
        actual = hashlib.sha256(raw.encode("utf-8") if isinstance(raw, str) else raw).hexdigest()
        if actual != stored:
            problems.append(ChainProblem(seq, "entry was edited: its content no longer matches its hash"))
        elif entry.encode() != (raw.encode("utf-8") if isinstance(raw, str) else raw):
            problems.append(ChainProblem(seq, "entry is not in canonical form"))
        if entry.seq != seq:
            problems.append(ChainProblem(seq, f"entry says seq {entry.seq} but is stored at {seq}"))
        if seq != expected:
            problems.append(ChainProblem(seq, f"expected entry {expected} here: an entry was removed, "
                                              "inserted or reordered"))
        if entry.prev != prev:
            problems.append(ChainProblem(seq, "link to the previous entry is broken: an entry before it "
                                              "was removed, inserted, reordered or edited"))
        prev, expected = stored, seq + 1
    return problems
