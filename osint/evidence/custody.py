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

from osint.case import GENESIS, CustodyEntry, canonical

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
    """Parse custody.jsonl and check the chain end to end; problems name the entry and what broke."""
    problems: list[tuple[str, str]] = []
    entries: list[CustodyEntry] = []
    prev, expected, total = GENESIS, 1, 0
    for lineno, line in enumerate(data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"), 1):
        where = f"custody line {lineno}"
        total += 1
        try:
            obj = json.loads(line)
        except ValueError as exc:
            problems.append((where, f"not valid JSON ({exc})"))
            prev, expected = "?", expected + 1
            continue
        if not isinstance(obj, dict):
            problems.append((where, "not a custody entry"))
            prev, expected = "?", expected + 1
            continue
        if obj.get("withheld") is True:
            seq, link, digest = obj.get("seq"), obj.get("prev"), obj.get("hash")
            if not (isinstance(digest, str) and HEX64.fullmatch(digest)):
                problems.append((where, "withheld entry has no valid hash"))
        else:
            try:
                entry = CustodyEntry.decode(line)
            except (TypeError, ValueError) as exc:
                problems.append((where, f"not a custody entry ({exc})"))
                prev, expected = "?", expected + 1
                continue
            if entry.encode() != line:
                problems.append((f"custody entry {entry.seq}", "not in the canonical form it was hashed in "
                                                               "(edited)"))
            seq, link, digest = entry.seq, entry.prev, hashlib.sha256(line).hexdigest()
            entries.append(entry)
        where = f"custody entry {seq}"
        if seq != expected:
            problems.append((where, f"found where entry {expected} should be: an entry was removed, inserted "
                                    "or reordered"))
        if link != prev and prev != "?":
            problems.append((where, "does not link to the entry before it: that entry was edited, removed "
                                    "or reordered"))
        prev, expected = str(digest), (seq if isinstance(seq, int) else expected) + 1
    return BundleCustody(tuple(entries), total, prev, tuple(problems))
