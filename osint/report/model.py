"""What a review report shows, as plain frozen dataclasses: built from a case by `collect`, or directly."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

DECISIONS = ("confirmed", "rejected", "unsure")

# An image the report embeds: JPEG/PNG bytes, or the path of a file holding them.
ImageSource = bytes | Path


def candidate_id(person: str, item: str, face: int, t: float | None,
                 box: tuple[int, int, int, int] | None = None) -> str:
    """A short stable id for one (person, found face) pair: 12 hex digits of a SHA-256, typeable in the CLI.

    With the face's box in it, a decision never moves to another face if re-detection renumbers faces."""
    key = f"{person}\n{item}\n{face}\n{'' if t is None else round(t, 3)}\n{'' if box is None else list(box)}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Candidate:
    """A found face that a match stage placed within its threshold of a reference person: a lead to review.

    `distance` is the model's distance (smaller is more alike); `threshold` the largest distance the stage
    reports; `fmr` the false-match rate measured at that distance (share of different-person pairs that are
    as close), None where the stage did not measure it. `agree` of `photos` reference photos of the person
    are within the threshold; `low_quality` marks a face below the quality the rates were measured on;
    `box` is the face (left, top, width, height) in original pixels; `fmr_bound` means no different-person
    pair of the calibration scored this close, so `fmr` is only an upper bound (1 / pairs measured);
    `population` what the rate was measured on ("children 1-5 years apart", "adults, no age gap").
    `ages`: the person's age in the reference and the found photo, each photo's date and its source, and the
    years between (one sentence); `age_flags`: what does not fit (found before the reference, an age below 0
    or of an adult, a birth year in the future). `track`: in a video, the face followed across frames this
    candidate stands for (one sentence: span, frames, best frames), `best_crops` the crops of its best frames.
    Image fields name keys of `ReportData.images`.
    """

    id: str
    person: str
    item: str
    face: int
    distance: float
    threshold: float | None
    fmr: float | None
    model: str
    media_type: str = "image"
    t: float | None = None
    frame: int | None = None
    ref_crop: str | None = None
    found_crop: str | None = None
    context: str | None = None
    name: str = ""
    source_url: str = ""
    meaning: str = ""
    agree: int | None = None
    photos: int | None = None
    low_quality: bool = False
    box: tuple[int, int, int, int] | None = None
    fmr_bound: bool = False
    ages: str = ""
    age_flags: tuple[str, ...] = ()
    post_url: str = ""          # where the item was posted, when it was captured from the web (osint capture)
    post_date: str = ""
    post_text: str = ""
    population: str = ""
    track: str = ""
    best_crops: tuple[str, ...] = ()


@dataclass(frozen=True)
class Person:
    """A reference person: the key the case uses, a display name, crops of their reference faces, and what
    is known (born, missing since, note) as one line."""

    key: str
    name: str
    crops: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision on one candidate: confirmed, rejected or unsure, with who, when and why."""

    candidate: str
    decision: str
    reviewer: str
    comment: str
    time: str


@dataclass(frozen=True)
class Member:
    """One item of a duplicate group, with a thumbnail key and the name it was collected under."""

    item: str
    name: str
    media_type: str
    thumb: str | None


@dataclass(frozen=True)
class Link:
    """Why two items of a group are linked: the hash, its Hamming distance and threshold (bits), how; or local
    features, with their inliers as the distance (`unit`), the part shown and, for a video, the frame's time."""

    a: str
    b: str
    algorithm: str
    distance: int
    threshold: int | None
    transform: str = "identity"
    t_a: float | None = None
    t_b: float | None = None
    unit: str = "bits"


@dataclass(frozen=True)
class DupGroup:
    """Near-duplicates (a repost chain): connected by links, ordered by when each was added to the case."""

    members: tuple[Member, ...]
    links: tuple[Link, ...]


@dataclass(frozen=True)
class Known:
    """An item found on a hash list of known material (`osint known import`): which list and label, how it
    matched (sha256, md5, sha1 exactly, pdq within `distance` bits, or vpdq: frames within `distance` bits)."""

    item: str
    name: str
    list: str
    label: str
    source: str
    by: str
    distance: int
    thumb: str | None = None


@dataclass(frozen=True)
class Located:
    """Where an item was (probably) taken: degrees, radius of uncertainty in metres, how it is known, and the
    stage's warnings about it (`flags`, e.g. an editor in EXIF Software)."""

    item: str
    name: str
    lat: float
    lon: float
    uncertainty_m: float | None
    method: str
    place: str = ""
    thumb: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustodySummary:
    """The custody log at report time: entries, head hash, chain check, counts by action and by actor."""

    entries: int
    head: str
    chain_ok: bool
    chain_problems: tuple[str, ...]
    first: str
    last: str
    actions: dict[str, int]
    actors: dict[str, int]
    recent: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows. `images` maps a key to image bytes or a path; `map_html` is an SVG/HTML
    fragment from the geolocation stage's map renderer (or None); `notes` say what is missing and why.
    Which repost group (index into `groups`) an item belongs to is derived from `groups`."""

    case_id: str
    case_name: str
    persons: tuple[Person, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    decisions: tuple[Decision, ...] = ()
    groups: tuple[DupGroup, ...] = ()
    located: tuple[Located, ...] = ()
    custody: CustodySummary | None = None
    map_html: str | None = None
    notes: tuple[str, ...] = ()
    images: dict[str, ImageSource] = field(default_factory=dict)
    known: tuple[Known, ...] = ()
