"""Gather what a report shows from a case, through each stage's public functions.

Each stage is read on its own: a stage that has not been run (or is not installed) leaves its section empty
with a note saying so, and never stops the report. Nothing here writes to the case.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from osint.capture import item_posts
from osint.case import Case, CustodyEntry, check_chain
from osint.errors import OsintError
from osint.report.decisions import case_decisions
from osint.report.model import (Candidate, CustodySummary, DupGroup, ImageSource, Known, Link, Located, Member,
                                Person, ReportData, candidate_id)

THUMB_PX = 160          # longest side of the thumbnails made for duplicate groups and located items
RECENT_ENTRIES = 30     # custody entries listed in full


def collect(case: Case, *, thumbnails: bool = True, person: str | None = None) -> ReportData:
    """Everything the report shows for `case` (only one reference person's candidates with `person`).
    `thumbnails=False` skips decoding originals for thumbnails."""
    if person is not None:
        from osint.facematch import persons as reference_persons

        if person not in {p.id for p in reference_persons(case)}:
            raise OsintError(f"no reference person {person!r} in this case (`osint refs ls` lists them)")
    images: dict[str, ImageSource] = {}
    notes: list[str] = []
    thumbs = _Thumbs(case, images) if thumbnails else None
    persons, candidates = _section("face matching", notes, ([], []), match_candidates, case, images, notes,
                                   person)
    groups = _section("duplicate groups", notes, [], duplicate_groups, case, thumbs, notes)
    located, map_html = _section("geolocation", notes, ([], None), locations, case, thumbs, notes)
    known = _section("known material", notes, [], known_items, case, thumbs)
    notes += partial_videos(case)
    return ReportData(case.id, case.name, tuple(persons), tuple(candidates), tuple(case_decisions(case)),
                      tuple(groups), tuple(located), custody_summary(case), map_html, tuple(notes), images,
                      known=tuple(known))


def _section(what: str, notes: list[str], empty: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """Run one section's collector; if the stage fails, the report says so and shows the other sections."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - one broken stage must not cost the reviewer the whole report
        notes.append(f"{what} could not be shown: {type(exc).__name__}: {exc}")
        return empty


def _derived(case: Case, sha: str | None, images: dict[str, ImageSource]) -> str | None:
    """Register a derived JPEG (face crop, frame thumbnail) as a report image; returns its key."""
    if not sha:
        return None
    images.setdefault(sha, case.derived_path(sha, ".jpg"))
    return sha


def _name(case: Case, sha: str) -> tuple[str, str]:
    """The file name an item was first collected under, and its source URL."""
    acq = case.acquisitions(sha)
    return (Path(acq[0].original_path).name, acq[0].source_url) if acq else ("", "")


def match_candidates(case: Case, images: dict[str, ImageSource], notes: list[str],
                     only: str | None = None) -> tuple[list[Person], list[Candidate]]:
    """Reference persons and every found face within the face matching stage's threshold of one of them
    (with `only`, that one person and their candidates)."""
    try:
        from osint.facematch import FaceSettings, case_matches, describe, not_analysed_note, persons
    except ImportError:
        notes.append("face matching is not available in this installation: no match candidates shown")
        return [], []
    settings = FaceSettings()
    people = [p for p in persons(case) if only is None or p.id == only]
    if not people:
        notes.append("no reference persons in this case (`osint refs add`): no match candidates")
        return [], []
    matched = case_matches(case, settings, analyse=False)  # the report reads the case, never writes it
    refs, owners, faces = matched.refs, matched.owners, matched.faces
    found = [c for c in matched.candidates if only is None or c.person == only]
    if not len(faces):
        notes.append("no analysed faces in collected items (`osint match` runs face detection first)")
    unsearched = not_analysed_note(case, matched.not_analysed)
    if unsearched:
        notes.append(unsearched)
    if not owners:
        notes.append("no reference photo analysed with the default face settings: run `osint match` first")
    shown = [Person(p.id, p.name, tuple(k for f, o in zip(refs.faces, owners) if o == p.id
                                        if (k := _derived(case, f.crop, images))), _about(p)) for p in people]
    meaning = {(m, f, t): describe(m, f, t) for m, f, t in {(c.model, c.max_fmr, c.table) for c in found}}
    posts = item_posts(case)
    out = []
    for c in found:
        name, url = _name(case, c.face.item)
        post = posts.get(c.face.item)
        anchor = c.track.first if c.track else c.face      # a track's decision stays with it as frames re-rank
        out.append(Candidate(candidate_id(c.person, anchor.item, anchor.index, anchor.t, anchor.box), c.person,
                             c.face.item,
                             c.face.index, c.distance, c.threshold, c.fmr, c.model, c.face.media_type, c.face.t,
                             c.face.frame, _derived(case, c.reference.crop, images),
                             _derived(case, c.face.crop, images), _derived(case, c.face.context, images), name, url,
                             meaning[(c.model, c.max_fmr, c.table)], c.agree, c.photos, c.low_quality, c.face.box,
                             c.fmr_bound, c.ages.describe() if c.ages else "", c.ages.flags if c.ages else (),
                             population=c.population,
                             **({"post_url": post.url, "post_date": post.date, "post_text": post.text[:2000]}
                                if post else {}),
                             track=c.track.describe() if c.track else "",
                             best_crops=tuple(k for f in c.track.best if (k := _derived(case, f.crop, images)))
                             if c.track else ()))
    out.sort(key=lambda c: (c.person, c.distance))
    return shown, out


def partial_videos(case: Case) -> list[str]:
    """One note per video that does not decode to its end or whose decoder reported damage (found at ingest):
    its frames past the damage were never analysed."""
    return [f"video {_name(case, it.sha256)[0] or it.sha256[:12]}: {it.metadata_error}"
            for it in case.items(media_type="video", role=None) if it.metadata_error]


def _about(person: Any) -> str:
    """What is known about a reference person, as one line."""
    parts = [f"born {person.born}" if person.born else "",
             f"missing since {person.missing_since}" if person.missing_since else "", person.note,
             f"{person.usable} usable reference photo(s)"]
    return "; ".join(p for p in parts if p)


def case_candidates(case: Case, notes: list[str] | None = None) -> dict[str, Candidate]:
    """The case's current match candidates by id (what decisions refer to), without loading any image; what
    could not be searched (items not yet face-scanned) is added to `notes`."""
    return {c.id: c for c in match_candidates(case, {}, [] if notes is None else notes)[1]}


class _Thumbs:
    """Small JPEG thumbnails of originals (photos, or a video's first sampled frame), made once per item."""

    def __init__(self, case: Case, images: dict[str, ImageSource]):
        self.case, self.images = case, images
        self.failed: set[str] = set()  # decoded once: a damaged original is not retried for every section

    def __call__(self, sha: str, media_type: str) -> str | None:
        key = f"thumb-{sha}"
        if sha in self.failed:
            return None
        if key not in self.images:
            try:
                self.images[key] = _thumbnail(self.case.object_path(sha), media_type)
            except Exception:  # noqa: BLE001 - a damaged original only loses its thumbnail
                self.failed.add(sha)
                return None
        return key


def _thumbnail(path: Path, media_type: str) -> bytes:
    from PIL import Image

    from osint.media import load_image, sample_frames

    if media_type == "video":
        rgb = next(iter(sample_frames(path, every_s=1.0, max_side=THUMB_PX))).image
    else:
        rgb = load_image(path, max_side=THUMB_PX)
    img = Image.fromarray(rgb)
    img.thumbnail((THUMB_PX, THUMB_PX))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def duplicate_groups(case: Case, thumbs: Callable[[str, str], str | None] | None,
                     notes: list[str]) -> list[DupGroup]:
    """Groups of near-duplicates (repost chains) as `osint dupes` finds them (hash, local-feature and vPDQ links
    from what the case has stored), members in the order they were added."""
    try:
        from osint.hashing import LocalLink, Thresholds, repost_groups, stored_hashes
    except ImportError:
        notes.append("hashing is not available in this installation: no duplicate groups shown")
        return []
    hashes, _failed = stored_hashes(case)
    if not hashes:
        notes.append("no perceptual hashes in this case (`osint hash`): no duplicate groups")
        return []
    limits = Thresholds()
    items = {it.sha256: it for it in case.items(role=None)}
    out = []
    for g in repost_groups(case, limits)[1]:
        members = sorted((items[s] for s in g.members if s in items), key=lambda it: (it.added_at, it.sha256))
        links = []
        for pair in g.links:
            best = min((e for e in pair.evidence if e.linked),
                       key=lambda e: e.distance / max(1, limits.of(e.algorithm)))
            links.append(Link(pair.a, pair.b, best.algorithm, best.distance, limits.of(best.algorithm),
                              best.transform, best.t_a, best.t_b))
        links += [Link(lk.a, lk.b, "local features", lk.inliers, None, _how(lk), lk.t_a, None, "inliers")
                  if isinstance(lk, LocalLink) else
                  Link(lk.a, lk.b, "vPDQ", round(max(lk.a_percent, lk.b_percent)), None, lk.describe(),
                       unit="% of one video's frames in the other")
                  for lk in g.local]
        out.append(DupGroup(tuple(Member(it.sha256, _name(case, it.sha256)[0], it.media_type,
                                         thumbs(it.sha256, it.media_type) if thumbs else None) for it in members),
                            tuple(links)))
    return out


def _how(link: Any) -> str:
    """A local link's transform in a few words: which part of a the other shows, at what scale, mirrored."""
    box = ", ".join(f"{v:.2f}" for v in link.box_a)
    return f"shows ({box}) at {link.scale:.2f}x{', mirror' if link.mirror else ''}"


def locations(case: Case, thumbs: Callable[[str, str], str | None] | None,
              notes: list[str]) -> tuple[list[Located], str | None]:
    """Every point answer of the geolocation stage (EXIF GPS, landmarks) and the map of them, if it renders."""
    try:
        from osint.geolocate import latest_results, layers_from_results, map_svg
    except ImportError:
        notes.append("geolocation is not available in this installation: no map shown")
        return [], None
    items = {it.sha256: it for it in case.items(role=None)}
    results, out, unverified = [], [], 0
    for res in latest_results(case):
        sha = res["source"]
        answers = []
        for ans in res.get("answers", []):
            if (ans.get("evidence") or {}).get("verified") is False:
                unverified += 1
            elif ans.get("lat") is not None and ans.get("lon") is not None and sha in items:
                answers.append(ans)
                out.append(Located(sha, _name(case, sha)[0], float(ans["lat"]), float(ans["lon"]),
                                   ans.get("uncertainty_m"), ans["method"], _place(ans.get("place")),
                                   thumbs(sha, items[sha].media_type) if thumbs else None,
                                   tuple(ans.get("flags") or ())))
        results.append({**res, "answers": answers})
    if unverified:
        notes.append(f"{unverified} unverified landmark guess(es) (too few geometric inliers) are not shown; "
                     "`osint geolocate` lists them")
    if not out:
        notes.append("no located items (`osint geolocate`): the map is empty")
        return out, None
    return out, map_svg(layers_from_results(results, title=f"{case.name}: located items"))


def known_items(case: Case, thumbs: Callable[[str, str], str | None] | None) -> list[Known]:
    """Every mark `osint known import` left: items on hash lists of known material, with list and label."""
    from osint.known import known_marks

    items = {it.sha256: it for it in case.items(role=None)}
    return [Known(sha, _name(case, sha)[0], m["list"], m["label"], m["source"], m["by"], m["distance"],
                  thumbs(sha, items[sha].media_type) if thumbs else None)
            for sha, marks in sorted(known_marks(case).items()) if sha in items for m in marks]


def _place(place: dict[str, Any] | None) -> str:
    if not place:
        return ""
    near = f"near {place['town']} ({place['town_distance_m'] / 1000:.1f} km)" if place.get("town") else ""
    return ", ".join(p for p in (near, place.get("admin1"), place.get("country")) if p)


def custody_summary(case: Case) -> CustodySummary:
    """The custody log's size, head, a re-check of its chain, and who did what (originals not re-hashed)."""
    rows = case.custody_rows()
    problems = tuple(f"entry {p.seq}: {p.reason}" for p in check_chain(rows))
    entries = []
    for _, raw, _ in rows:  # one read; an unreadable (tampered) row is among `problems`, not a crash
        try:
            entries.append(CustodyEntry.decode(raw))
        except (ValueError, TypeError):
            continue
    actions: dict[str, int] = {}
    actors: dict[str, int] = {}
    for e in entries:
        actions[e.action] = actions.get(e.action, 0) + 1
        actors[e.actor] = actors.get(e.actor, 0) + 1
    recent = tuple({"seq": str(e.seq), "time": e.time, "actor": e.actor, "action": e.action, "what": _what(e)}
                   for e in entries[-RECENT_ENTRIES:])
    return CustodySummary(len(rows), case.head(), not problems, problems, entries[0].time if entries else "",
                          entries[-1].time if entries else "", actions, actors, recent)


def _what(entry: Any) -> str:
    if entry.action == "add":
        return f"{str(entry.outputs.get('sha256', ''))[:12]} <- {Path(str(entry.inputs.get('path', ''))).name}"
    if "items" in entry.inputs:
        return f"{len(entry.inputs['items'])} items"
    return ", ".join(f"{k}={v}" for k, v in {**entry.inputs, **entry.details}.items())[:100]
