"""Reference persons and their photos, kept in the case (records, logged in custody).

A person is a record ("person", id) with name, year of birth, missing since, note. Each reference photo is
stored as an item with role "reference" and a record ("reference_photo", "<person>:<sha256>") naming the
face used. A photo with no usable face, or several faces and no `face` choice, is kept but not used, and
reported so the user can pick a face (`osint refs add ID PHOTO --face N`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from osint.facematch.ages import case_dated
from osint.facematch.analyse import STAGE, FaceSettings, scan_case
from osint.facematch.detect import iou
from osint.facematch.faceset import FaceSet, case_faces, concat, from_result
from osint.facematch.match import Candidate
from osint.facematch.tracks import match_media

PERSON, PHOTO = "person", "reference_photo"


@dataclass(frozen=True)
class RefPhoto:
    """One reference photo of a person. status: "ok" (face chosen), "no_face", "too_small" (faces found,
    none large enough to encode), "several_faces" (pick one with --face N), "bad_face" (N is not an encoded
    face) or "failed" (file could not be added or analysed: see `error`)."""

    person: str
    path: str
    sha256: str | None
    status: str
    face: int | None = None
    faces: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class Person:
    """A missing person with reference photos; `usable` counts photos whose face is chosen."""

    id: str
    name: str
    born: str | None
    missing_since: str | None
    note: str
    photos: list[RefPhoto]

    @property
    def usable(self) -> int:
        return sum(p.status == "ok" for p in self.photos)


def add_references(case: Any, person: str, paths: Iterable[Path | str], *, name: str | None = None,
                   born: str | None = None, missing_since: str | None = None, note: str = "",
                   face: int | None = None, settings: FaceSettings = FaceSettings(), executor: Any = None,
                   actor: str | None = None) -> list[RefPhoto]:
    """Add (or update) person `person` and its reference photos (files, or every file in a folder); returns one
    RefPhoto per file. A new person is recorded only with at least one photo added and analysed."""
    from osint.case import default_actor
    from osint.ingest import add_file, original_name, walk

    actor = actor or default_actor()
    old = case.record(PERSON, person) or {}
    info = {"id": person, "name": name or old.get("name") or person, "born": born or old.get("born"),
            "missing_since": missing_since or old.get("missing_since"), "note": note or old.get("note", "")}
    added: list[tuple[str, str]] = []
    out: list[RefPhoto] = []
    for file, problem in walk(paths):
        if problem:
            out.append(RefPhoto(person, original_name(file), None, "failed", error=problem))
            continue
        outcome = add_file(case, file, collector=actor, role="reference", actor=actor,
                           note=f"reference photo of {person}")
        if outcome.sha256 is None or outcome.status in ("failed", "skipped"):
            out.append(RefPhoto(person, outcome.path, outcome.sha256, "failed", error=outcome.error))
        elif case.item(outcome.sha256).media_type != "image":
            out.append(RefPhoto(person, outcome.path, outcome.sha256, "failed", error="a reference must be a photo"))
        else:
            added.append((outcome.path, outcome.sha256))
    items = [case.item(sha) for _, sha in added]
    run = scan_case(case, settings, items, executor=executor)
    version = settings.version()
    chosen: list[RefPhoto] = []
    for path, sha in added:
        res = case.result(sha, STAGE, version)
        if res is None or res.error:
            error = res.error if res else run.errors.get(sha, "not analysed")
            out.append(RefPhoto(person, path, sha, "failed", error=error))
            continue
        chosen.append(choose_face(person, path, sha, res.data["faces"], face))
    if not old and not chosen:
        return out  # not one photo could be added and analysed: no empty person is created
    if info != old:
        case.put_record(PERSON, person, info, action="refs:person", actor=actor, details=info)
    for photo in chosen:
        path, sha = photo.path, str(photo.sha256)
        data = {"person": person, "sha256": sha, "path": path, "status": photo.status, "face": photo.face,
                "box": photo.faces[photo.face]["box"] if photo.face is not None else None, "version": version,
                "faces_found": len(photo.faces)}
        case.put_record(PHOTO, f"{person}:{sha}", data, action="refs:photo", actor=actor,
                        inputs={"sha256": sha, "path": path}, details={"status": photo.status, "face": photo.face})
        out.append(photo)
    return out


def choose_face(person: str, path: str, sha: str | None, faces: list[dict[str, Any]], face: int | None) -> RefPhoto:
    """Pick the reference face: the only encoded one, or the one the user named."""
    listed = [{"index": f["index"], "box": f["box"], "status": f["status"], "crop": f.get("crop")} for f in faces]
    encoded = [f["index"] for f in faces if f["status"] == "ok"]
    if face is not None:
        status = "ok" if face in encoded else "bad_face"
        return RefPhoto(person, path, sha, status, face if status == "ok" else None, listed)
    if len(encoded) == 1:
        return RefPhoto(person, path, sha, "ok", encoded[0], listed)
    if encoded:
        return RefPhoto(person, path, sha, "several_faces", None, listed)
    return RefPhoto(person, path, sha, "too_small" if faces else "no_face", None, listed)


def persons(case: Any) -> list[Person]:
    """All reference persons with their photos, sorted by id."""
    photos: dict[str, list[RefPhoto]] = {}
    for rec in case.records(PHOTO).values():
        photos.setdefault(rec["person"], []).append(
            RefPhoto(rec["person"], rec["path"], rec["sha256"], rec["status"], rec["face"],
                     [{"box": rec["box"]}] if rec["box"] else []))
    return [Person(pid, p["name"], p.get("born"), p.get("missing_since"), p.get("note", ""), photos.get(pid, []))
            for pid, p in case.records(PERSON).items()]


def remove_person(case: Any, person: str, actor: str | None = None) -> int:
    """Remove a person and their reference-photo records (the photos stay in the case as items); returns
    the number of records removed, 0 if there was no such person."""
    removed = 0
    for key, rec in case.records(PHOTO).items():
        if rec["person"] == person:
            removed += case.delete_record(PHOTO, key, action="refs:remove-photo", actor=actor)
    removed += case.delete_record(PERSON, person, action="refs:remove-person", actor=actor)
    return removed


def reference_faces(case: Any, settings: FaceSettings, *, analyse: bool = True) -> tuple[FaceSet, list[str]]:
    """The chosen face of every usable reference photo, with the person id of each row.

    Photos chosen under other settings are re-found by box overlap (IoU >= 0.5) in this version's results;
    photos not yet analysed with these settings are analysed first (with `analyse=False`, left out, so a
    reader such as the report never writes to the case)."""
    recs = [r for r in case.records(PHOTO).values() if r["status"] == "ok"]
    version = settings.version()
    missing = [case.item(r["sha256"]) for r in recs if case.result(r["sha256"], STAGE, version) is None]
    if missing and analyse:
        scan_case(case, settings, missing)
    sets, owners = [], []
    for rec in recs:
        res = case.result(rec["sha256"], STAGE, version)
        if res is None or res.data is None:
            continue
        fs = from_result(rec["sha256"], res.data, settings.models)
        if rec["version"] == version:
            rows = [i for i, f in enumerate(fs.faces) if f.index == rec["face"]]
        else:
            overlaps = [iou(f.box, tuple(rec["box"])) for f in fs.faces]
            rows = [int(np.argmax(overlaps))] if overlaps and max(overlaps) >= 0.5 else []
        if rows:
            sets.append(fs.take(rows))
            owners.append(rec["person"])
    return concat(sets, settings.models), owners


@dataclass(frozen=True)
class CaseMatches:
    """Every collected face of a case against every reference: the candidates and what they were drawn from."""

    candidates: list[Candidate]
    faces: FaceSet
    refs: FaceSet
    owners: list[str]
    not_analysed: dict[str, str] = field(default_factory=dict)  # collected item -> why it was not searched


def not_analysed(case: Any, settings: FaceSettings) -> dict[str, str]:
    """Collected items with no face-scan result for these settings (not scanned yet, or their scan failed),
    each with why: the faces in them were not searched, and every listing of candidates says so."""
    version = settings.version()
    missing = {it.sha256: "not face-scanned yet" for it in case.pending(STAGE, version, case.items())}
    return {**missing, **{sha: f"face scan failed: {error}" for sha, error in case.errors(STAGE, version).items()
                          if case.item(sha).role == "collected"}}


def not_analysed_note(case: Any, items: dict[str, str], limit: int = 10) -> str | None:
    """One line saying how many collected items were not searched for faces, and which (file name, why)."""
    if not items:
        return None

    def name(sha: str) -> str:
        acqs = case.acquisitions(sha)
        return Path(acqs[0].original_path).name if acqs else sha[:12]

    listed = "; ".join(f"{name(sha)} ({why[:120]})" for sha, why in list(items.items())[:limit])
    more = f"; and {len(items) - limit} more" if len(items) > limit else ""
    return (f"{len(items)} collected item(s) not analysed for faces, so not searched: {listed}{more} "
            "(`osint faces scan` analyses them)")


def case_matches(case: Any, settings: FaceSettings, *, model: str | None = None, max_fmr: float | None = None,
                 top: int = 3, analyse: bool = True) -> CaseMatches:
    """Rank reference persons for every face in the case's cached results (numpy only: no collected image is
    decoded, so adding one reference re-matches a whole case in seconds), each with the person's ages in both
    photos (ages.case_dated); a video gives one candidate per face followed across frames (tracks.match_media).
    `analyse`: as in reference_faces."""
    refs, owners = reference_faces(case, settings, analyse=analyse)
    faces = case_faces(case, settings)
    found = match_media(faces, refs, owners, model=model, max_fmr=max_fmr, top=top,
                        tables=calibration_tables(case, refs, owners))
    return CaseMatches(case_dated(case, found), faces, refs, owners, not_analysed(case, settings))


def calibration_tables(case: Any, refs: FaceSet, owners: list[str]) -> dict[str, str]:
    """Each person's calibration: "children" when they were under 18 in every reference photo used (from
    --born and each photo's date), "adults" when 18 or over in every one; persons of unknown (or mixed) age
    are left out, so matching gives them the conservative table."""
    from osint.facematch.ages import under_18_at_reference

    under: dict[str, set[bool | None]] = {}
    for face, person in zip(refs.faces, owners):
        under.setdefault(person, set()).add(under_18_at_reference(case, person, face.item))
    return {p: "children" if u == {True} else "adults" for p, u in under.items() if u in ({True}, {False})}
