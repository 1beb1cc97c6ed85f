"""Ages across years: when a photo was taken, how old the person was then, and how far apart two photos are.

A photo's date comes from, in order: a date a person gave for the item (`osint date`, kept as a custody-logged
record; e.g. the post date of a propaganda video), EXIF DateTimeOriginal / DateTimeDigitized / DateTime, or a
video's creation time (MP4/MOV header). A year of birth gives an age range (11-12), a full date of birth one
age. Everything here is plain data and never fails on bad input: what does not fit is a flag that says why.

The call a calibration needs: `under_18(born, when)` -> True / False / None (unknown), and its case form
`under_18_at_reference(case, person, reference_sha256)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

Day = date                         # (ItemDate's field `date` hides the type inside the class)
DATE_RECORD = "item_date"          # record kind: a date a person gave for an item, keyed by the item's SHA-256
ADULT = 18
_EXIF_DATES = (("EXIF DateTimeOriginal", "EXIF capture time"), ("EXIF DateTimeDigitized", "EXIF digitised time"),
               ("Image DateTime", "EXIF file time (may be when it was edited)"))
_ISO = re.compile(r"^\s*(\d{4})(?:[-:/.](\d{1,2})(?:[-:/.](\d{1,2}))?)?")


@dataclass(frozen=True)
class Birth:
    """A year of birth, with month and day when known (then `exact`)."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def exact(self) -> bool:
        return self.month is not None and self.day is not None

    def __str__(self) -> str:
        return f"{self.year}" + (f"-{self.month:02d}" if self.month else "") + (f"-{self.day:02d}" if self.day else "")


@dataclass(frozen=True)
class Age:
    """Whole years of age: one value (`low == high`) from a full date of birth, else the two possible values."""

    low: int
    high: int

    def __str__(self) -> str:
        return f"{self.low}" if self.low == self.high else f"{self.low}-{self.high}"


@dataclass(frozen=True)
class ItemDate:
    """When an item was taken: ISO `date` (YYYY-MM-DD) or None, where that came from (`source`), and a note
    on anything odd about it (an unreadable tag, no date anywhere)."""

    date: str | None
    source: str
    note: str = ""

    @property
    def day(self) -> Day | None:
        return Day.fromisoformat(self.date) if self.date else None


@dataclass(frozen=True)
class AgeGap:
    """A found face against a reference photo of a person: the person's age in each photo (None when the birth
    year or a date is unknown), the years between the photos, both dates with their sources, and flags (each
    one sentence) for what does not fit: found before the reference, an age below 0 or of an adult, a birth
    year in the future."""

    born: str | None
    reference: ItemDate
    found: ItemDate
    age_reference: Age | None
    age_found: Age | None
    years_between: float | None
    flags: tuple[str, ...] = ()

    def summary(self) -> str:
        """One short line for tables: 'age 9 -> 12 (+3.1 y)', '? -> 12', '' when nothing is known."""
        if self.age_reference is None and self.age_found is None and self.years_between is None:
            return ""
        ages = f"age {self.age_reference or '?'} -> {self.age_found or '?'}"
        gap = "" if self.years_between is None else f" ({self.years_between:+.1f} y)"
        return ages + gap

    def describe(self) -> str:
        """A sentence for reviewers: each photo's date and where it comes from, the ages, the years between."""
        parts = []
        for label, when, age in (("reference photo", self.reference, self.age_reference),
                                 ("found photo", self.found, self.age_found)):
            dated = f"{when.date} ({when.source})" if when.date else f"no date ({when.note or 'none known'})"
            parts.append(f"{label}: {dated}" + (f", age {age}" if age is not None else ""))
        if self.years_between is not None:
            parts.append(f"{abs(self.years_between):.1f} years {'later' if self.years_between >= 0 else 'EARLIER'}")
        if not self.born:
            parts.append("year of birth unknown (`osint refs add ID --born YYYY`)")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for --json: dates with their sources, ages as text ("11-12"), years between, flags."""
        return {"born": self.born, "reference_date": self.reference.date, "reference_date_source": self.reference.source,
                "found_date": self.found.date, "found_date_source": self.found.source,
                "found_date_note": self.found.note or None,
                "age_reference": None if self.age_reference is None else str(self.age_reference),
                "age_found": None if self.age_found is None else str(self.age_found),
                "years_between": self.years_between, "flags": list(self.flags)}


def parse_born(text: str | int | None) -> Birth | None:
    """A birth year or date as given to `refs add --born` ("2011", "2011-03", "2011-03-14"); None when absent
    or unreadable (the caller flags it)."""
    if text is None:
        return None
    m = _ISO.match(str(text))
    if not m:
        return None
    year, month, day = (int(g) if g else None for g in m.groups())
    assert year is not None
    if month is not None and not 1 <= month <= 12:
        return Birth(year)
    if month is not None and day is not None:
        try:
            date(year, month, day)
        except ValueError:
            return Birth(year, month)
    return Birth(year, month, day)


def parse_date(text: str | None) -> date | None:
    """A date from an EXIF or ISO time ("2024:05:14 10:20:00", "2024-05-14T10:20Z", "2024-05-14"); None when
    absent, blank (EXIF "0000:00:00") or impossible."""
    if not text:
        return None
    m = _ISO.match(str(text))
    if not m or not m.group(2) or not m.group(3):
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def age_at(born: Birth | None, when: date | None) -> Age | None:
    """Age in whole years at `when`: exact with a full birth date, else the range the year (and month) allow."""
    if born is None or when is None:
        return None
    if born.exact:
        assert born.month is not None and born.day is not None
        had_birthday = (when.month, when.day) >= (born.month, born.day)
        n = when.year - born.year - (0 if had_birthday else 1)
        return Age(n, n)
    if born.month is not None:
        n = when.year - born.year
        if when.month > born.month:
            return Age(n, n)
        if when.month < born.month:
            return Age(n - 1, n - 1)
        return Age(n - 1, n)
    n = when.year - born.year
    return Age(n - 1, n)


def under_18(born: str | int | Birth | None, when: date | str | None) -> bool | None:
    """Was a person born `born` under 18 at `when`? True / False, or None when either is unknown or the age
    straddles 18 (born 2006, photo in 2024: 17 or 18). Use it to pick a child or adult calibration; None means
    use the conservative one."""
    birth = born if isinstance(born, Birth) or born is None else parse_born(born)
    day = parse_date(when) if isinstance(when, str) else when
    age = age_at(birth, day)
    if age is None or age.low < 0:
        return None
    if age.high < ADULT:
        return True
    if age.low >= ADULT:
        return False
    return None


def years_between(a: date | None, b: date | None) -> float | None:
    """Years from `a` to `b` (negative when `b` is earlier), to one decimal."""
    if a is None or b is None:
        return None
    return round((b - a).days / 365.25, 1)


def metadata_date(metadata: dict[str, Any] | None, media_type: str = "image") -> ItemDate:
    """The date an item's stored metadata gives: EXIF capture time for photos, creation time for videos."""
    metadata = metadata or {}
    odd = []
    exif = metadata.get("exif") or {}
    for tag, source in _EXIF_DATES:
        if tag in exif:
            day = parse_date(exif[tag])
            if day is not None:
                return ItemDate(day.isoformat(), source)
            odd.append(f"{tag} {str(exif[tag])[:40]!r} is not a date")
    created = metadata.get("creation_time")
    if created:
        day = parse_date(created)
        if day is not None:
            return ItemDate(day.isoformat(), "video creation time")
        odd.append(f"creation time {str(created)[:40]!r} is not a date")
    what = "video has no creation time" if media_type == "video" else "no EXIF date"
    return ItemDate(None, "none", "; ".join(odd) or f"{what}: give one with `osint date ITEM YYYY-MM-DD`")


def item_date(case: Any, sha256: str, item: Any = None, given: dict[str, Any] | None = None,
              posts: dict[str, Any] | None = None) -> ItemDate:
    """An item's date in a case: the date a person gave (`osint date`) first, else its metadata's, else the
    date it was first posted where `osint capture` found it (the photo is at least that old). `item` and
    `given` (its DATE_RECORD, {} for none) and `posts` (capture.item_posts) save the look-ups when the caller
    has read them already."""
    given = case.record(DATE_RECORD, sha256) if given is None else given
    if given and given.get("date"):
        what = given.get("what") or "date given"
        return ItemDate(given["date"], f"{what} (given by {given.get('by', '?')})")
    item = item or case.item(sha256)
    metadata = item.metadata
    if item.media_type == "video" and "creation_time" not in metadata:   # ingested before creation times were read
        from osint.media import creation_time

        metadata = {**metadata, "creation_time": creation_time(case.object_path(sha256))}
    found = metadata_date(metadata, item.media_type)
    if found.date is None:
        from osint.capture import item_posts

        post = (item_posts(case) if posts is None else posts).get(sha256)
        if post is not None and post.first_date:
            return ItemDate(post.first_date[:10], f"post date of {post.first_url} (osint capture; taken on or before)")
    return found


def set_item_date(case: Any, sha256: str, when: str, *, what: str = "date given", actor: str | None = None) -> dict[str, Any]:
    """Record the date a person gives for an item (e.g. the post date) as a custody-logged record; it then wins
    over EXIF. Raises ValueError for a date that is not YYYY-MM-DD or lies in the future."""
    from osint.case import default_actor

    day = parse_date(when)
    if day is None or not re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", when):
        raise ValueError(f"{when!r} is not a date (YYYY-MM-DD)")
    if day > datetime.now(timezone.utc).date():
        raise ValueError(f"{day} is in the future")
    actor = actor or default_actor()
    data = {"sha256": sha256, "date": day.isoformat(), "what": what, "by": actor}
    case.put_record(DATE_RECORD, sha256, data, action="date:set", actor=actor, inputs={"sha256": sha256},
                    details={"date": data["date"], "what": what})
    return data


def clear_item_date(case: Any, sha256: str, actor: str | None = None) -> bool:
    """Remove a given date (the item's own metadata counts again); logged. False when none was given."""
    return bool(case.delete_record(DATE_RECORD, sha256, action="date:clear", actor=actor))


def age_gap(born: str | None, reference: ItemDate, found: ItemDate, *, today: date | None = None) -> AgeGap:
    """Ages of a person born `born` in a reference photo and a found photo, the years between, and flags."""
    today = today or datetime.now(timezone.utc).date()
    flags: list[str] = []
    birth = parse_born(born)
    if born and birth is None:
        flags.append(f"birth {born!r} is not a year or date: no ages")
    if birth is not None and birth.year > today.year:
        flags.append(f"birth year {birth.year} is in the future: check the reference person's --born")
        birth = None
    ref_day, found_day = reference.day, found.day
    for label, day in (("reference photo", ref_day), ("found photo", found_day)):
        if day is not None and day > today:
            flags.append(f"{label} dated {day} is in the future: its clock or date is wrong")
    age_ref, age_found = age_at(birth, ref_day), age_at(birth, found_day)
    for label, age, day in (("reference photo", age_ref, ref_day), ("found photo", age_found, found_day)):
        if age is not None and age.high < 0:
            flags.append(f"{label} dated {day} is before the birth ({birth}): a date or the birth year is wrong")
    gap = years_between(ref_day, found_day)
    if gap is not None and found_day is not None and ref_day is not None and found_day < ref_day:
        flags.append(f"found photo ({found_day}) is dated before the reference photo ({ref_day})")
    if age_found is not None and age_found.low >= ADULT:
        flags.append(f"age {age_found} in the found photo: an adult, where a child is searched")
    return AgeGap(str(birth) if birth else born, reference, found, age_ref, age_found, gap, tuple(flags))


def dated(candidates: list[Any], born: dict[str, str | None], date_of: Callable[[str, str], ItemDate]) -> list[Any]:
    """Match candidates with `ages` filled in: each person's age in the reference and the found photo, from
    `born` (person -> --born) and `date_of(item, media_type)`, asked once per item."""
    from dataclasses import replace

    dates: dict[str, ItemDate] = {}

    def when(face: Any) -> ItemDate:
        if face.item not in dates:
            dates[face.item] = date_of(face.item, face.media_type)
        return dates[face.item]

    today = datetime.now(timezone.utc).date()
    gaps: dict[tuple[str, str, str], AgeGap] = {}

    def gap(c: Any) -> AgeGap:
        key = (c.person, c.reference.item, c.face.item)
        if key not in gaps:
            gaps[key] = age_gap(born.get(c.person), when(c.reference), when(c.face), today=today)
        return gaps[key]

    return [replace(c, ages=gap(c)) for c in candidates]


def case_dated(case: Any, candidates: list[Any]) -> list[Any]:
    """`dated` for a case: births from the person records, dates from `item_date` (records, items and captures
    read once for all candidates, not once per item)."""
    from osint.capture import item_posts

    born = {pid: (rec or {}).get("born") for pid, rec in case.records("person").items()}
    given = case.records(DATE_RECORD)                               # one read each, not one per item
    shas = {c.face.item for c in candidates} | {c.reference.item for c in candidates}
    items = {it.sha256: it for it in case.items(role=None)} if len(shas) > 200 else {}
    posts = item_posts(case) if candidates else {}
    return dated(candidates, born, lambda sha, _media: item_date(case, sha, items.get(sha), given.get(sha, {}), posts))


def file_date(path: str, media_type: str = "image") -> ItemDate:
    """A file's own date outside a case (EXIF, or a video's creation time); never raises."""
    from osint.media import creation_time, read_exif

    try:
        exif = read_exif(Path(path))[0] if media_type == "image" else {}
    except OSError as exc:
        return ItemDate(None, "none", f"unreadable: {exc.strerror or exc}")
    return metadata_date({"exif": exif, "creation_time": creation_time(path) if media_type == "video" else None},
                         media_type)


def under_18_at_reference(case: Any, person: str, reference_sha256: str) -> bool | None:
    """Was reference person `person` under 18 in their reference photo `reference_sha256`? (None: unknown.)"""
    rec = case.record("person", person) or {}
    return under_18(rec.get("born"), item_date(case, reference_sha256).day)
