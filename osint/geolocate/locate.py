"""One photo, every method: EXIF GPS, landmark candidates, the sun band; each answer with its evidence.

`locate_file(options, path)` is a top-level, picklable computation (bind `options` with functools.partial),
so `osint.pipeline.run_stage` can run it over a case in worker processes and store the results.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from osint.geolocate.exif import ExifGPS, read_gps
from osint.geolocate.landmarks import SHORTLIST
from osint.geolocate.places import Areas, Place, on_earth, place_names

STAGE = "geolocate"
STAGE_VERSION = "1"
# A landmark photo is usually taken from up to a few hundred metres away from the building (metres).
LANDMARK_UNCERTAINTY_M = 500.0
LANDMARK_CANDIDATES = 5


@dataclass(frozen=True)
class Answer:
    """One method's answer: a point with an uncertainty radius in metres, or an area (`geometry`, GeoJSON),
    with what it rests on (`evidence`), warnings (`flags`), place names and user areas it falls in."""

    method: str
    lat: float | None
    lon: float | None
    uncertainty_m: float | None
    evidence: dict[str, Any]
    flags: tuple[str, ...] = ()
    place: Place | None = None
    areas: tuple[str, ...] = ()
    geometry: dict[str, Any] | None = None


@dataclass(frozen=True)
class Geolocation:
    """Every answer for one photo and per-method notes. `source` is the file's name, which inside a case is its
    SHA-256, so a result is the same whichever machine or folder computed it."""

    source: str
    answers: tuple[Answer, ...]
    notes: tuple[str, ...] = ()
    decoder_notes: tuple[str, ...] = ()  # what the image decoder complained about (Pillow's warnings)


@dataclass(frozen=True)
class SunQuery:
    """A shadow measurement: capture time (ISO 8601 with offset; None: take it from EXIF) and either the
    shadow/height ratio (relative error `ratio_error`) or the sun elevation in degrees (+- `elevation_error_deg`)."""

    time: str | None = None
    shadow_ratio: float | None = None
    elevation_deg: float | None = None
    ratio_error: float = 0.05
    elevation_error_deg: float = 0.5


@dataclass(frozen=True)
class LocateOptions:
    """What to run besides EXIF: place names, user areas (GeoJSON path), landmark index (saved .npz path and
    entry key -> features file), a sun query."""

    places: bool = True
    areas: str | None = None
    landmark_index: str | None = None
    landmark_features: dict[str, str] = field(default_factory=dict)
    sun: SunQuery | None = None
    shortlist: int = SHORTLIST

    def version(self) -> str:
        """Stage version for the case store: changes whenever an input that changes the answers changes."""
        parts = {"v": STAGE_VERSION, "places": self.places, "shortlist": self.shortlist,
                 "sun": asdict(self.sun) if self.sun else None,
                 "areas": _file_hash(self.areas), "landmarks": _file_hash(self.landmark_index)}
        return f"{STAGE_VERSION}-{hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]}"


def locate_file(options: LocateOptions, path: Path | str) -> Geolocation:
    """Run every requested method on one photo. A method that cannot answer adds a note; only a file that
    cannot be read or is not a photo raises (OSError, UnsupportedMedia)."""
    from osint.errors import UnsupportedMedia
    from osint.media import sniff_file

    path = Path(path)
    kind = sniff_file(path)  # a missing or unreadable file is an error for this item, not "no GPS"
    if kind.media_type != "image":
        raise UnsupportedMedia(f"{kind.format} is a video; geolocation reads photos (or keyframes saved as photos)")
    notes: list[str] = []
    answers: list[Answer] = []
    gps = read_gps(path)
    notes += [f"exif: {n}" for n in gps.reader_notes]
    if gps.has_position:
        answers.append(_exif_answer(gps))
    else:
        notes.append(f"exif: no GPS position (read with {gps.reader})")
    if options.landmark_index:
        answers += _landmark_answers(options, path, notes)
    if options.sun:
        answers += _sun_answers(options.sun, gps, notes)
    answers = _with_places(answers, options)
    return Geolocation(path.name, tuple(answers), tuple(notes))


def _exif_answer(gps: ExifGPS) -> Answer:
    evidence = {"reader": gps.reader, "tags": gps.tags, "altitude_m": gps.altitude_m, "gps_time": gps.gps_time,
                "capture_time": gps.capture_time, "offset_time": gps.offset_time, "dop": gps.dop,
                "h_error_m": gps.h_error_m, "uncertainty_source": gps.uncertainty_source, "make": gps.make,
                "model": gps.model, "software": gps.software}
    return Answer("exif-gps", gps.lat, gps.lon, gps.uncertainty_m, evidence, gps.flags)


def _landmark_answers(options: LocateOptions, path: Path, notes: list[str]) -> list[Answer]:
    from osint.geolocate.landmarks import MIN_INLIERS, confidence_note, extract_features

    index = _load_index(options.landmark_index)
    cands = index.match(extract_features(path), lambda key: _load_features(options.landmark_features[key]),
                        shortlist=options.shortlist)
    if not any(c.inliers for c in cands):
        notes.append("landmarks: no gallery photo shares geometrically consistent features with this one")
    out = []
    for c in [c for c in cands if c.inliers > 0][:LANDMARK_CANDIDATES]:
        flags = () if c.verified else (f"not verified: {c.inliers} inliers < {MIN_INLIERS}",)
        evidence = {"label": c.label, "best_gallery_item": c.best_key, "inliers": c.inliers, "matches": c.matches,
                    "confidence": c.confidence, "verified": c.verified, "meaning": confidence_note(),
                    "images": [{"key": m.key, "inliers": m.inliers, "matches": m.matches,
                                "similarity": m.similarity} for m in c.images[:5]]}
        out.append(Answer("landmark", c.lat, c.lon, LANDMARK_UNCERTAINTY_M, evidence, flags))
    return out


def _sun_answers(q: SunQuery, gps: ExifGPS, notes: list[str]) -> list[Answer]:
    from osint.geolocate.sun import shadow_band

    when, source = _capture_instant(q, gps)
    if when is None:
        notes.append("sun: no capture time with a time zone (EXIF has none usable); pass --time with an offset")
        return []
    try:
        band = shadow_band(when, shadow_ratio=q.shadow_ratio, elevation_deg=q.elevation_deg,
                           ratio_error=q.ratio_error, elevation_error_deg=q.elevation_error_deg)
    except ValueError as exc:
        notes.append(f"sun: {exc}")
        return []
    evidence = {"time_utc": band.time_utc, "time_source": source, "shadow_ratio": band.shadow_ratio,
                "elevation_min_deg": band.elevation_min_deg, "elevation_max_deg": band.elevation_max_deg,
                "subsolar_lat": band.subsolar_lat, "subsolar_lon": band.subsolar_lon, "width_km": band.width_km,
                "meaning": "the photo was taken somewhere in the band (geometry); uncertainty_m is half its width"}
    return [Answer("sun-shadow", None, None, band.width_km * 500.0, evidence, (), None, (), band.geometry)]


def _capture_instant(q: SunQuery, gps: ExifGPS) -> tuple[datetime | None, str]:
    if q.time:
        return datetime.fromisoformat(q.time.replace("Z", "+00:00")), "given"
    if gps.capture_time and datetime.fromisoformat(gps.capture_time).tzinfo:
        return datetime.fromisoformat(gps.capture_time), "EXIF DateTimeOriginal + OffsetTime"
    if gps.gps_time:
        return datetime.fromisoformat(gps.gps_time.replace("Z", "+00:00")), "EXIF GPS time (UTC)"
    return None, ""


def _with_places(answers: list[Answer], options: LocateOptions) -> list[Answer]:
    def placeable(a: Answer) -> bool:
        return a.lat is not None and a.lon is not None and on_earth(a.lat, a.lon)

    pts = [(float(a.lat or 0), float(a.lon or 0)) for a in answers if placeable(a)]
    named = iter(place_names(pts) if options.places else [])
    areas = _load_areas(options.areas) if options.areas else None
    out = []
    for a in answers:
        if a.lat is None or a.lon is None or not placeable(a):
            out.append(a)
            continue
        place = next(named, None)
        tags = tuple(areas.tag(a.lat, a.lon)) if areas else ()
        out.append(Answer(a.method, a.lat, a.lon, a.uncertainty_m, a.evidence, a.flags, place, tags, a.geometry))
    return out


@lru_cache(maxsize=4)
def _load_index(path: str):  # -> LandmarkIndex
    from osint.geolocate.landmarks import LandmarkIndex

    return LandmarkIndex.load(Path(path))


@lru_cache(maxsize=512)
def _load_features(path: str):  # -> Features
    from osint.geolocate.landmarks import Features

    return Features.from_bytes(Path(path).read_bytes())


@lru_cache(maxsize=4)
def _load_areas(path: str) -> Areas:
    return Areas.load(path)


def _file_hash(path: str | None) -> str | None:
    """SHA-256 of a settings file (areas, landmark index), computed once per version of the file."""
    if not path:
        return None
    st = Path(path).stat()
    return _hash_of(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _hash_of(path: str, mtime_ns: int, size: int) -> str:
    from osint.case import file_sha256

    return file_sha256(path)


def locate_case(case: Any, options: LocateOptions, items: list[Any], *, executor: Any = None,
                on_item: Any = None) -> Any:
    """Geolocate case items through `osint.pipeline.run_stage`: cached per (item, options), stored in the
    case and logged in custody. Returns the `StageRun`."""
    from functools import partial

    from osint.pipeline import run_stage

    details = {"options": {"places": options.places, "areas": options.areas, "sun": asdict(options.sun)
                           if options.sun else None, "landmarks": bool(options.landmark_index)}}
    return run_stage(case, STAGE, options.version(), partial(locate_file, options), items, executor=executor,
                     details=details, on_item=on_item)


def latest_results(case: Any) -> list[dict[str, Any]]:
    """Everything located per item, as plain data with `source` = SHA-256: for each method, the answers of
    the newest run that used it (a later run without --landmarks does not hide earlier landmark answers)."""
    merged: dict[str, dict[str, Any]] = {}
    for r in case.results(STAGE):  # oldest first
        if r.data is None:
            continue
        entry = merged.setdefault(r.sha256, {"source": r.sha256, "by_method": {}, "notes": []})
        methods = {a["method"] for a in r.data.get("answers", [])}
        for m in methods:
            entry["by_method"][m] = [a for a in r.data["answers"] if a["method"] == m]
        entry["notes"] = r.data.get("notes", [])
    return [{"source": e["source"], "answers": [a for answers in e["by_method"].values() for a in answers],
             "notes": e["notes"]} for e in merged.values()]
