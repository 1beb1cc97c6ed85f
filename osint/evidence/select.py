"""Which items go into a bundle: by SHA-256 prefix, by person, by duplicate group, or all.

Stages are read generically (no stage package is imported): a person's items are those whose stored
results or records name the person's id as a value (reference photos, reviewers' decisions), except records
whose "decision" is "rejected" (a reviewer said it is not that person). Match candidates nobody reviewed are
only in stored results if a stage stores them; otherwise export them by --items. A group is an item and
its near duplicates (reposts), the group `osint dupes` shows: hash and local-feature links from what the case
has stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from osint.case import Case, Item
from osint.errors import CaseError

SHA_RE = re.compile(r"[0-9a-f]{64}")
PERSON_KIND = "person"


@dataclass(frozen=True)
class Selection:
    """The items to export, how they were chosen (shown in the bundle) and the persons it concerns."""

    items: tuple[Item, ...]
    how: str
    persons: tuple[str, ...] = ()


def strings(obj: Any) -> Iterator[str]:
    """Every string value (and dict key) inside JSON-plain data."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from strings(v)


def shas_in(obj: Any) -> set[str]:
    """Every 64-hex-digit string (a SHA-256) found inside data, also inside longer strings such as paths."""
    return {m for s in strings(obj) for m in SHA_RE.findall(s.lower())}


def _items_by_sha(case: Case, shas: set[str]) -> list[Item]:
    known = {it.sha256: it for it in case.items(role=None)}
    return [known[s] for s in sorted(shas) if s in known]


def select_items(case: Case, *, prefixes: Sequence[str] = (), person: str | None = None,
                 group: str | None = None, everything: bool = False) -> Selection:
    """Resolve exactly one way of choosing items; raises CaseError with a clear reason if none match."""
    chosen = sum([bool(prefixes), person is not None, group is not None, everything])
    if chosen != 1:
        raise CaseError("choose the items with exactly one of --items, --person, --group or --all")
    if everything:
        items = case.items(role=None)
        if not items:
            raise CaseError("the case holds no items")
        return Selection(tuple(items), "all items")
    if prefixes:
        found = {it.sha256: it for it in (case.item(p) for p in prefixes)}
        return Selection(tuple(found[s] for s in sorted(found)), "items " + ", ".join(sorted(prefixes)))
    if person is not None:
        return _by_person(case, person)
    return _by_group(case, str(group))


def _by_person(case: Case, person: str) -> Selection:
    shas: set[str] = set()
    quoted = json.dumps(person, ensure_ascii=False)[1:-1]
    for result in case.search_results(f'"{quoted}"'):
        if person in strings(result.data):
            shas.add(result.sha256)
    for _, key, data in case.all_records():
        rejected = isinstance(data, dict) and data.get("decision") == "rejected"
        if not rejected and (key == person or person in strings(data)):
            shas |= shas_in(data) | shas_in(key)
    items = _items_by_sha(case, shas)
    if not items:
        known = sorted(case.records(PERSON_KIND))
        hint = f" (persons in the case: {', '.join(known[:10])})" if known else " (no persons recorded yet)"
        raise CaseError(f"no item in the case is linked to person {person!r}{hint}")
    return Selection(tuple(items), f"person {person}", (person,))


def _by_group(case: Case, sha_prefix: str) -> Selection:
    """The item named by `sha_prefix` and every near duplicate of it, from the case's stored hashes."""
    from osint.hashing import repost_groups, stored_hashes

    item = case.item(sha_prefix)
    hashes, _ = stored_hashes(case)
    if item.sha256 not in hashes:
        raise CaseError(f"{item.sha256[:12]} has no stored perceptual hashes: run `osint hash` first")
    members = next((set(g.members) for g in repost_groups(case)[1] if item.sha256 in g.members), {item.sha256})
    return Selection(tuple(_items_by_sha(case, members)), f"near-duplicate group of {item.sha256[:12]}")
