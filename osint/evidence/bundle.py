"""Export: a signed BagIt (RFC 8493) bag of chosen items, their analysis and their chain of custody.

Layout (folder or zip; in a zip everything sits under one top folder)::

    bagit.txt, bag-info.txt            BagIt declaration; who exported, when (signer's claim), case, counts
    manifest-sha256.txt                SHA-256 of every payload file (sha256sum -c reads it)
    data/originals/<sha256>.<ext>      the originals, copied byte for byte from the case store
    data/derived/<sha256><suffix>      files analysis made from them (face crops, keyframes, maps)
    data/results.json                  hashes, acquisitions, every stage's stored results, records
    data/vics.json                     (with --format vics) Project VIC VICS 2.0 JSON
    custody/custody.jsonl              the custody log: whole entries about these items, anchors otherwise
    summary.html                       the readable summary for prosecutors (offline, self-contained)
    signer.json, signer.pem            who signed: name, role, fingerprint, public key
    tagmanifest-sha256.txt             SHA-256 of every tag file above (so the signature covers them all)
    tagmanifest-sha256.txt.sig         detached Ed25519 signature (64 raw bytes) over tagmanifest-sha256.txt
    tagmanifest-sha256.txt.tsr         (with --tsa) RFC 3161 timestamp token over the signature

The payload depends only on the items and the case's stored analysis, so exporting the same items twice
gives byte-identical manifest-sha256.txt. Privacy: hashes, paths and URLs of items not in the bundle and
ids of other persons are replaced by "[withheld]" in results and records (such results are marked
`redacted`); custody entries not about the bundled items are reduced to anchors (see custody.py).
Limit: a custody entry about a bundled item is kept whole, so one that also names other items (a batch
analysis run, an earlier export) carries their SHA-256s: hashes only, never their paths, URLs or content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from osint import TOOL
from osint.case import Case, Item, canonical, canonical_sha256, default_actor, result_sha256
from osint.errors import CaseError, OsintError
from osint.evidence.archive import Source, write_folder, write_zip
from osint.evidence.custody import bundle_custody
from osint.evidence.keys import EVIDENCE_LEAD, Signer
from osint.evidence.select import PERSON_KIND, SHA_RE, Selection, shas_in

RESULTS_FORMAT = "osint-evidence-results/1"
CUSTODY_FILE = "custody/custody.jsonl"
SIGNATURE_FILE = "tagmanifest-sha256.txt.sig"
TIMESTAMP_FILE = "tagmanifest-sha256.txt.tsr"
WITHHELD = "[withheld]"
SIGNER_CLAIM = ("the signer's claim: the time on the signer's computer, not proven by a timestamp "
                "authority")
EXTENSIONS = {"jpeg": ".jpg", "tiff": ".tif"}


@dataclass(frozen=True)
class ExportResult:
    """What was written: the bundle, counts, the signed tag manifest's hash and the custody entry logging it."""

    path: Path
    items: int
    derived: int
    payload_files: int
    payload_bytes: int
    tagmanifest_sha256: str
    signer: str
    fingerprint: str
    custody_seq: int
    redacted_results: int
    withheld_entries: int
    timestamped: bool = False
    files: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Hashed:
    sha256: str
    md5: str
    sha1: str
    size: int


def _hash_file(path: Path) -> _Hashed:
    s256, md5, sha1, size = hashlib.sha256(), hashlib.md5(), hashlib.sha1(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            s256.update(chunk)
            md5.update(chunk)
            sha1.update(chunk)
            size += len(chunk)
    return _Hashed(s256.hexdigest(), md5.hexdigest(), sha1.hexdigest(), size)


class _Scrubber:
    """Replaces what belongs to other items and persons (hashes, paths, URLs, ids) with "[withheld]"."""

    def __init__(self, case: Case, keep: set[str], persons: Iterable[str]):
        self.foreign: set[str] = set()
        own: set[str] = set()
        for acq in case.acquisitions():
            values = {v for v in (acq.original_path, acq.source_url) if v}
            if acq.sha256 in keep:
                own |= values
            else:
                self.foreign |= values | {acq.sha256}
        self.foreign -= own   # a channel URL shared with a bundled item is the bundled item's provenance too
        chosen = set(persons)
        self.foreign |= {p for p in case.records(PERSON_KIND) if p not in chosen}

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, str):
            if obj in self.foreign:
                return WITHHELD
            return SHA_RE.sub(lambda m: WITHHELD if m.group(0) in self.foreign else m.group(0), obj)
        if isinstance(obj, dict):
            return {self(k): self(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self(v) for v in obj]
        return obj


def _derived_files(case: Case, shas: set[str]) -> dict[str, Path]:
    """Files under the case's derived/ store named by any of `shas` (suffix unknown, so globbed)."""
    found: dict[str, Path] = {}
    for sha in sorted(shas):
        for path in sorted((case.root / "derived" / sha[:2]).glob(f"{sha}*")):
            if path.is_file():
                found[path.name] = path
    return found


def _manifest(hashes: dict[str, str]) -> bytes:
    return "".join(f"{hashes[p]}  {p}\n" for p in sorted(hashes)).encode("utf-8")


def _bag_info(fields: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {' '.join(str(v).split())}\n" for k, v in fields).encode("utf-8")


def export_bundle(case: Case, selection: Selection, out: Path, signer: Signer, *, actor: str | None = None,
                  vics: bool = False, tsa_url: str | None = None, now: datetime | None = None) -> ExportResult:
    """Copy the selected items, their analysis and custody into a signed bag at `out` (.zip: a zip).

    Only a key whose role is evidence-lead may sign, and only a case that verifies (`Case.verify`, with
    the exported originals re-hashed) is signed, from the same snapshot of its database. The case's
    originals are only read. The bundle appears at `out` together with one custody entry (action "export")
    naming the items and the signed tag manifest's SHA-256: a killed export leaves neither once the case
    is next opened (see `Case.begin_output`).
    """
    if signer.info.role != EVIDENCE_LEAD:
        raise OsintError(f"key {signer.info.name!r} has role {signer.info.role!r}: only an {EVIDENCE_LEAD} key "
                         "may sign evidence bundles")
    actor = actor or default_actor()
    out = Path(out)
    output = case.begin_output(out)
    published = False
    try:
        with case.snapshot():  # what is signed is read from one state of the database: the one verified
            check = case.verify(originals={it.sha256 for it in selection.items})
            if not check.ok:
                first = check.problems[0]
                raise CaseError(f"the case does not verify, so nothing is signed: {len(check.problems)} "
                                f"problem(s); first: {first.kind} {first.where}: {first.reason} "
                                "(`osint log verify` lists them all)")
            done = _assemble(case, selection, signer, actor, vics, tsa_url, now or datetime.now(timezone.utc))
        if out.suffix.lower() == ".zip":
            write_zip(output.part, done.entries, out.stem,
                      stored=frozenset(r for r in done.entries if r.startswith("data/originals/")))
        else:
            write_folder(output.part, done.entries)
        logged = case.publish_output(
            output, "export", actor, inputs={"items": sorted(it.sha256 for it in selection.items)},
            outputs={"bundle": out.name, "tagmanifest_sha256": done.result.tagmanifest_sha256,
                     "custody_head": done.head},
            details={"selection": selection.how, "signer": signer.info.name, "signer_role": signer.info.role,
                     "fingerprint": signer.info.fingerprint, "payload_files": done.result.payload_files,
                     "payload_bytes": done.result.payload_bytes, "vics": vics, "timestamped": bool(tsa_url)})
        published = True
    finally:
        if not published:
            case.abandon_output(output)
    return replace(done.result, path=out, custody_seq=logged.seq)


@dataclass(frozen=True)
class _Assembled:
    entries: dict[str, Source]
    head: str
    result: ExportResult


def _assemble(case: Case, selection: Selection, signer: Signer, actor: str, vics: bool, tsa_url: str | None,
              now: datetime) -> _Assembled:
    """Every file of the bag, signed, from the case as it is read now (inside the caller's snapshot)."""
    from osint.evidence.summary import summary_html
    from osint.evidence.vics import vics_json

    keep = {it.sha256 for it in selection.items}
    scrub = _Scrubber(case, keep, selection.persons)

    payload: dict[str, Source] = {}
    hashed: dict[str, _Hashed] = {}
    originals: dict[str, str] = {}
    for item in selection.items:
        path = case.object_path(item.sha256)
        try:
            digest = _hash_file(path)
        except OSError as exc:
            raise CaseError(f"original {item.sha256} cannot be read from the case store: {exc}") from None
        if digest.sha256 != item.sha256:
            raise CaseError(f"original {item.sha256} in the case store no longer matches its hash; "
                            "run `osint log verify` before exporting")
        rel = f"data/originals/{item.sha256}{EXTENSIONS.get(item.format.lower(), '.' + item.format.lower())}"
        payload[rel], hashed[rel], originals[item.sha256] = path, digest, rel

    results, redacted = _results(case, keep, scrub)
    records = _records(case, keep, selection.persons, scrub)
    derived = _derived_files(case, shas_in([results, records]) - keep)
    for name, path in derived.items():
        rel = f"data/derived/{name}"
        payload[rel], hashed[rel] = path, _hash_file(path)

    rows = case.custody_rows()
    markers = keep | {json.dumps(f"{r['kind']}/{r['key']}", ensure_ascii=False) for r in records}
    about = _about(markers)
    custody_bytes, whole = bundle_custody(rows, about)
    analysis = _analysis_details(rows, about)
    doc = {"format": RESULTS_FORMAT, "tool": TOOL, "case": {"id": case.id, "name": case.name},
           "selection": selection.how, "persons": list(selection.persons),
           "items": [_item_doc(case, it, originals[it.sha256], hashed[originals[it.sha256]], scrub)
                     for it in selection.items],
           "results": results, "records": records, "analysis": analysis,
           "derived": sorted(f"data/derived/{n}" for n in derived),
           "note": "Results are leads for human review, never verdicts. Each stage's version, model and "
                   "thresholds are in `analysis`, taken from the custody entries that logged them."}
    payload["data/results.json"] = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    if vics:
        payload["data/vics.json"] = vics_json(case, selection, doc, {r: hashed[r] for r in originals.values()})
    made = {rel: src for rel, src in payload.items() if isinstance(src, bytes)}
    payload_hashes = {rel: hashed[rel].sha256 for rel in hashed} | {
        rel: hashlib.sha256(src).hexdigest() for rel, src in made.items()}
    payload_bytes = sum(h.size for h in hashed.values()) + sum(len(b) for b in made.values())

    head = rows[-1][2] if rows else "0" * 64
    withheld = len(rows) - whole
    export_time = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    time_source = "RFC 3161 timestamp token in tagmanifest-sha256.txt.tsr" if tsa_url else SIGNER_CLAIM
    info = [("Source-Organization", signer.info.name), ("Contact-Name", signer.info.name),
            ("Bagging-Date", now.strftime("%Y-%m-%d")),
            ("Payload-Oxum", f"{payload_bytes}.{len(payload)}"),
            ("External-Description", f"osint evidence bundle: {len(selection.items)} item(s), {selection.how}, "
                                     f"from case {case.name}. Results are leads for human review."),
            ("Exported-By", actor), ("Export-Time", export_time), ("Time-Source", time_source),
            ("Case-Id", case.id), ("Case-Name", case.name), ("Selection", selection.how),
            ("Item-Count", str(len(selection.items))), ("Derived-Count", str(len(derived))),
            ("Custody-Entries", str(len(rows))), ("Custody-Withheld", str(withheld)),
            ("Custody-Head", head), ("Signer", signer.info.name), ("Signer-Role", signer.info.role),
            ("Signer-Fingerprint", signer.info.fingerprint), ("Bag-Software-Agent", TOOL)]
    tags: dict[str, bytes] = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": _bag_info(info),
        "manifest-sha256.txt": _manifest(payload_hashes),
        CUSTODY_FILE: custody_bytes,
        "signer.pem": signer.info.public_pem(),
        "signer.json": json.dumps({"name": signer.info.name, "role": signer.info.role,
                                   "fingerprint": signer.info.fingerprint,
                                   "public_key_pem": signer.info.public_pem().decode("ascii"),
                                   "signed_at": export_time, "time_source": time_source},
                                  indent=2, ensure_ascii=False).encode() + b"\n",
    }
    tags["summary.html"] = summary_html(doc, dict(info), custody_bytes, payload_hashes)
    tagmanifest = _manifest({p: hashlib.sha256(b).hexdigest() for p, b in tags.items()})
    signature = signer.sign(tagmanifest)
    entries: dict[str, Source] = {**payload, **tags, "tagmanifest-sha256.txt": tagmanifest,
                                  SIGNATURE_FILE: signature}
    if tsa_url:
        from osint.evidence.tsa import request_timestamp

        entries[TIMESTAMP_FILE] = request_timestamp(tsa_url, signature)
    tm_sha = hashlib.sha256(tagmanifest).hexdigest()
    return _Assembled(entries, head, ExportResult(
        Path(), len(selection.items), len(derived), len(payload), payload_bytes, tm_sha, signer.info.name,
        signer.info.fingerprint, 0, redacted, withheld, bool(tsa_url), tuple(sorted(entries))))


def _about(markers: set[str]) -> Any:
    """A test for raw custody entries: whole when about the bundle (names a marker) or the case's creation."""
    def about(raw: str) -> bool:
        if '"action":"init"' in raw:
            return True
        return any(m in raw for m in markers)
    return about


def _results(case: Case, keep: set[str], scrub: _Scrubber) -> tuple[list[dict[str, Any]], int]:
    """Every stored stage result of the kept items, scrubbed; each with the hash its custody entry logged."""
    out, redacted = [], 0
    for r in case.item_results(keep):
        sha, stage, version, value, error, created = r.sha256, r.stage, r.version, r.data, r.error, r.created_at
        logged = result_sha256(value, error)
        clean = scrub(value)
        changed = clean != value or scrub(error) != error
        redacted += changed
        out.append({"sha256": sha, "stage": stage, "version": version, "data": clean,
                    "error": scrub(error), "created_at": created, "logged_sha256": logged, "redacted": changed})
    return out, redacted


def _records(case: Case, keep: set[str], persons: tuple[str, ...], scrub: _Scrubber) -> list[dict[str, Any]]:
    """Records naming a kept item (reference photos, decisions) and the chosen persons' own, scrubbed."""
    out = []
    for kind, key, data in case.all_records():
        if not (keep & (shas_in(data) | shas_in(key)) or key in persons):
            continue
        clean = scrub(data)
        out.append({"kind": kind, "key": key, "data": clean, "redacted": clean != data,
                    "logged_sha256": canonical_sha256(data)})
    return out


def _analysis_details(rows: list[tuple[int, str, str]], about: Any) -> list[dict[str, Any]]:
    """Each analysis run on these items as its custody entry logged it: stage, version, models, thresholds."""
    seen: dict[str, dict[str, Any]] = {}
    for seq, raw, _ in rows:
        entry = json.loads(raw)
        if entry["action"].startswith("analyse:") and about(raw):
            details = entry.get("details", {})
            key = canonical([entry["action"], details]).decode()
            seen.setdefault(key, {"action": entry["action"], "details": details, "first_entry": seq,
                                  "actor": entry["actor"], "tool": entry["tool"]})
    return sorted(seen.values(), key=lambda d: d["first_entry"])


def _item_doc(case: Case, item: Item, rel: str, digest: _Hashed, scrub: _Scrubber) -> dict[str, Any]:
    return {"sha256": item.sha256, "md5": digest.md5, "sha1": digest.sha1, "size": item.size,
            "file": rel, "media_type": item.media_type, "format": item.format, "mime": item.mime,
            "width": item.width, "height": item.height, "role": item.role, "added_at": item.added_at,
            "metadata": scrub(item.metadata), "metadata_error": item.metadata_error,
            "acquisitions": [{"acquired_at": a.acquired_at, "collector": a.collector,
                              "source_url": a.source_url, "original_path": a.original_path,
                              "original_mtime": a.original_mtime, "note": a.note, "tool": a.tool}
                             for a in case.acquisitions(item.sha256)]}
