"""The custody log as a bundle carries it: whole entries about the bundled items, anchors for the rest.

`custody/custody.jsonl` holds one line per entry of the case's log, from entry 1 to the head at export:

* an entry about the bundled material (it names one of the items' hashes, a bundled record such as
  "person/UA-0412", or a bundled person's id), and the case's creation, is written whole,
  byte for byte as the case hashed it, so its SHA-256 is the SHA-256 of the line;
* any other entry is withheld (it may be about another child) and written as an anchor
  `{"hash": ..., "prev": ..., "seq": ..., "withheld": true}`.

Every entry names the hash of the one before it, so a reader checks that the lines link from the genesis
value (64 zeros) to the head recorded in bag-info.txt: a whole entry edited no longer hashes to what the next
entry names; an entry removed or reordered breaks the sequence. Withheld entries cannot be re-hashed, but
they are pinned by the whole entries around them and by the signed head.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from osint.case import GENESIS, CustodyEntry, canonical, check_chain

HEX64 = re.compile(r"[0-9a-f]{64}")


def bundle_custody(rows: Sequence[tuple[int, str, str]], about: Callable[[str], bool]) -> tuple[bytes, int]:
    """custody.jsonl bytes from the case's (seq, entry JSON, hash) rows; returns (bytes, whole entries)."""
    lines, whole = [], 0
    for seq, raw, stored in rows:
        if about(raw):
            lines.append(raw.encode("utf-8"))
            whole += 1
        else:
            entry = json.loads(raw)
            lines.append(canonical({"hash": stored, "prev": entry["prev"], "seq": seq, "withheld": True}))
    return b"".join(line + b"\n" for line in lines), whole


@dataclass(frozen=True)
class BundleCustody:
    """What a reader learns from custody.jsonl: whole entries, counts, the head hash, and every problem."""

    entries: tuple[CustodyEntry, ...]
    total: int
    head: str
    problems: tuple[tuple[str, str], ...]   # (where, reason)


def read_bundle_custody(data: bytes) -> BundleCustody:
    """Parse custody.jsonl and check the chain end to end with the case's own chain check (whole entries are
    re-hashed, withheld anchors keep their place and are pinned by the links around them)."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines = lines[:-1]
    rows: list[tuple[int, bytes | None, str]] = []
    entries: list[CustodyEntry] = []
    problems: list[tuple[str, str]] = []
    for lineno, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        seq: int = obj["seq"] if isinstance(obj, dict) and isinstance(obj.get("seq"), int) else lineno
        if isinstance(obj, dict) and obj.get("withheld") is True:
            digest = obj.get("hash")
            if not (isinstance(digest, str) and HEX64.fullmatch(digest)):
                problems.append((f"custody entry {seq}", "withheld entry has no valid hash"))
            rows.append((seq, None, str(digest)))
            continue
        rows.append((seq, line, hashlib.sha256(line).hexdigest()))
        try:
            entries.append(CustodyEntry.decode(line))
        except (TypeError, ValueError):
            pass  # check_chain reports it
    problems += [(f"custody entry {p.seq}", p.reason) for p in check_chain(rows)]
    return BundleCustody(tuple(entries), len(rows), rows[-1][2] if rows else GENESIS, tuple(problems))
