"""Mark a case's items that are on a hash list of known material, and write the case's hashes as such a list.

An item is known when its SHA-256, MD5 or SHA-1 equals a listed one, when one of its pictures is within
the PDQ threshold of a listed PDQ (mirrored and rotated pictures too), or when a video's vPDQ matches a listed
vPDQ (one contains the other: Meta's thresholds, osint.hashing.vpdq). Each mark is a case record
("known", "<list>/<sha256>") with the list's name, label and source and how it matched, written and logged
through the case, so `ls`, `show`, the report and evidence bundles show it. Importing a list again under
the same name replaces its marks (a mark the new list no longer supports is deleted, logged).
Exports carry hashes and labels only, never pictures.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osint.case import Case, default_actor
from osint.known.lists import HashList

KIND = "known"
DIGEST_STAGE, DIGEST_VERSION = "digests", "md5+sha1/1"


def file_digests(path: Path) -> dict[str, str]:
    """MD5 and SHA-1 of a file, streamed (the hashes other teams' lists and VICS use besides SHA-256)."""
    md5, sha1 = hashlib.md5(), hashlib.sha1()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            md5.update(chunk)
            sha1.update(chunk)
    return {"md5": md5.hexdigest(), "sha1": sha1.hexdigest()}


def case_digests(case: Case, executor: Any = None) -> dict[str, dict[str, str]]:
    """{sha256: {"md5", "sha1"}} for every item, computed once per item and cached as a stage result."""
    from osint.pipeline import run_stage

    run_stage(case, DIGEST_STAGE, DIGEST_VERSION, file_digests, case.items(role=None), executor=executor)
    return {r.sha256: r.data for r in case.results(DIGEST_STAGE, DIGEST_VERSION) if r.error is None}


@dataclass(frozen=True)
class Mark:
    """One item found on a list: how (`by`: sha256, md5, sha1, pdq or vpdq; PDQ distance and transform, or for
    vpdq the frame distance and the shares of frames matched in `transform`), which label."""

    sha256: str
    list: str
    label: str
    source: str
    by: str
    distance: int
    transform: str

    @property
    def key(self) -> str:
        return f"{self.list}/{self.sha256}"


def find_marks(case: Case, name: str, hashes: HashList, pdq_threshold: int,
               executor: Any = None) -> list[Mark]:
    """Every (item, list entry) match: exact SHA-256/MD5/SHA-1, PDQ within `pdq_threshold` bits, or vPDQ."""
    from osint.hashing import HashSet, stored_hashes

    by_kind: dict[str, dict[str, list[int]]] = {}
    for k, e in enumerate(hashes.entries):
        by_kind.setdefault(e.kind, {}).setdefault(e.value, []).append(k)
    found: dict[tuple[str, int], Mark] = {}

    def add(sha: str, k: int, by: str, distance: int = 0, transform: str = "identity") -> None:
        e = hashes.entries[k]
        old = found.get((sha, k))
        if old is None or (distance, by != "pdq") < (old.distance, old.by != "pdq"):
            found[(sha, k)] = Mark(sha, name, e.label, e.source, by, distance, transform)

    items = case.items(role=None)
    for it in items:
        for k in by_kind.get("sha256", {}).get(it.sha256, []):
            add(it.sha256, k, "sha256")
    if "md5" in by_kind or "sha1" in by_kind:
        for sha, d in case_digests(case, executor).items():
            for kind in ("md5", "sha1"):
                for k in by_kind.get(kind, {}).get(d[kind], []):
                    add(sha, k, kind)
    if "pdq" in by_kind:
        pdq_rows = [k for k, e in enumerate(hashes.entries) if e.kind == "pdq"]
        stored = stored_hashes(case)[0]
        for j, sha, ev in HashSet(stored).near_pdq([hashes.entries[k].value for k in pdq_rows], pdq_threshold):
            add(sha, pdq_rows[j], "pdq", ev.distance, ev.transform)
    if "vpdq" in by_kind:
        _vpdq_marks(case, hashes, add)
    # one mark per (item, label): the closest evidence for it
    best: dict[tuple[str, str, str], Mark] = {}
    for m in found.values():
        old = best.get((m.sha256, m.label, m.source))
        if old is None or m.distance < old.distance:
            best[(m.sha256, m.label, m.source)] = m
    return sorted(best.values(), key=lambda m: (m.sha256, m.label, m.source))


def _vpdq_marks(case: Case, hashes: HashList, add: Callable[[str, int, str, int, str], None]) -> None:
    """Add a mark for every (stored video vPDQ, listed vPDQ) pair where one video contains the other."""
    from osint.hashing import stored_vpdq
    from osint.hashing.vpdq import DISTANCE, containment, from_text

    videos = stored_vpdq(case)
    rows = [k for k, e in enumerate(hashes.entries) if e.kind == "vpdq"]
    shas = list(videos)
    found = containment([*(videos[s] for s in shas), *(from_text(hashes.entries[k].value) for k in rows)])
    for (i, j), match in found.items():
        if i < len(shas) <= j and match.linked:     # a case video and a listed one (i < j always)
            add(shas[i], rows[j - len(shas)], "vpdq", DISTANCE, match.describe())


def mark_known(case: Case, name: str, list_sha256: str, marks: list[Mark], details: dict[str, Any]) -> int:
    """Store the list's marks as case records (one logged entry each); delete this list's marks no longer
    supported. Returns how many old marks were deleted."""
    records: dict[str, list[dict[str, Any]]] = {}
    for m in marks:
        records.setdefault(m.key, []).append({"label": m.label, "source": m.source, "by": m.by,
                                              "distance": m.distance, "transform": m.transform})
    for key, found in records.items():
        data = {"list": name, "item": key.split("/")[-1], "list_sha256": list_sha256, "matches": found}
        if case.record(KIND, key) != data:
            case.put_record(KIND, key, data, action="known:mark", inputs={"list_sha256": list_sha256},
                            details=details)
    stale = [key for key in case.records(KIND) if key.startswith(f"{name}/") and key not in records]
    for key in stale:
        case.delete_record(KIND, key, action="known:unmark")
    return len(stale)


def known_marks(case: Case) -> dict[str, list[dict[str, Any]]]:
    """{sha256: [{"list", "label", "source", "by", "distance", "transform"}, ...]} over every imported list."""
    out: dict[str, list[dict[str, Any]]] = {}
    for data in case.records(KIND).values():
        for m in data["matches"]:
            out.setdefault(data["item"], []).append({"list": data["list"], **m})
    return out


def known_text(marks: list[dict[str, Any]]) -> str:
    """One short cell for a table: each list and label, with the PDQ distance or vPDQ shares where it was not exact."""
    return "; ".join(f"{m['list']}: {m['label']}" + (f" (PDQ {m['distance']})" if m["by"] == "pdq" else
                                                     f" ({m['transform']})" if m["by"] == "vpdq" else "")
                     for m in marks)


def export_rows(case: Case, label: str, source: str, executor: Any = None) -> list[dict[str, str]]:
    """One row per item (all roles): SHA-256, MD5, SHA-1, the PDQ of a photo's full view, a video's vPDQ (when
    computed), its label(s)."""
    from osint.hashing import MIN_QUALITY, stored_hashes, stored_vpdq
    from osint.hashing.vpdq import to_text

    digests = case_digests(case, executor)
    hashes = stored_hashes(case)[0]
    videos = stored_vpdq(case)
    marks = known_marks(case)
    rows = []
    for it in case.items(role=None):
        frames = hashes[it.sha256].frames if it.sha256 in hashes and it.media_type == "image" else ()
        pdq = frames[0].pdq if frames and frames[0].pdq_quality >= MIN_QUALITY else ""
        labels = sorted({m["label"] for m in marks.get(it.sha256, [])}) or [label]
        d = digests.get(it.sha256, {})
        rows.append({"sha256": it.sha256, "md5": d.get("md5", ""), "sha1": d.get("sha1", ""), "pdq": pdq,
                     "vpdq": to_text(videos[it.sha256]) if it.sha256 in videos else "",
                     "label": "; ".join(x for x in labels if x), "source": source})
    return rows


EXPORT_COLUMNS = ("sha256", "md5", "sha1", "pdq", "vpdq", "label", "source")


def vics_bytes(case: Case, rows: list[dict[str, str]]) -> bytes:
    """VICS 2.0 JSON of the rows (the evidence package's envelope): MD5, SHA1, size; SHA-256, PDQ and the label
    in Comments (VICS 2.0 has no field for them), the label also in Tags; a video's vPDQ in AlternativeHashes
    (HashName "vPDQ"), where VICS tools keep hashes beyond MD5 and SHA1 (PhotoDNA)."""
    from osint.evidence.vics import vics_document

    items = {it.sha256: it for it in case.items(role=None)}
    media = []
    for n, r in enumerate(rows, 1):
        notes = [f"SHA-256 {r['sha256']}"] + ([f"PDQ {r['pdq']}"] if r["pdq"] else []) + \
                ([f"label {r['label']}"] if r["label"] else [])
        media.append({"MediaID": n, "Category": 0, "IsPrecategorized": "false", "MD5": r["md5"].upper(),
                      "SHA1": r["sha1"].upper(), "MediaSize": items[r["sha256"]].size,
                      "Tags": ";".join(["osint", *([r["label"]] if r["label"] else [])]), "Comments": "; ".join(notes),
                      **({"AlternativeHashes": [{"HashName": "vPDQ", "HashValue": r["vpdq"]}]} if r["vpdq"] else {})})
    return vics_document(case, media)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a temporary file beside it, then renamed)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_export(case: Case, path: Path, fmt: str, rows: list[dict[str, str]], data: bytes) -> None:
    """Write an export of `rows` (already rendered as `data`: CSV or VICS) at `path`, atomically, and log it."""
    write_atomic(path, data)
    case.append_custody("known:export", default_actor(), inputs={"items": [r["sha256"] for r in rows]},
                        outputs={"file": path.name, "sha256": hashlib.sha256(data).hexdigest()},
                        details={"format": fmt, "rows": len(rows), "pictures": 0})
