"""Verify a bundle as a recipient would: re-hash everything, check signature, signer and custody chain.

Needs no case and writes nothing: a zip is read in place. Every file is re-hashed (there is no size-only
fast mode). Each failure names what failed (a payload file, a tag file, the signature, the signer, the
custody log, the bag's structure) and why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osint.case import canonical_sha256, result_sha256
from osint.evidence.archive import MAX_TOTAL_BYTES, BagReader, DamagedBundle, HostileBundle
from osint.evidence.bundle import CUSTODY_FILE, SIGNATURE_FILE, TIMESTAMP_FILE
from osint.evidence.custody import read_bundle_custody
from osint.evidence.keys import EVIDENCE_LEAD, KeyProblem, fingerprint, load_public, normalise_fingerprint, \
    verify_signature

UNSIGNED = {"tagmanifest-sha256.txt", SIGNATURE_FILE, TIMESTAMP_FILE}
REQUIRED_TAGS = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", CUSTODY_FILE, "signer.pem", "signer.json")
LINE = re.compile(r"^([0-9a-fA-F]{64})\s+(\S.*)$")


MAX_WACZ_BYTES = 1 << 30  # a captured page's web archive is re-checked in memory up to this size
MIN_TRUST_HEX = 32  # a trusted fingerprint given by prefix must pin at least 128 bits of the key's SHA-256

@dataclass(frozen=True)
class Failure:
    """One thing that failed: `what` is payload, tag file, structure, signature, signer, custody or refused."""

    what: str
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.what}: {self.where}: {self.reason}"


@dataclass(frozen=True)
class BundleReport:
    """The outcome of verifying one bundle. `signer_trusted` is None when no trusted key was given."""

    path: str
    failures: tuple[Failure, ...]
    files_hashed: int = 0
    items: int = 0
    signer: str = ""
    signer_role: str = ""
    fingerprint: str = ""
    signer_trusted: bool | None = None
    custody_entries: int = 0
    custody_whole: int = 0
    custody_head: str = ""
    time: str = ""
    time_source: str = ""
    timestamp: str = ""
    actors: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def verdict(self) -> str:
        """One line: VALID or INVALID, and what it rests on."""
        if not self.ok:
            first = self.failures[0]
            return f"INVALID: {len(self.failures)} problem(s); first: {first}"
        who = f"{self.signer} ({self.signer_role}), key {self.fingerprint}"
        trust = ("signer matches the key you trust" if self.signer_trusted else
                 "signer NOT authenticated: no --pubkey or --trust given, so this only proves nobody changed "
                 "the bundle since whoever holds that key signed it")
        when = (f"timestamped {self.timestamp}" if self.timestamp else
                f"signed at {self.time or '?'} (the signer's claim: no timestamp token)")
        return (f"VALID: {self.files_hashed} files re-hashed, {self.items} originals, custody chain of "
                f"{self.custody_entries} entries intact, signed by {who}; {trust}; {when}")


def _parse_manifest(text: bytes, name: str, failures: list[Failure]) -> dict[str, str]:
    entries: dict[str, str] = {}
    for n, line in enumerate(text.decode("utf-8", "replace").splitlines(), 1):
        m = LINE.match(line)
        if not m:
            failures.append(Failure("structure", f"{name} line {n}", "not a 'sha256  path' line"))
            continue
        entries[m.group(2)] = m.group(1).lower()
    return entries


def _bag_info(text: bytes) -> dict[str, str]:
    info: dict[str, str] = {}
    for line in text.decode("utf-8", "replace").splitlines():
        if ":" in line and not line[:1].isspace():
            key, value = line.split(":", 1)
            info[key.strip()] = value.strip()
    return info


def verify_bundle(path: Path | str, pubkey: bytes | None = None, trusted: Sequence[str] = (),
                  max_bytes: int = MAX_TOTAL_BYTES) -> BundleReport:
    """Check the bundle at `path` (folder or zip). `pubkey`: raw Ed25519 key the signer must hold;
    `trusted`: fingerprints (or prefixes of MIN_TRUST_HEX+ hex digits) accepted instead. Never raises for a bad bundle."""
    path = Path(path)
    try:
        reader = BagReader(path, max_total=max_bytes)
    except HostileBundle as exc:
        return BundleReport(str(path), (Failure("refused", path.name, str(exc)),))
    except DamagedBundle as exc:
        return BundleReport(str(path), (Failure("structure", path.name, str(exc)),))
    with reader:
        try:
            return _verify(reader, pubkey, trusted)
        except HostileBundle as exc:
            return BundleReport(str(path), (Failure("refused", path.name, str(exc)),))
        except DamagedBundle as exc:
            return BundleReport(str(path), (Failure("structure", path.name, str(exc)),))
        except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
            # well-formed JSON of the wrong shape (a list where an object belongs): a bad bundle, not a crash
            return BundleReport(str(path), (Failure("structure", path.name,
                                                    f"unexpected content: {type(exc).__name__}: {exc}"),))


def _verify(reader: BagReader, pubkey: bytes | None, trusted: Sequence[str]) -> BundleReport:
    failures: list[Failure] = []
    names = set(reader.names())
    for required in ("bagit.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", SIGNATURE_FILE):
        if required not in names:
            failures.append(Failure("structure", required, "missing: this is not a complete osint bundle"))
    if failures:
        return BundleReport(str(reader.path), tuple(failures))
    actual = {name: reader.sha256(name) for name in sorted(names)}  # every file, always re-hashed
    payload = _parse_manifest(reader.read("manifest-sha256.txt"), "manifest-sha256.txt", failures)
    tags = _parse_manifest(reader.read("tagmanifest-sha256.txt"), "tagmanifest-sha256.txt", failures)
    for listed, kind, manifest in ((payload, "payload", "manifest-sha256.txt"),
                                   (tags, "tag file", "tagmanifest-sha256.txt")):
        for rel, expected in sorted(listed.items()):
            if rel not in actual:
                failures.append(Failure(kind, rel, f"file removed: listed in {manifest} but absent"))
            elif actual[rel] != expected:
                failures.append(Failure(kind, rel, f"file changed: it hashes to {actual[rel]}, {manifest} says "
                                                   f"{expected}"))
    for rel in sorted(names):
        if rel.startswith("data/") and rel not in payload:
            failures.append(Failure("payload", rel, "file added: not listed in manifest-sha256.txt"))
        elif not rel.startswith("data/") and rel not in tags and rel not in UNSIGNED:
            failures.append(Failure("tag file", rel, "file added: not listed in tagmanifest-sha256.txt"))
    for rel in payload:
        if not rel.startswith("data/"):
            failures.append(Failure("structure", rel, "manifest-sha256.txt lists a file outside data/"))
    for rel in REQUIRED_TAGS:
        if rel not in tags:
            failures.append(Failure("tag file", rel, "not covered by tagmanifest-sha256.txt, so not signed"))
    info = _bag_info(reader.read("bag-info.txt")) if "bag-info.txt" in names else {}
    report: dict[str, Any] = {"files_hashed": len(actual),
                              "items": sum(1 for r in names if r.startswith("data/originals/")),
                              "time": info.get("Export-Time", ""), "time_source": info.get("Time-Source", "")}
    _check_oxum(reader, info, failures)
    report |= _check_signature(reader, names, pubkey, trusted, failures)
    if TIMESTAMP_FILE in names:
        from osint.evidence.tsa import check_timestamp

        report["timestamp"] = check_timestamp(reader.read(TIMESTAMP_FILE, limit=1 << 20),
                                              reader.read(SIGNATURE_FILE, limit=4096), failures)
    elif "RFC 3161" in info.get("Time-Source", ""):
        failures.append(Failure("timestamp", TIMESTAMP_FILE, "removed: bag-info.txt says the bundle was "
                                                             "timestamped, but the token is absent"))
    if CUSTODY_FILE in names:
        report |= _check_custody(reader, info, failures)
    _check_web_archives(reader, names, failures)
    return BundleReport(str(reader.path), tuple(failures), **report)


def _check_oxum(reader: BagReader, info: dict[str, str], failures: list[Failure]) -> None:
    files = [e for e in reader.entries if e.name.startswith("data/")]
    oxum = f"{sum(e.size for e in files)}.{len(files)}"
    if info.get("Payload-Oxum") != oxum:
        failures.append(Failure("structure", "bag-info.txt", f"Payload-Oxum is {info.get('Payload-Oxum')!r} but "
                                                             f"the payload holds {oxum} (bytes.files)"))
    originals = sum(1 for e in files if e.name.startswith("data/originals/"))
    if info.get("Item-Count") != str(originals):
        failures.append(Failure("structure", "bag-info.txt", f"Item-Count is {info.get('Item-Count')!r} but "
                                                             f"data/originals/ holds {originals}"))


def _check_signature(reader: BagReader, names: set[str], pubkey: bytes | None, trusted: Sequence[str],
                     failures: list[Failure]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        bag_key = load_public(reader.read("signer.pem"))
    except (KeyProblem, KeyError) as exc:
        failures.append(Failure("signer", "signer.pem", f"no usable public key in the bundle: {exc}"))
        bag_key = None
    try:
        signer = json.loads(reader.read("signer.json"))
    except (KeyError, ValueError):
        signer = {}
        failures.append(Failure("signer", "signer.json", "missing or not JSON"))
    out["signer"], out["signer_role"] = str(signer.get("name", "")), str(signer.get("role", ""))
    if signer and signer.get("role") != EVIDENCE_LEAD:
        failures.append(Failure("signer", "signer.json", f"signer's role is {signer.get('role')!r}; only an "
                                                         f"{EVIDENCE_LEAD} may sign a bundle"))
    check_key = pubkey or bag_key
    if bag_key:
        out["fingerprint"] = fingerprint(bag_key)
        if signer and normalise_fingerprint(str(signer.get("fingerprint", ""))) != \
                normalise_fingerprint(out["fingerprint"]):
            failures.append(Failure("signer", "signer.json", "fingerprint does not match signer.pem"))
    if pubkey is not None:
        out["signer_trusted"] = bag_key == pubkey
        if bag_key != pubkey:
            failures.append(Failure("signer", "signer.pem", f"bundle was signed by key {out.get('fingerprint', '?')}, "
                                                            f"not by the key you trust ({fingerprint(pubkey)})"))
    elif trusted and bag_key:
        fp = normalise_fingerprint(fingerprint(bag_key))
        out["signer_trusted"] = any(len(normalise_fingerprint(t)) >= MIN_TRUST_HEX and fp.startswith(normalise_fingerprint(t))
                                    for t in trusted)
        if not out["signer_trusted"]:
            failures.append(Failure("signer", "signer.pem", f"key {fingerprint(bag_key)} is not among the trusted "
                                                            "fingerprints"))
    if check_key is not None:
        signature = reader.read(SIGNATURE_FILE, limit=4096)
        if not verify_signature(check_key, signature, reader.read("tagmanifest-sha256.txt")):
            failures.append(Failure("signature", SIGNATURE_FILE, f"not a valid signature of tagmanifest-sha256.txt "
                                                                 f"by key {fingerprint(check_key)}"))
    return out


def _check_web_archives(reader: BagReader, names: set[str], failures: list[Failure]) -> None:
    """Each captured page's WACZ must match its own datapackage.json digests (a capture's own proof)."""
    from osint.capture.archive import check_wacz

    for rel in sorted(n for n in names if n.startswith("data/derived/") and n.endswith(".wacz")):
        try:
            problems = check_wacz(reader.read(rel, limit=MAX_WACZ_BYTES))
        except HostileBundle:
            problems = [f"larger than {MAX_WACZ_BYTES:,} bytes: its own digests were not checked"]
        failures += [Failure("payload", rel, f"web archive: {p}") for p in problems]


def _check_custody(reader: BagReader, info: dict[str, str], failures: list[Failure]) -> dict[str, Any]:
    from osint.evidence.summary import who_did_what

    chain = read_bundle_custody(reader.read(CUSTODY_FILE, limit=1 << 30))
    failures += [Failure("custody", where, reason) for where, reason in chain.problems]
    if info.get("Custody-Head") != chain.head:
        failures.append(Failure("custody", "head", f"the log ends at {chain.head}, bag-info.txt's Custody-Head "
                                                   f"says {info.get('Custody-Head')}: the last entry was edited, "
                                                   "removed or added"))
    if info.get("Custody-Entries") != str(chain.total):
        failures.append(Failure("custody", "count", f"the log holds {chain.total} entries, bag-info.txt says "
                                                    f"{info.get('Custody-Entries')}"))
    added = {str(e.outputs.get("sha256")) for e in chain.entries if e.action == "add"}
    logged: dict[str, set[str]] = {}
    for e in chain.entries:
        for sha, digest in (e.outputs.get("result_sha256") or {}).items():
            logged.setdefault(sha, set()).add(digest)
        if "record" in e.outputs:
            logged.setdefault(str(e.outputs["record"]), set()).add(str(e.outputs.get("sha256")))
    for rel in reader.names():
        if rel.startswith("data/originals/") and Path(rel).stem not in added:
            failures.append(Failure("custody", rel, "no custody entry records this original being added"))
    if "data/results.json" in reader.names():
        try:
            doc = json.loads(reader.read("data/results.json"))
        except ValueError as exc:
            failures.append(Failure("payload", "data/results.json", f"not JSON ({exc})"))
            doc = {}
        for r in doc.get("results", []):
            digest = result_sha256(r.get("data"), r.get("error"))
            _check_logged(r, digest, logged.get(r.get("sha256"), set()),
                          f"result {r.get('stage')} of {str(r.get('sha256'))[:16]}", failures)
        for r in doc.get("records", []):
            where = f"{r.get('kind')}/{r.get('key')}"
            _check_logged(r, canonical_sha256(r.get("data")), logged.get(where, set()), f"record {where}", failures)
    return {"custody_entries": chain.total, "custody_whole": len(chain.entries), "custody_head": chain.head,
            "actors": who_did_what(list(chain.entries))}


def _check_logged(row: dict[str, Any], digest: str, logged: set[str], where: str, failures: list[Failure]) -> None:
    """A result or record must read as a custody entry logged it. A redacted one (parts about other material
    withheld) cannot be re-hashed here; the hash it names must be one the log recorded for it, and the
    exporter re-checked the full row against that hash before signing."""
    if not row.get("redacted"):
        if digest not in logged:
            failures.append(Failure("custody", where, "no custody entry logged this result/record as it reads here"))
    elif row.get("logged_sha256") not in logged:
        failures.append(Failure("custody", where, "redacted, and the hash it names is not one any custody entry "
                                                  "logged for it"))
